// Every TypeScript example of the product page (spec/storage-and-kv-store.sdk-examples.txt):
// the "TypeScript SDK" tabs and the plain-`fetch` "TypeScript" tabs, in the page's order.
//
// The examples are verbatim but for two lines each: the import (`'cubby-client'` instead of
// `'@weavz/sdk'`, once at the top) and the client construction (`new WeavzClient({ apiKey,
// baseUrl })`, pointing at the live cubby server this run started). The `fetch` tabs are left
// untouched: `asWeavz` points their `https://api.weavz.io` host and placeholder key at that
// server while they run. The spec's workspace id exists there (seeded with that id). The
// caching example's Slack call is answered by a stub `fetch` given to that client, since cubby
// has no Slack integration. Between examples, "arrange" and "check" lines use a second client.
//
// `tsc --strict --noEmit` type-checks this file (npm run typecheck), so e.g.
// `cached.output?.value` must compile as the page writes it.

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { WeavzClient } from 'cubby-client'

import { liveServer, seedWorkspace, type LiveServer } from './support/server.js'

const workspaceId = '550e8400-e29b-41d4-a716-446655440000'
const customerId = 'cust_123'
const csvData = 'name,amount\nAlice,100\nBob,200'

let server: LiveServer
let apiKey: string
let baseUrl: string
let admin: WeavzClient

before(async () => {
  server = await liveServer()
  ;({ apiKey, baseUrl } = server)
  await seedWorkspace(server, workspaceId, 'spec-examples')
  admin = new WeavzClient({ apiKey, baseUrl })
})

after(async () => {
  await server.stop()
})

/** Leave exactly the integrations (by alias) of the page's setup step, or none. */
async function resetIntegrations(keepSetup: boolean): Promise<void> {
  const { integrations } = await admin.workspaces.listIntegrations(workspaceId)
  for (const integration of integrations) {
    await admin.workspaces.removeIntegration(workspaceId, integration.id)
  }
  if (!keepSetup) return
  for (const [integrationName, alias] of [
    ['storage', 'files'],
    ['kv-store', 'state'],
  ] as const) {
    await admin.workspaces.addIntegration(workspaceId, {
      integrationName,
      alias,
      settings: { persistence: { scope: 'workspace' } },
    })
  }
}

/** Run a plain-fetch example with its Weavz host and placeholder key pointed at cubby. */
async function asWeavz(example: () => Promise<void>): Promise<void> {
  const realFetch = globalThis.fetch
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input).replace('https://api.weavz.io', baseUrl)
    const headers = new Headers(init?.headers)
    if (headers.get('Authorization') === 'Bearer wvz_your_api_key') {
      headers.set('Authorization', `Bearer ${apiKey}`)
    }
    return realFetch(url, { ...init, headers })
  }
  try {
    await example()
  } finally {
    globalThis.fetch = realFetch
  }
}

async function integrationByAlias(alias: string) {
  const { integrations } = await admin.workspaces.listIntegrations(workspaceId)
  return integrations.find((i) => i.alias === alias)
}

test('setup: Storage and KV Store aliases with workspace persistence', async () => {
  await resetIntegrations(false)
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    const workspaceId = '550e8400-e29b-41d4-a716-446655440000'
    await client.workspaces.addIntegration(workspaceId, {
      integrationName: 'storage',
      alias: 'files',
      displayName: 'Workspace Files',
      settings: { persistence: { scope: 'workspace' } },
    })
    await client.workspaces.addIntegration(workspaceId, {
      integrationName: 'kv-store',
      alias: 'state',
      displayName: 'Workspace State',
      settings: { persistence: { scope: 'workspace' } },
    })
  }
  const { integrations } = await admin.workspaces.listIntegrations(workspaceId)
  assert.deepEqual(
    integrations.map((i) => [i.integrationName, i.alias, i.displayName, i.settings]).sort(),
    [
      ['kv-store', 'state', 'Workspace State', { persistence: { scope: 'workspace' } }],
      ['storage', 'files', 'Workspace Files', { persistence: { scope: 'workspace' } }],
    ],
  )
})

test('storage: write a file', async () => {
  await resetIntegrations(true)
  await admin.storage(workspaceId).delete('reports/monthly.json')
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    await client.actions.execute('storage', 'write_file', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      integrationAlias: 'files',
      input: {
        path: 'reports/monthly.json',
        content: '{"month": "January", "total": 1500}',
      },
    })
  }
  assert.equal(await admin.storage(workspaceId).readText('reports/monthly.json'), '{"month": "January", "total": 1500}')

  await admin.storage(workspaceId).delete('reports/monthly.json')
  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'storage',
        actionName: 'write_file',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        integrationAlias: 'files',
        input: {
          path: 'reports/monthly.json',
          content: '{"month": "January", "total": 1500}',
        },
      }),
    })
    const data = await res.json()
    assert.equal(res.status, 200)
    assert.equal(data.success, true)
    assert.equal(data.output.path, 'reports/monthly.json')
  })
  assert.equal(await admin.storage(workspaceId).readText('reports/monthly.json'), '{"month": "January", "total": 1500}')
})

test('storage: read a file', async () => {
  await resetIntegrations(true)
  await admin.storage(workspaceId).write('reports/monthly.json', '{"month": "January", "total": 1500}')
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    const result = await client.actions.execute('storage', 'read_file', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      input: {
        path: 'reports/monthly.json',
      },
    })
    assert.equal(result.output.content, '{"month": "January", "total": 1500}')
    assert.equal(result.output.encoding, 'utf8')
  }
  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'storage',
        actionName: 'read_file',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        input: { path: 'reports/monthly.json' },
      }),
    })
    const data = await res.json()
    assert.equal(data.output.content, '{"month": "January", "total": 1500}')
  })
})

test('storage: list files', async () => {
  await resetIntegrations(true)
  await admin.storage(workspaceId).write('reports/monthly.json', '{"month": "January", "total": 1500}')
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    const result = await client.actions.execute('storage', 'list_files', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      input: { prefix: 'reports/' },
    })
    assert.ok(result.output.files.some((f) => f.path === 'reports/monthly.json'))
    assert.ok(result.output.files.every((f) => f.path.startsWith('reports/')))
  }
  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'storage',
        actionName: 'list_files',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        input: { prefix: 'reports/' },
      }),
    })
    const data = await res.json()
    assert.ok(data.output.files.some((f: { path: string }) => f.path === 'reports/monthly.json'))
  })
})

test('kv-store: store a value', async () => {
  await resetIntegrations(true)
  await admin.kv(workspaceId).delete('last_sync_timestamp')
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    await client.actions.execute('kv-store', 'put', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      integrationAlias: 'state',
      input: {
        key: 'last_sync_timestamp',
        value: '2025-01-15T10:00:00Z',
      },
    })
  }
  assert.equal(await admin.kv(workspaceId).get('last_sync_timestamp'), '2025-01-15T10:00:00Z')

  await admin.kv(workspaceId).delete('last_sync_timestamp')
  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'kv-store',
        actionName: 'put',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        integrationAlias: 'state',
        input: {
          key: 'last_sync_timestamp',
          value: '2025-01-15T10:00:00Z',
        },
      }),
    })
    const data = await res.json()
    assert.equal(data.output.value, '2025-01-15T10:00:00Z')
  })
  assert.equal(await admin.kv(workspaceId).get('last_sync_timestamp'), '2025-01-15T10:00:00Z')
})

test('kv-store: retrieve a value', async () => {
  await resetIntegrations(true)
  await admin.kv(workspaceId).put('last_sync_timestamp', '2025-01-15T10:00:00Z')
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    const result = await client.actions.execute('kv-store', 'get', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      input: { key: 'last_sync_timestamp' },
    })
    assert.equal(result.output.value, '2025-01-15T10:00:00Z')
  }
  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'kv-store',
        actionName: 'get',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        input: { key: 'last_sync_timestamp' },
      }),
    })
    const data = await res.json()
    assert.equal(data.output.value, '2025-01-15T10:00:00Z')
  })
})

test('kv-store: manage lists', async () => {
  await resetIntegrations(true)
  const kv = admin.kv(workspaceId)
  await kv.delete('processed_orders')
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    await client.actions.execute('kv-store', 'add_to_list', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      input: {
        key: 'processed_orders',
        value: 'order_123',
      },
    })
  }
  assert.deepEqual(await kv.get('processed_orders'), ['order_123'])
  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'kv-store',
        actionName: 'add_to_list',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        input: {
          key: 'processed_orders',
          value: 'order_123',
        },
      }),
    })
    const data = await res.json()
    assert.equal(data.output.length, 2)
  })
  assert.deepEqual(await kv.get('processed_orders'), ['order_123', 'order_123'])
})

test('persistence: shared workspace scope', async () => {
  await resetIntegrations(true)
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    await client.workspaces.addIntegration('550e8400-e29b-41d4-a716-446655440000', {
      integrationName: 'storage',
      alias: 'workspace_files',
      settings: {
        persistence: { scope: 'workspace' },
      },
    })
  }
  const added = await integrationByAlias('workspace_files')
  assert.deepEqual(added?.settings, { persistence: { scope: 'workspace' } })
  // both aliases have equal persistence settings, so they see the same files
  await admin.storage(workspaceId).write('shared/hello.txt', 'hi')
  assert.equal(await admin.storage(workspaceId, { alias: 'workspace_files' }).readText('shared/hello.txt'), 'hi')
  await admin.workspaces.removeIntegration(workspaceId, added!.id)

  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/workspaces/550e8400-e29b-41d4-a716-446655440000/integrations', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'storage',
        alias: 'workspace_files',
        settings: { persistence: { scope: 'workspace' } },
      }),
    })
    const data = await res.json()
    assert.equal(res.status, 201)
    assert.equal(data.integration.alias, 'workspace_files')
  })
  assert.ok(await integrationByAlias('workspace_files'))
})

test('persistence: custom namespace (external scope)', async () => {
  await resetIntegrations(true)
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    await client.workspaces.addIntegration('550e8400-e29b-41d4-a716-446655440000', {
      integrationName: 'kv-store',
      alias: 'tenant_kv',
      settings: {
        persistence: { scope: 'external', externalId: 'tenant_123' },
      },
    })
  }
  const added = await integrationByAlias('tenant_kv')
  assert.deepEqual(added?.settings, { persistence: { scope: 'external', externalId: 'tenant_123' } })
  // tenant_123's namespace is not the shared workspace's
  await admin.kv(workspaceId, { alias: 'tenant_kv' }).put('plan', 'pro')
  assert.equal(await admin.kv(workspaceId, { alias: 'tenant_kv' }).get('plan'), 'pro')
  assert.equal(await admin.kv(workspaceId).get('plan'), null)
  await admin.workspaces.removeIntegration(workspaceId, added!.id)

  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/workspaces/550e8400-e29b-41d4-a716-446655440000/integrations', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'kv-store',
        alias: 'tenant_kv',
        settings: { persistence: { scope: 'external', externalId: 'tenant_123' } },
      }),
    })
    const data = await res.json()
    assert.equal(res.status, 201)
    assert.deepEqual(data.integration.settings, { persistence: { scope: 'external', externalId: 'tenant_123' } })
  })
  // the data belongs to the scope, not to the alias: a new tenant_123 alias sees it again
  assert.equal(await admin.kv(workspaceId, { alias: 'tenant_kv' }).get('plan'), 'pro')
})

test('caching: check the cache, fill it on a miss', async () => {
  await resetIntegrations(true)
  const cacheKey = `cache:slack:channels:${workspaceId}`
  await admin.kv(workspaceId).delete(cacheKey)
  const slackCalls: unknown[] = []
  // cubby has no Slack integration: this client's fetch answers the Slack call itself.
  const slackStub = async (input: string, init: RequestInit): Promise<Response> => {
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : {}
    if (body.integrationName === 'slack') {
      slackCalls.push(body)
      const output = { channels: [{ id: 'C1', name: 'general' }] }
      return new Response(JSON.stringify({ success: true, output, duration: 1 }), {
        headers: { 'Content-Type': 'application/json' },
      })
    }
    return fetch(input, init)
  }
  for (const run of ['miss', 'hit']) {
    const client = new WeavzClient({ apiKey, baseUrl, fetch: slackStub })
    const cached = await client.actions.execute('kv-store', 'get', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      integrationAlias: 'state',
      input: { key: `cache:slack:channels:${workspaceId}` },
    })
    if (!cached.output?.value) {
      const channels = await client.actions.execute('slack', 'list_channels', {
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        integrationAlias: 'slack_bot',
        input: {},
      })
      await client.actions.execute('kv-store', 'put', {
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        integrationAlias: 'state',
        input: {
          key: `cache:slack:channels:${workspaceId}`,
          value: JSON.stringify(channels.output),
        },
      })
    }
    assert.equal(slackCalls.length, 1, run)
  }
  assert.deepEqual(JSON.parse(String(await admin.kv(workspaceId).get(cacheKey))), {
    channels: [{ id: 'C1', name: 'general' }],
  })

  await asWeavz(async () => {
    const headers = {
      'Authorization': 'Bearer wvz_your_api_key',
      'Content-Type': 'application/json',
    }
    const cacheRes = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers,
      body: JSON.stringify({
        integrationName: 'kv-store',
        actionName: 'get',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        integrationAlias: 'state',
        input: { key: `cache:slack:channels:${workspaceId}` },
      }),
    })
    const cached = await cacheRes.json()
    assert.equal(typeof cached.output.value, 'string')
  })
})

test('workflow state: track a sync', async () => {
  await resetIntegrations(true)
  await admin.kv(workspaceId).delete('sync:cust_123:status')
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    await client.actions.execute('kv-store', 'put', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      input: {
        key: `sync:${customerId}:status`,
        value: 'in_progress',
      },
    })
  }
  assert.equal(await admin.kv(workspaceId).get('sync:cust_123:status'), 'in_progress')
  await admin.kv(workspaceId).delete('sync:cust_123:status')
  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'kv-store',
        actionName: 'put',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        input: {
          key: `sync:${customerId}:status`,
          value: 'in_progress',
        },
      }),
    })
    const data = await res.json()
    assert.equal(data.output.value, 'in_progress')
  })
  assert.equal(await admin.kv(workspaceId).get('sync:cust_123:status'), 'in_progress')
})

test('reports: store a generated CSV', async () => {
  await resetIntegrations(true)
  const files = admin.storage(workspaceId)
  await files.delete('exports/cust_123/report-2025-01.csv')
  {
    const client = new WeavzClient({ apiKey, baseUrl })
    await client.actions.execute('storage', 'write_file', {
      workspaceId: '550e8400-e29b-41d4-a716-446655440000',
      input: {
        path: `exports/${customerId}/report-2025-01.csv`,
        content: csvData,
      },
    })
  }
  assert.equal(await files.readText('exports/cust_123/report-2025-01.csv'), csvData)
  await files.delete('exports/cust_123/report-2025-01.csv')
  await asWeavz(async () => {
    const res = await fetch('https://api.weavz.io/api/v1/actions/execute', {
      method: 'POST',
      headers: {
        'Authorization': 'Bearer wvz_your_api_key',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        integrationName: 'storage',
        actionName: 'write_file',
        workspaceId: '550e8400-e29b-41d4-a716-446655440000',
        input: {
          path: `exports/${customerId}/report-2025-01.csv`,
          content: csvData,
        },
      }),
    })
    const data = await res.json()
    assert.equal(data.output.contentType.split(';')[0], 'text/csv')
  })
  assert.equal(await files.readText('exports/cust_123/report-2025-01.csv'), csvData)
})
