// The friendly layer, `client.storage()` and `client.kv()`, against the live server: a 5 MiB
// binary round trip, paging over 2,500 files, KV defaults, and every method of both.

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { BadRequestError, Cubby, decodeBase64, encodeBase64 } from 'cubby-client'

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

/** A workspace with the conventional aliases: `files` and `state`, shared by the workspace. */
async function workspace(prefix: string): Promise<string> {
  const { workspace } = await client.workspaces.create({ name: prefix, slug: uniqueSlug(prefix) })
  for (const [integrationName, alias] of [
    ['storage', 'files'],
    ['kv-store', 'state'],
  ] as const) {
    await client.workspaces.addIntegration(workspace.id, {
      integrationName,
      alias,
      settings: { persistence: { scope: 'workspace' } },
    })
  }
  return workspace.id
}

/** Deterministic pseudo-random bytes (every byte value occurs). */
function bytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

describe('storage()', () => {
  test('a 5 MiB binary file round-trips byte for byte', async () => {
    const files = client.storage(await workspace('big'))
    const data = bytes(5 * 1024 * 1024)
    const info = await files.write('media/blob.bin', data, { contentType: 'application/octet-stream' })
    assert.equal(info.size, data.length)
    assert.equal(info.contentType, 'application/octet-stream')
    const back = await files.read('media/blob.bin')
    assert.equal(back.length, data.length)
    assert.ok(Buffer.from(back).equals(Buffer.from(data)), 'the bytes differ')
    // the signed URL serves the same bytes without an API key
    const url = await files.downloadUrl('media/blob.bin', { expiresInSeconds: 120 })
    const downloaded = new Uint8Array(await (await fetch(url)).arrayBuffer())
    assert.ok(Buffer.from(downloaded).equals(Buffer.from(data)))
  })

  test('list() pages over 2,500 files, sorted, each exactly once', async () => {
    const files = client.storage(await workspace('many'))
    const paths = Array.from({ length: 2500 }, (_, i) => `logs/${String(i).padStart(5, '0')}.txt`)
    let next = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < paths.length) {
          const path = paths[next++]!
          await files.write(path, path)
        }
      }),
    )
    await files.write('other/x.txt', 'not under logs/')
    const seen: string[] = []
    for await (const file of files.list('logs/', { pageSize: 300 })) seen.push(file.path)
    assert.equal(seen.length, 2500)
    assert.deepEqual(seen, paths)
    // the server's default page (1000) too, and the whole tree without a prefix
    let count = 0
    for await (const file of files.list()) {
      count += 1
      assert.equal(typeof file.etag, 'string')
    }
    assert.equal(count, 2501)
  })

  test('write text, bytes, ArrayBuffer and Blob; read, readText, delete', async () => {
    const files = client.storage(await workspace('kinds'))
    const text = await files.write('notes/héllo.txt', 'héllo ✓')
    assert.equal(text.size, new TextEncoder().encode('héllo ✓').length)
    assert.equal(await files.readText('notes/héllo.txt'), 'héllo ✓')
    assert.deepEqual(await files.read('notes/héllo.txt'), new TextEncoder().encode('héllo ✓'))

    await files.write('b/raw.bin', new Uint8Array([0, 255, 128]).buffer)
    assert.deepEqual(await files.read('b/raw.bin'), new Uint8Array([0, 255, 128]))
    const blob = new Blob(['{"a":1}'], { type: 'application/json' })
    const info = await files.write('b/data.json', blob)
    assert.equal(info.contentType, 'application/json')
    assert.equal(await files.readText('b/data.json'), '{"a":1}')
    const typed = await files.write('b/page', '<p>hi</p>', { contentType: 'text/html' })
    assert.match(typed.contentType, /^text\/html/)

    await assert.rejects(files.readText('b/raw.bin'), (e: unknown) => e instanceof BadRequestError && e.reason === 'NOT_UTF8')
    assert.equal(await files.delete('b/raw.bin'), true)
    assert.equal(await files.delete('b/raw.bin'), false)
    await assert.rejects(files.read('b/raw.bin'), (e: unknown) => e instanceof BadRequestError && e.reason === 'FILE_NOT_FOUND')
  })

  test('aliases and end users pick the data', async () => {
    const { workspace: ws } = await client.workspaces.create({ name: 'eu', slug: uniqueSlug('eu') })
    await client.workspaces.addIntegration(ws.id, { integrationName: 'storage', alias: 'private' })
    const alice = client.storage(ws.id, { alias: 'private', endUserId: 'alice' })
    const bob = client.storage(ws.id, { alias: null, endUserId: 'bob' })
    await alice.write('me.txt', 'alice')
    await bob.write('me.txt', 'bob')
    assert.equal(await alice.readText('me.txt'), 'alice')
    assert.equal(await bob.readText('me.txt'), 'bob')
    assert.match(String(alice), /alias=private, endUserId=alice/)
  })
})

describe('storage() extras', () => {
  test('move, deleteFolder, conditional and expiring writes', async () => {
    const files = client.storage(await workspace('extras'))
    const first = await files.write('drafts/a.txt', 'v1')
    await assert.rejects(
      files.write('drafts/a.txt', 'v0', { ifNoneMatch: true }),
      (e: unknown) => e instanceof BadRequestError && e.reason === 'CONFLICT',
    )
    const second = await files.write('drafts/a.txt', 'v2', { ifMatch: first.etag })
    await assert.rejects(
      files.write('drafts/a.txt', 'v3', { ifMatch: first.etag }),
      (e: unknown) => e instanceof BadRequestError && e.reason === 'CONFLICT',
    )
    assert.equal(await files.readText('drafts/a.txt'), 'v2')
    await assert.rejects(files.delete('drafts/a.txt', { ifMatch: first.etag }), BadRequestError)

    const moved = await files.move('drafts/a.txt', 'final/a.txt')
    assert.deepEqual(moved, { from: 'drafts/a.txt', to: 'final/a.txt', etag: second.etag })
    await files.write('drafts/b.txt', 'b')
    await assert.rejects(
      files.move('drafts/b.txt', 'final/a.txt'),
      (e: unknown) => e instanceof BadRequestError && e.reason === 'CONFLICT',
    )
    await files.move('drafts/b.txt', 'final/a.txt', { overwrite: true })
    assert.equal(await files.readText('final/a.txt'), 'b')
    await assert.rejects(
      files.move('drafts/none.txt', 'x.txt'),
      (e: unknown) => e instanceof BadRequestError && e.reason === 'FILE_NOT_FOUND',
    )

    await files.write('final/c.txt', 'c')
    await files.write('keep/d.txt', 'd')
    assert.equal(await files.deleteFolder('final/'), 2)
    const left: string[] = []
    for await (const file of files.list()) left.push(file.path)
    assert.deepEqual(left, ['keep/d.txt'])

    const expiring = await files.write('tmp/e.txt', 'e', { expiresInSeconds: 3600 })
    assert.ok(expiring.expiresAt && Date.parse(expiring.expiresAt) > Date.now())
    assert.equal(await files.delete('keep/d.txt', { ifMatch: (await files.write('keep/d.txt', 'd2')).etag }), true)
  })
})

describe('kv()', () => {
  test('defaults for missing keys', async () => {
    const kv = client.kv(await workspace('kv-default'))
    assert.equal(await kv.get('missing'), null)
    assert.equal(await kv.get('missing', { default: 0 }), 0)
    assert.deepEqual(await kv.get('missing', { default: { retries: 3 } }), { retries: 3 })
    const count: number = await kv.get<number, number>('missing', { default: 7 })
    assert.equal(count, 7)
    await kv.put('present', false)
    assert.equal(await kv.get('present', { default: true }), false, 'a stored false is not missing')
    await kv.put('zero', 0)
    assert.equal(await kv.get('zero', { default: 5 }), 0)
  })

  test('put, get, delete, append, remove', async () => {
    const kv = client.kv(await workspace('kv-ops'))
    await kv.put('config', { theme: 'dark', n: [1, 2, 3] })
    assert.deepEqual(await kv.get('config'), { theme: 'dark', n: [1, 2, 3] })
    assert.equal(await kv.delete('config'), true)
    assert.equal(await kv.delete('config'), false)
    assert.equal(await kv.append('queue', 'a'), 1)
    assert.equal(await kv.append('queue', { id: 2 }), 2)
    assert.equal(await kv.append('queue', 'a'), 3)
    assert.equal(await kv.remove('queue', 'a'), 2)
    assert.deepEqual(await kv.get('queue'), [{ id: 2 }])
    assert.equal(await kv.remove('queue', 'zzz'), 0)
  })

  test('versions, ifVersion, increment, keys', async () => {
    const kv = client.kv(await workspace('kv-extras'))
    assert.deepEqual(await kv.entry('doc'), { key: 'doc', value: null, version: 0, expiresAt: null })
    const created = await kv.put('doc', { n: 1 }, { ifVersion: 0 })
    assert.ok(created > 0)
    await assert.rejects(
      kv.put('doc', { n: 2 }, { ifVersion: 0 }),
      (e: unknown) => e instanceof BadRequestError && e.reason === 'CONFLICT' && e.details['currentVersion'] === created,
    )
    const entry = await kv.entry('doc')
    assert.equal(entry.version, created)
    const next = await kv.put('doc', { n: 2 }, { ifVersion: entry.version, expiresInSeconds: 600 })
    assert.ok(next > created)
    const after = await kv.entry('doc')
    assert.deepEqual(after.value, { n: 2 })
    assert.ok(after.expiresAt && Date.parse(after.expiresAt) > Date.now())
    assert.equal(await kv.append('recent', 'a', { expiresInSeconds: 60 }), 1)
    assert.ok((await kv.entry('recent')).expiresAt)
    await kv.put('label', 'text')
    await assert.rejects(kv.increment('label'), (e: unknown) => e instanceof BadRequestError && e.reason === 'NOT_A_NUMBER')
    assert.equal(await kv.increment('hits'), 1)
    assert.equal(await kv.increment('hits', 41), 42)
    assert.equal(await kv.increment('hits', -2), 40)
    for (let i = 0; i < 25; i++) await kv.put(`user:${String(i).padStart(2, '0')}`, i)
    const keys: string[] = []
    for await (const entry of kv.keys('user:', { pageSize: 10 })) keys.push(entry.key)
    assert.deepEqual(keys, Array.from({ length: 25 }, (_, i) => `user:${String(i).padStart(2, '0')}`))
  })
})

describe('base64', () => {
  test('matches the platform encoder on every length and byte', () => {
    for (let size = 0; size < 70; size++) {
      const data = bytes(size, size + 3)
      const ours = encodeBase64(data)
      assert.equal(ours, Buffer.from(data).toString('base64'), `size ${size}`)
      assert.deepEqual(decodeBase64(ours), data)
    }
    assert.deepEqual(decodeBase64('-_8'), new Uint8Array([251, 255]))
    assert.throws(() => decodeBase64('a'), TypeError)
    assert.throws(() => decodeBase64('ab!d'), TypeError)
  })
})
