// src/generated/api.ts must be what scripts/gen-types.mjs makes from the live server's
// /openapi.json: the SDK's types are the server's declarations, never a second copy.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pathToFileURL } from 'node:url'

import { liveServer, PACKAGE_DIR, type LiveServer } from './support/server.js'

interface Generator {
  renderTypes(doc: unknown): string
  OUTPUT: string
}

let server: LiveServer
before(async () => {
  server = await liveServer()
})
after(async () => {
  await server.stop()
})

test('the generated types match the server /openapi.json (else: npm run gen)', async () => {
  const gen = (await import(pathToFileURL(join(PACKAGE_DIR, 'scripts', 'gen-types.mjs')).href)) as Generator
  const doc = await (await fetch(`${server.baseUrl}/openapi.json`)).json()
  const fresh = gen.renderTypes(doc)
  const onDisk = readFileSync(gen.OUTPUT, 'utf8')
  assert.ok(
    fresh === onDisk,
    'src/generated/api.ts is stale: run `npm run gen` in sdk/typescript and commit the result',
  )
})

test('every registered action of the catalog is typed', async () => {
  const gen = (await import(pathToFileURL(join(PACKAGE_DIR, 'scripts', 'gen-types.mjs')).href)) as {
    builtinActions(doc: unknown): Map<string, Array<{ action: string }>>
  }
  const doc = await (await fetch(`${server.baseUrl}/openapi.json`)).json()
  const catalog = await (
    await fetch(`${server.baseUrl}/api/v1/integrations`, {
      headers: { Authorization: `Bearer ${server.apiKey}` },
    })
  ).json()
  const typed = gen.builtinActions(doc)
  for (const integration of catalog.integrations as Array<{ name: string; actions: Record<string, unknown> }>) {
    const actions = (typed.get(integration.name) ?? []).map((a) => a.action).sort()
    assert.deepEqual(actions, Object.keys(integration.actions).sort(), integration.name)
  }
})
