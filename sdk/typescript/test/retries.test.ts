// The retry rules against a local stub server that answers 429 and 503 (and hangs, and drops
// connections): 429 always retried honouring Retry-After; 5xx and network errors only for
// idempotent requests and for execute calls with an idempotencyKey; per-call timeout and signal.

import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'

import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  ConflictError,
  Cubby,
  RateLimitError,
  RetryPolicy,
  ServerError,
  parseRetryAfter,
} from 'cubby-client'

import { freePort, json, stubServer, type StubServer } from './support/server.js'

const OK = { success: true, output: { key: 'k', value: 1 }, duration: 1 }
const stubs: StubServer[] = []
after(async () => {
  await Promise.all(stubs.map((s) => s.close()))
})

async function stub(...answers: Array<[number, Record<string, string>?]>): Promise<StubServer> {
  const server = await stubServer((_request, index, res) => {
    const [status, headers] = answers[Math.min(index, answers.length - 1)]!
    if (status === 200) json(res, 200, OK)
    else json(res, status, { error: `stub ${status}`, code: status === 429 ? 'RATE_LIMITED' : 'INTERNAL_ERROR' }, headers)
  })
  stubs.push(server)
  return server
}

function client(server: StubServer, options: ConstructorParameters<typeof Cubby>[0] = {}): Cubby {
  return new Cubby({ apiKey: 'cby_test', baseUrl: server.baseUrl, ...options })
}

const execute = (c: Cubby, extra: { idempotencyKey?: string } = {}) =>
  c.actions.execute('kv-store', 'get', { workspaceId: 'w', endUserId: 'u', input: { key: 'k' }, ...extra })

describe('429', () => {
  test('retried for a POST too, honouring Retry-After in seconds', async () => {
    const server = await stub([429, { 'Retry-After': '0.2' }], [429, { 'Retry-After': '0' }], [200])
    const started = Date.now()
    const result = await execute(client(server))
    assert.equal(result.output.value, 1)
    assert.equal(server.requests.length, 3)
    assert.ok(Date.now() - started >= 180, 'waited for Retry-After')
    assert.equal(server.requests[0]?.method, 'POST')
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer cby_test')
    assert.deepEqual(JSON.parse(server.requests[0]!.body), {
      integrationName: 'kv-store',
      actionName: 'get',
      workspaceId: 'w',
      endUserId: 'u',
      input: { key: 'k' },
    })
  })

  test('Retry-After as an HTTP date', async () => {
    const soon = new Date(Date.now() + 1000).toUTCString()
    const server = await stub([429, { 'Retry-After': soon }], [200])
    await client(server).workspaces.list()
    assert.equal(server.requests.length, 2)
  })

  test('RateLimitError once the retries run out (maxRetries + 1 attempts)', async () => {
    const server = await stub([429, { 'Retry-After': '0' }])
    await assert.rejects(client(server, { maxRetries: 3 }).workspaces.list(), (e: unknown) => {
      assert.ok(e instanceof RateLimitError)
      assert.equal(e.status, 429)
      assert.equal(e.code, 'RATE_LIMITED')
      assert.equal(e.headers.get('retry-after'), '0')
      return true
    })
    assert.equal(server.requests.length, 4)
  })

  test('maxRetries: 0 per call sends once', async () => {
    const server = await stub([429, { 'Retry-After': '0' }])
    await assert.rejects(client(server).workspaces.list({}, { maxRetries: 0 }), RateLimitError)
    assert.equal(server.requests.length, 1)
  })
})

describe('503', () => {
  test('retried for idempotent methods (GET, DELETE)', async () => {
    const get = await stub([503, { 'Retry-After': '0' }], [200])
    await client(get).workspaces.get('w')
    assert.equal(get.requests.length, 2)
    const del = await stub([503, { 'Retry-After': '0' }], [200])
    await client(del).workspaces.delete('w')
    assert.equal(del.requests.length, 2)
    assert.equal(del.requests[0]?.method, 'DELETE')
  })

  test('not retried for a POST or PATCH (it may have run)', async () => {
    const post = await stub([503], [200])
    await assert.rejects(client(post).workspaces.create({ name: 'a', slug: 'a' }), ServerError)
    assert.equal(post.requests.length, 1)
    const patch = await stub([503], [200])
    await assert.rejects(client(patch).workspaces.update('w', { name: 'b' }), ServerError)
    assert.equal(patch.requests.length, 1)
    const exec = await stub([503], [200])
    await assert.rejects(execute(client(exec)), (e: unknown) => e instanceof ServerError && e.status === 503)
    assert.equal(exec.requests.length, 1)
  })

  test('retried for an execute call with an idempotencyKey, with backoff', async () => {
    const server = await stub([503], [500], [200])
    const started = Date.now()
    const result = await execute(client(server), { idempotencyKey: 'once-1' })
    assert.equal(result.success, true)
    assert.equal(server.requests.length, 3)
    for (const request of server.requests) {
      assert.equal(JSON.parse(request.body).idempotencyKey, 'once-1')
    }
    // backoff 0.5 s then 1 s, each minus up to 25% jitter
    assert.ok(Date.now() - started >= 0.75 * 1500 - 50, `waited ${Date.now() - started} ms`)
  })

  test('409 IDEMPOTENCY_IN_PROGRESS is retried with a key, not without', async () => {
    const inProgress = async (): Promise<StubServer> => {
      const server = await stubServer((_request, index, res) => {
        if (index > 0) return json(res, 200, OK)
        const body = { error: 'still running', code: 'IDEMPOTENCY_IN_PROGRESS' }
        json(res, 409, body, { 'Retry-After': '0' })
      })
      stubs.push(server)
      return server
    }
    const keyed = await inProgress()
    await execute(client(keyed), { idempotencyKey: 'k-1' })
    assert.equal(keyed.requests.length, 2)
    const unkeyed = await inProgress()
    await assert.rejects(execute(client(unkeyed)), ConflictError)
    assert.equal(unkeyed.requests.length, 1)
  })

  test('the friendly layer keys every write (so it is retried), never a read', async () => {
    const server = await stub([503, { 'Retry-After': '0' }], [200])
    await client(server).kv('w').append('list', 1).catch(() => undefined)
    assert.equal(server.requests.length, 2)
    const [first, second] = server.requests.map((r) => JSON.parse(r.body))
    assert.equal(typeof first.idempotencyKey, 'string')
    assert.equal(first.idempotencyKey, second.idempotencyKey, 'the same key on the retry')
    assert.equal(first.actionName, 'add_to_list')
    const again = await stub([503, { 'Retry-After': '0' }], [200])
    await client(again).kv('w').append('list', 1).catch(() => undefined)
    assert.notEqual(JSON.parse(again.requests[0]!.body).idempotencyKey, first.idempotencyKey, 'a new key per call')

    const read = await stub([503, { 'Retry-After': '0' }], [200])
    await assert.rejects(client(read).kv('w').get('k'), ServerError)
    assert.equal(read.requests.length, 1)
    assert.equal(JSON.parse(read.requests[0]!.body).idempotencyKey, undefined)
  })

  test('ServerError after the retries, with the body message', async () => {
    const server = await stub([503, { 'Retry-After': '0' }])
    await assert.rejects(client(server, { maxRetries: 1 }).workspaces.list(), (e: unknown) => {
      assert.ok(e instanceof ServerError)
      assert.equal(e.message, 'stub 503')
      return true
    })
    assert.equal(server.requests.length, 2)
  })
})

describe('network errors, timeouts and aborts', () => {
  test('connection refused: APIConnectionError, retried only when idempotent', async () => {
    const port = await freePort() // nothing listens there
    let calls = 0
    const counting = (input: string, init: RequestInit) => {
      calls += 1
      return fetch(input, init)
    }
    const c = new Cubby({ apiKey: 'k', baseUrl: `http://127.0.0.1:${port}`, fetch: counting, maxRetries: 1 })
    await assert.rejects(c.workspaces.list(), (e: unknown) => {
      assert.ok(e instanceof APIConnectionError)
      assert.ok(!(e instanceof APITimeoutError))
      assert.equal(e.status, undefined)
      return true
    })
    assert.equal(calls, 2)
    calls = 0
    await assert.rejects(c.workspaces.create({ name: 'a', slug: 'a' }), APIConnectionError)
    assert.equal(calls, 1)
  })

  test('a hanging server: APITimeoutError per attempt, distinct from connection errors', async () => {
    const hang = await stubServer(() => {
      // never answers
    })
    stubs.push(hang)
    const started = Date.now()
    await assert.rejects(client(hang, { maxRetries: 0 }).workspaces.list({}, { timeout: 150 }), (e: unknown) => {
      assert.ok(e instanceof APITimeoutError)
      assert.ok(e instanceof APIConnectionError)
      assert.match(e.message, /timed out after 150 ms/)
      return true
    })
    assert.ok(Date.now() - started < 2000)
    // an idempotent call is retried after a timeout
    await assert.rejects(client(hang, { maxRetries: 1, timeout: 100 }).workspaces.get('w'), APITimeoutError)
    assert.equal(hang.requests.length, 3)
    // a POST without an idempotency key is not
    await assert.rejects(execute(client(hang, { maxRetries: 2, timeout: 100 })), APITimeoutError)
    assert.equal(hang.requests.length, 4)
  })

  test('the caller signal aborts a call and a wait between retries', async () => {
    const hang = await stubServer(() => {})
    stubs.push(hang)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    await assert.rejects(client(hang).workspaces.list({}, { signal: controller.signal }), isUserAbort)

    const limited = await stub([429, { 'Retry-After': '30' }])
    const waiting = new AbortController()
    const started = Date.now()
    setTimeout(() => waiting.abort(), 100)
    await assert.rejects(client(limited).workspaces.list({}, { signal: waiting.signal }), isUserAbort)
    assert.ok(Date.now() - started < 5000, 'the abort cut the Retry-After wait short')
    assert.equal(limited.requests.length, 1)

    const already = new AbortController()
    already.abort()
    await assert.rejects(client(limited).workspaces.list({}, { signal: already.signal }), isUserAbort)
    assert.equal(limited.requests.length, 1)
  })
})

function isUserAbort(e: unknown): boolean {
  assert.ok(e instanceof APIUserAbortError, String(e))
  return true
}

describe('the policy', () => {
  test('Retry-After parsing', () => {
    assert.equal(parseRetryAfter('3'), 3)
    assert.equal(parseRetryAfter(' 1.5 '), 1.5)
    assert.equal(parseRetryAfter(null), undefined)
    assert.equal(parseRetryAfter('soon'), undefined)
    const now = Date.parse('2026-01-01T00:00:00Z')
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10)
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0)
  })

  test('jittered exponential backoff, capped; Retry-After capped', () => {
    const top = new RetryPolicy({ random: () => 0 })
    const bottom = new RetryPolicy({ random: () => 0.999999 })
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((a) => top.delay(a, null)), [0.5, 1, 2, 4, 8, 8])
    assert.ok(Math.abs(bottom.delay(0, null) - 0.375) < 1e-3)
    assert.equal(top.delay(0, '3600'), 60)
    assert.equal(top.afterResponse(429, null, false, 0), 0.5)
    assert.equal(top.afterResponse(503, null, false, 0), undefined)
    assert.equal(top.afterResponse(503, null, true, 0), 0.5)
    assert.equal(top.afterResponse(408, null, true, 1), 1)
    assert.equal(top.afterResponse(400, null, true, 0), undefined)
    assert.equal(top.afterResponse(429, null, true, 2), undefined)
    assert.equal(top.afterError(false, 0), undefined)
    assert.equal(top.afterError(true, 0), 0.5)
  })
})
