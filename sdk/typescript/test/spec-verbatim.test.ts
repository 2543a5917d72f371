// test/spec-examples.test.ts holds the product page's TypeScript examples verbatim: each "TypeScript
// SDK" tab after its import and client lines, and each plain-fetch "TypeScript" tab whole, must
// appear in it (whitespace aside: the page's text is flattened).
//
// The page is spec/storage-and-kv-store.sdk-examples.txt of the shared folder beside the repo (as
// CI lays it out), or $CUBBY_SPEC_DIR. Without it (a plain clone) the check still runs, against
// test/fixtures/spec-typescript-examples.json: the page's TypeScript tabs, kept in the repo. When
// the page is there, the fixture must hold exactly its tabs, so it cannot go stale unnoticed.

import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { PACKAGE_DIR, REPO_DIR } from './support/server.js'

const NAME = 'storage-and-kv-store.sdk-examples.txt'
const FIXTURE = join(PACKAGE_DIR, 'test', 'fixtures', 'spec-typescript-examples.json')
const candidates = [process.env['CUBBY_SPEC_DIR'], join(REPO_DIR, '..', 'shared', 'spec')].filter(
  (dir): dir is string => Boolean(dir),
)
const page = candidates.map((dir) => join(dir, NAME)).find((path) => existsSync(path))
const squeeze = (text: string) => text.replace(/\s+/g, '')

interface Tabs {
  sdk: string[]
  fetch: string[]
}

/** The page's TypeScript tabs: the SDK ones (from their import) and the plain-fetch ones. */
function tabsOf(spec: string): Tabs {
  const sdk = [...spec.matchAll(/(import \{ WeavzClient \} from '@weavz\/sdk'[\s\S]*?)(?= from weavz_sdk import)/g)]
  const fetch = [...spec.matchAll(/((?:const res = await fetch|const headers = \{)[\s\S]*?)(?= import httpx)/g)]
  return { sdk: sdk.map((m) => m[1]!), fetch: fetch.map((m) => m[1]!) }
}

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Tabs

test('the fixture holds the product page\'s TypeScript tabs', (t) => {
  if (!page) {
    t.diagnostic(`no ${NAME} in ${candidates.join(' or ')}: checking against the fixture only`)
    return
  }
  assert.deepEqual(tabsOf(readFileSync(page, 'utf8')), { sdk: fixture.sdk, fetch: fixture.fetch })
})

test('every TypeScript example of the product page is in spec-examples.test.ts', (t) => {
  const tabs = page ? tabsOf(readFileSync(page, 'utf8')) : fixture
  t.diagnostic(`examples from ${page ?? FIXTURE}`)
  const tests = squeeze(readFileSync(join(PACKAGE_DIR, 'test', 'spec-examples.test.ts'), 'utf8'))
  const importLine = "import { WeavzClient } from '@weavz/sdk'"
  const construction = "const client = new WeavzClient ({ apiKey: 'wvz_your_api_key' })"
  assert.equal(tabs.sdk.length, 12)
  for (const example of tabs.sdk) {
    const [before, body] = example.slice(importLine.length).split(construction)
    assert.equal(squeeze(before!), '', 'the client line follows the import')
    assert.ok(tests.includes(squeeze(body!)), `missing or changed:\n${body}`)
  }
  assert.equal(tabs.fetch.length, 11)
  for (const example of tabs.fetch) assert.ok(tests.includes(squeeze(example)), `missing or changed:\n${example}`)
})
