// The agent-tool helpers, `client.memory()`, `client.scratchpad()` and `client.thinking()`,
// against the live server: outputs, failure reasons, paging, end-user isolation, concurrent
// appends; and on the wire: reads carry no idempotency key, every write a fresh one.

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { BadRequestError, Cubby, PayloadTooLargeError } from 'cubby-client'

import { liveServer, uniqueSlug, type LiveServer } from './support/server.js'

let server: LiveServer
let client: Cubby
before(async () => {
  server = await liveServer()
  client = new Cubby({ apiKey: server.apiKey, baseUrl: server.baseUrl })
})
after(async () => {
  await server.stop()
})

const SHARED = { persistence: { scope: 'workspace' as const } }

/** A workspace with `memory`, `scratchpad` and `thinking` shared by the workspace, and `mine`
 * (agent-memory, per end user). */
async function workspace(prefix: string): Promise<string> {
  const { workspace } = await client.workspaces.create({ name: prefix, slug: uniqueSlug(prefix) })
  for (const [integrationName, alias] of [
    ['agent-memory', 'memory'],
    ['agent-scratchpad', 'scratchpad'],
    ['sequential-thinking', 'thinking'],
  ] as const) {
    await client.workspaces.addIntegration(workspace.id, { integrationName, alias, settings: SHARED })
  }
  await client.workspaces.addIntegration(workspace.id, { integrationName: 'agent-memory', alias: 'mine' })
  return workspace.id
}

async function reason(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call
  } catch (err) {
    assert.ok(err instanceof BadRequestError, String(err))
    return err.reason
  }
  assert.fail('the call succeeded')
}

describe('memory()', () => {
  test('entities, observations, relations, search and paging', async () => {
    const ws = await workspace('memory')
    const memory = client.memory(ws)
    const made = await memory.createEntities([
      { name: 'Alice', type: 'person', observations: ["Alice's city is Paris"] },
      { name: 'Acme', type: 'company' },
    ])
    assert.deepEqual(
      made.entities.map((e) => e.name),
      ['Alice', 'Acme'],
    )
    assert.deepEqual((await memory.createEntities([{ name: 'Alice', type: 'robot' }])).existing, ['Alice'])
    assert.deepEqual(await memory.addObservations('Alice', ['likes tea', 'likes tea']), ['likes tea'])
    assert.equal(await memory.relate('Alice', 'Acme', 'works_at'), true)
    assert.equal(await memory.relate('Alice', 'Acme', 'works_at'), false)
    const got = await memory.get('Alice')
    assert.deepEqual(got.entity.observations, ["Alice's city is Paris", 'likes tea'])
    assert.deepEqual(
      got.relations.map((r) => [r.from, r.to, r.type]),
      [['Alice', 'Acme', 'works_at']],
    )
    const found = await memory.search('alice PARI')
    assert.deepEqual(
      found.entities.map((e) => e.name),
      ['Alice'],
    )
    assert.equal(await reason(memory.get('Nobody')), 'ENTITY_NOT_FOUND')
    assert.equal(await reason(memory.addObservations('Nobody', ['x'])), 'ENTITY_NOT_FOUND')

    await memory.createEntities(Array.from({ length: 25 }, (_, i) => ({ name: `n${String(i).padStart(2, '0')}`, type: 't' })))
    const names: string[] = []
    for await (const entity of memory.entities({ pageSize: 7 })) names.push(entity.name)
    assert.deepEqual(names, [...names].sort())
    assert.equal(names.length, 27)
    const first = await memory.graph({ limit: 2 })
    assert.equal(first.entities.length, 2)
    assert.ok(first.nextCursor)

    assert.equal(await memory.deleteObservations('Alice', ['likes tea', 'absent']), 1)
    assert.equal(await memory.deleteRelations([{ from: 'Alice', to: 'Acme', type: 'other' }]), 0)
    assert.equal(await memory.deleteEntities(['Acme', 'absent']), 1)
    assert.deepEqual((await memory.get('Alice')).relations, [])

    const alice = client.memory(ws, { alias: 'mine', endUserId: 'alice' })
    const bob = client.memory(ws, { alias: 'mine', endUserId: 'bob' })
    await alice.createEntities([{ name: 'secret', type: 'note' }])
    assert.deepEqual((await bob.search('secret')).entities, [])
    assert.equal((await alice.search('secret')).entities.length, 1)
  })
})

describe('scratchpad()', () => {
  test('write, append (concurrent ones all land), read, list, search, delete', async () => {
    const pad = client.scratchpad(await workspace('pad'))
    const info = await pad.write('plans/today', 'Write the report')
    assert.equal(info.size, 'Write the report'.length)
    await pad.append('plans/today', '\nand send it')
    assert.equal(await pad.read('plans/today'), 'Write the report\nand send it')
    await pad.append('log', 'é')
    assert.equal((await pad.page('log')).size, 2)
    await Promise.all(Array.from({ length: 8 }, (_, i) => pad.append('log', `[${i}]`)))
    const log = await pad.read('log')
    for (let i = 0; i < 8; i++) assert.ok(log.includes(`[${i}]`), log)
    assert.equal(log.length, 1 + 8 * 3)

    const all: string[] = []
    for await (const page of pad.pages('', { pageSize: 1 })) all.push(page.pageName)
    assert.deepEqual(all, ['log', 'plans/today'])
    const under: string[] = []
    for await (const page of pad.pages('plans/')) under.push(page.pageName)
    assert.deepEqual(under, ['plans/today'])
    assert.deepEqual(
      (await pad.search('REPORT sen')).map((h) => h.pageName),
      ['plans/today'],
    )
    assert.equal(await reason(pad.read('missing')), 'PAGE_NOT_FOUND')
    assert.equal(await pad.delete('log'), true)
    assert.equal(await pad.delete('log'), false)
    assert.equal(await pad.clear(), 1)
  })
})

describe('thinking()', () => {
  test('a chain with a branch and a revision', async () => {
    const think = client.thinking(await workspace('think'))
    const first = await think.add('plan', 'Understand the problem')
    assert.equal(first.thought.thoughtId, 1)
    assert.equal(first.length, 1)
    await think.add('plan', 'Try A')
    const branched = await think.branch('plan', 2, 'b', 'Try B')
    assert.deepEqual([branched.branchName, branched.branchFrom], ['b', 2])
    const revised = await think.revise('plan', 1, 'Restate it')
    assert.deepEqual(revised.previous, ['Understand the problem'])
    const chain = await think.chain('plan')
    assert.deepEqual(
      chain.thoughts.map((t) => t.content),
      ['Restate it', 'Try A'],
    )
    const every = await think.chain('plan', { includeBranches: true })
    assert.deepEqual(
      every.thoughts.map((t) => t.thoughtId),
      [1, 2, 3],
    )
    const summary = await think.summary('plan')
    assert.deepEqual([summary.thoughtCount, summary.branchCount, summary.revisionCount], [3, 1, 1])
    assert.deepEqual((await think.chain('unknown')).thoughts, [])
    assert.equal(await reason(think.revise('plan', 99, 'x')), 'THOUGHT_NOT_FOUND')
    await assert.rejects(think.add('plan', 'x'.repeat(64 * 1024 + 1)), PayloadTooLargeError)
  })
})

describe('idempotency keys', () => {
  test('reads carry none, each write a fresh one', async () => {
    const bodies: Array<Record<string, unknown>> = []
    const fetchSpy: typeof fetch = async (input, init) => {
      bodies.push(JSON.parse(String(init?.body ?? 'null')) as Record<string, unknown>)
      return fetch(input, init)
    }
    const spied = new Cubby({ apiKey: server.apiKey, baseUrl: server.baseUrl, fetch: fetchSpy })
    const ws = await workspace('keys')
    bodies.length = 0
    await spied.memory(ws).createEntities([{ name: 'a', type: 't' }])
    await spied.memory(ws).search('a')
    await spied.scratchpad(ws).append('p', 'x')
    await spied.scratchpad(ws).read('p')
    await spied.thinking(ws).add('c', 'x')
    await spied.thinking(ws).chain('c')
    const keys = bodies.map((b) => b.idempotencyKey)
    assert.equal(keys.length, 6)
    assert.deepEqual([keys[1], keys[3], keys[5]], [undefined, undefined, undefined])
    const writes = [keys[0], keys[2], keys[4]]
    assert.ok(writes.every((k) => typeof k === 'string' && k.length > 0))
    assert.equal(new Set(writes).size, 3)
  })
})
