// client.mcpServers against the live server: every method, and the tokens it hands out work
// (or stop working) on the server's MCP endpoint.

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { BadRequestError, Cubby, NotFoundError } from 'cubby-client'

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

/** The status of an MCP `initialize` on `endpoint` with `token`. */
async function initialize(endpoint: string, token: string): Promise<number> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'ts-test', version: '1' } },
    }),
  })
  await response.arrayBuffer()
  return response.status
}

test('servers: create, list, get, update, delete; tokens; tools', async () => {
  const { workspace } = await client.workspaces.create({ name: 'MCP', slug: uniqueSlug('mcp') })
  await client.workspaces.addIntegration(workspace.id, {
    integrationName: 'kv-store',
    alias: 'state',
    settings: { persistence: { scope: 'workspace' } },
  })
  const created = await client.mcpServers.create({
    name: 'agent tools',
    workspaceId: workspace.id,
    description: 'for the agent',
  })
  const id = created.server.id
  assert.equal(created.server.name, 'agent tools')
  assert.equal(created.server.workspaceId, workspace.id)
  assert.match(created.mcpEndpoint, /\/mcp\/srv_/)
  assert.equal(await initialize(created.mcpEndpoint, created.bearerToken), 200)

  const listed = await client.mcpServers.list({ workspaceId: workspace.id })
  assert.deepEqual(
    listed.servers.map((s) => s.id),
    [id],
  )
  assert.equal(listed.total, 1)

  const fetched = await client.mcpServers.get(id)
  assert.equal(fetched.server.id, id)
  assert.ok(fetched.tools.some((t) => t.integrationAlias === 'state' && t.actionName === 'get'))

  const updated = await client.mcpServers.update(id, { name: 'renamed', description: null })
  assert.equal(updated.server.name, 'renamed')
  assert.equal(updated.server.description, null)

  const regenerated = await client.mcpServers.regenerateToken(id)
  assert.notEqual(regenerated.bearerToken, created.bearerToken)
  assert.equal(await initialize(regenerated.mcpEndpoint, created.bearerToken), 401)
  assert.equal(await initialize(regenerated.mcpEndpoint, regenerated.bearerToken), 200)

  const access = await client.mcpServers.createAccessToken(id, { endUserId: 'alice', expiresIn: 3600 })
  assert.equal(access.accessToken, access.bearerToken)
  assert.equal(access.token.endUserId, 'alice')
  assert.equal(await initialize(access.mcpEndpoint, access.accessToken), 200)
  const oauth = await client.mcpServers.createOAuthToken(id, { endUserId: 'bob' })
  assert.equal(oauth.token.endUserId, 'bob')
  const tokens = await client.mcpServers.listAccessTokens(id)
  const ids = tokens.tokens.map((t) => t.id)
  assert.ok(ids.includes(access.token.id) && ids.includes(oauth.token.id), String(ids))
  assert.deepEqual(await client.mcpServers.revokeAccessToken(id, access.token.id), {
    deleted: true,
    id: access.token.id,
  })
  assert.equal(await initialize(access.mcpEndpoint, access.accessToken), 401)

  const { tool } = await client.mcpServers.addTool(id, {
    integrationName: 'kv-store',
    actionName: 'put',
    integrationAlias: 'state',
    displayName: 'Remember',
    inputDefaults: { key: 'memo' },
  })
  assert.equal(tool.displayName, 'Remember')
  const changed = await client.mcpServers.updateTool(id, tool.id, { description: 'store a memo' })
  assert.equal(changed.tool.description, 'store a memo')
  assert.deepEqual(await client.mcpServers.removeTool(id, tool.id), { deleted: true, id: tool.id })

  assert.deepEqual(await client.mcpServers.delete(id), { deleted: true, id })
  await assert.rejects(client.mcpServers.get(id), (e: unknown) => e instanceof NotFoundError && e.status === 404)
})

test('servers: unsupported modes are a 400', async () => {
  const { workspace } = await client.workspaces.create({ name: 'MCP2', slug: uniqueSlug('mcp') })
  await assert.rejects(
    client.mcpServers.create({ name: 'code', workspaceId: workspace.id, mode: 'CODE' as 'TOOLS' }), // not a typed mode
    (e: unknown) => e instanceof BadRequestError && e.status === 400,
  )
})
