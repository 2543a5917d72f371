// Issue 25 through the TypeScript SDK against the live server (acceptance 4): a quota refusal
// is a QuotaExceededError (a PermissionDeniedError, never retried) with its details, a rate-limit
// refusal a RateLimitError when retries are off, and with retries on, the retry after the 429's
// Retry-After succeeds once the bucket has refilled. Python's twin: tests/test_limits_sdk.py.

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { Cubby, PermissionDeniedError, QuotaExceededError, RateLimitError } from 'cubby-client'

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('limits: QuotaExceededError, RateLimitError, and the retry after a 429 succeeds', async () => {
  const { workspace } = await client.workspaces.create({ name: 'Limits', slug: uniqueSlug('limits') })
  const { limits } = await client.workspaces.setLimits(workspace.id, { maxKeys: 1, requestsPerSecond: 0.5, burst: 1 })
  assert.equal(limits.maxKeys, 1)
  assert.deepEqual(await client.workspaces.getLimits(workspace.id), { limits })
  const put = (c: Cubby, key: string) =>
    c.actions.execute('kv-store', 'put', { workspaceId: workspace.id, endUserId: 'u', input: { key, value: 1 } })

  await put(client, 'a') // the bucket's one token
  await assert.rejects(put(client.withOptions({ maxRetries: 0 }), 'b'), (e: unknown) => {
    assert.ok(e instanceof RateLimitError)
    assert.equal(e.status, 429)
    assert.equal(e.code, 'RATE_LIMITED')
    assert.equal(e.details['limit'], 0.5)
    assert.ok([1, 2].includes(e.details['retryAfter'] as number))
    return true
  })

  await sleep(2100)
  await assert.rejects(put(client, 'b'), (e: unknown) => {
    assert.ok(e instanceof QuotaExceededError)
    assert.ok(e instanceof PermissionDeniedError)
    assert.deepEqual(e.details, { limit: 1, used: 1, requested: 1, scope: 'workspace', resource: 'keys' })
    return true
  })

  // the bucket is empty now: the next call gets a 429, waits its Retry-After, then succeeds
  const started = Date.now()
  await put(client, 'a')
  assert.ok(Date.now() - started >= 900)
  assert.equal((await client.workspaces.usage(workspace.id)).usage.keys, 1)
})
