// client.endUsers against the live server: every method, and erasing really removes the data.

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { ConflictError, Cubby, NotFoundError } from 'cubby-client'

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

test('end users: create, list, get, update, usage, eraseData, delete', async () => {
  const { workspace } = await client.workspaces.create({ name: 'EU', slug: uniqueSlug('eu') })
  const { endUser } = await client.endUsers.create({
    workspaceId: workspace.id,
    externalId: 'user_12345',
    displayName: 'Ada',
    metadata: { plan: 'pro' },
  })
  assert.equal(endUser.externalId, 'user_12345')
  assert.equal(endUser.workspaceId, workspace.id)
  assert.deepEqual(endUser.metadata, { plan: 'pro' })
  await assert.rejects(
    client.endUsers.create({ workspaceId: workspace.id, externalId: 'user_12345' }),
    (e: unknown) => e instanceof ConflictError && e.code === 'DUPLICATE',
  )

  const listed = await client.endUsers.list({ workspaceId: workspace.id })
  assert.deepEqual(
    listed.endUsers.map((u) => u.id),
    [endUser.id],
  )
  assert.equal(listed.total, 1)
  assert.deepEqual((await client.endUsers.get(endUser.id)).endUser, endUser)
  const updated = await client.endUsers.update(endUser.id, { email: 'ada@example.com', displayName: null })
  assert.equal(updated.endUser.email, 'ada@example.com')
  assert.equal(updated.endUser.displayName, null)

  // the end user's data: its externalId is execution's endUserId (default scope end_user)
  const files = client.storage(workspace.id, { alias: null, endUserId: 'user_12345' })
  const kv = client.kv(workspace.id, { alias: null, endUserId: 'user_12345' })
  await files.write('notes/a.txt', 'hello')
  await kv.put('k', 1)
  const { usage } = await client.endUsers.usage(endUser.id)
  assert.equal(usage.files, 1)
  assert.equal(usage.keys, 1)
  assert.equal(usage.bytes !== undefined && usage.bytes >= 5, true)

  const erased = await client.endUsers.eraseData(workspace.id, 'user_12345')
  assert.equal(erased.endUserId, 'user_12345')
  assert.equal(erased.erased.files, 1)
  assert.equal(erased.erased.keys, 1)
  assert.equal(await kv.get('k'), null)

  await kv.put('again', true)
  const deleted = await client.endUsers.delete(endUser.id, { eraseData: true })
  assert.equal(deleted.deleted, true)
  assert.equal(deleted.erased?.keys, 1)
  assert.equal(await kv.get('again'), null)
  await assert.rejects(client.endUsers.get(endUser.id), NotFoundError)

  const plain = await client.endUsers.create({ workspaceId: workspace.id, externalId: 'user_67890' })
  const gone = await client.endUsers.delete(plain.endUser.id)
  assert.deepEqual([gone.deleted, gone.id], [true, plain.endUser.id])
})
