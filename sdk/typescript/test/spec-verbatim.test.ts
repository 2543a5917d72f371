// test/spec-examples.test.ts holds the product page's TypeScript examples verbatim: each "TypeScript
// SDK" tab after its import and client lines, and each plain-fetch "TypeScript" tab whole, must
// appear in it (whitespace aside: the page's text is flattened). The page is
// spec/storage-and-kv-store.sdk-examples.txt of the shared folder beside the repo (as CI lays it
// out), or $CUBBY_SPEC_DIR.

import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { PACKAGE_DIR, REPO_DIR } from './support/server.js'

const NAME = 'storage-and-kv-store.sdk-examples.txt'
const candidates = [process.env['CUBBY_SPEC_DIR'], join(REPO_DIR, '..', 'shared', 'spec')].filter(
  (dir): dir is string => Boolean(dir),
)
const page = candidates.map((dir) => join(dir, NAME)).find((path) => existsSync(path))
const squeeze = (text: string) => text.replace(/\s+/g, '')

test('every TypeScript example of the product page is in spec-examples.test.ts', { skip: page ? false : `no ${NAME} in ${candidates.join(' or ')}` }, () => {
  const spec = readFileSync(page!, 'utf8')
  const tests = squeeze(readFileSync(join(PACKAGE_DIR, 'test', 'spec-examples.test.ts'), 'utf8'))
  const sdk = [...spec.matchAll(/import \{ WeavzClient \} from '@weavz\/sdk'([\s\S]*?)(?= from weavz_sdk import)/g)]
  const construction = "const client = new WeavzClient ({ apiKey: 'wvz_your_api_key' })"
  assert.equal(sdk.length, 12)
  for (const [, example] of sdk) {
    const [before, body] = example!.split(construction)
    assert.equal(squeeze(before!), '', 'the client line follows the import')
    assert.ok(tests.includes(squeeze(body!)), `missing or changed:\n${body}`)
  }
  const plain = [...spec.matchAll(/((?:const res = await fetch|const headers = \{)[\s\S]*?)(?= import httpx)/g)]
  assert.equal(plain.length, 11)
  for (const [, example] of plain) assert.ok(tests.includes(squeeze(example!)), `missing or changed:\n${example}`)
})
