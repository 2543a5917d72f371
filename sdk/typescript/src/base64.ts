/**
 * Base64 for bytes without `Buffer` or `atob`/`btoa` (binary strings), so the same code runs in
 * browsers, Deno, Bun, edge runtimes and Node. Files travel as base64 in action JSON.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const DECODE = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i
DECODE['-'.charCodeAt(0)] = 62 // the URL-safe alphabet decodes too
DECODE['_'.charCodeAt(0)] = 63

const CODES = new Uint8Array(64)
for (let i = 0; i < 64; i++) CODES[i] = ALPHABET.charCodeAt(i)
const PAD = '='.charCodeAt(0)

/** The standard (padded) base64 text of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  // ASCII codes into one buffer, then one decode: string concatenation is ~10x slower.
  const out = new Uint8Array(4 * Math.ceil(bytes.length / 3))
  let at = 0
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out[at++] = CODES[n >> 18]!
    out[at++] = CODES[(n >> 12) & 63]!
    out[at++] = CODES[(n >> 6) & 63]!
    out[at++] = CODES[n & 63]!
  }
  const rest = bytes.length - i
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0)
    out[at++] = CODES[n >> 18]!
    out[at++] = CODES[(n >> 12) & 63]!
    out[at++] = rest === 2 ? CODES[(n >> 6) & 63]! : PAD
    out[at++] = PAD
  }
  return new TextDecoder().decode(out)
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
