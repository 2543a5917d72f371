/**
 * Base64 for bytes without `Buffer` or `atob`/`btoa` (binary strings), so the same code runs in
 * browsers, Deno, Bun, edge runtimes and Node. Files travel as base64 in action JSON.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const DECODE = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i
DECODE['-'.charCodeAt(0)] = 62 // the URL-safe alphabet decodes too
DECODE['_'.charCodeAt(0)] = 63

/** The standard (padded) base64 text of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  const chunks: string[] = []
  const CHUNK = 3 * 16384
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK)
    let out = ''
    let i = start
    for (; i + 2 < end; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
      out +=
        ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!
    }
    if (i < end) {
      const rest = end - i
      const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0)
      out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!
      out += rest === 2 ? ALPHABET[(n >> 6) & 63]! + '=' : '=='
    }
    chunks.push(out)
  }
  return chunks.join('')
}

/** The bytes of base64 text (standard or URL-safe, padding optional, whitespace ignored). */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/[\s=]+/g, '')
  if (clean.length % 4 === 1) throw new TypeError('invalid base64: wrong length')
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4))
  let bits = 0
  let value = 0
  let at = 0
  for (let i = 0; i < clean.length; i++) {
    const code = clean.charCodeAt(i)
    const digit = code < 128 ? DECODE[code]! : -1
    if (digit < 0) throw new TypeError(`invalid base64 character at ${i}`)
    value = (value << 6) | digit
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[at++] = (value >> bits) & 0xff
    }
  }
  return at === out.length ? out : out.subarray(0, at)
}
