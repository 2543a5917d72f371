// Every method of every resource against the live server, and the error class of each status
// family the API answers with (400, 401, 403, 404, 409, 413).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import {
  APIStatusError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  Cubby,
  CubbyError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  WeavzClient,
  type ExecuteResult,
  type FileContent,
  type KeyValue,
} from 'cubby-client'

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

async function newWorkspace(prefix: string): Promise<string> {
  const { workspace } = await client.workspaces.create({ name: prefix, slug: uniqueSlug(prefix) })
  return workspace.id
}

/** Assert `promise` rejects with `ErrorClass`, `status` and `code`; the error. */
async function rejects<E extends CubbyError>(
  promise: Promise<unknown>,
  ErrorClass: abstract new (...args: never[]) => E,
  status: number,
  code: string,
): Promise<E> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof ErrorClass, `expected ${ErrorClass.name}, got ${String(error)}`)
    assert.ok(error instanceof APIStatusError)
    assert.ok(error instanceof CubbyError)
    assert.equal(error.status, status)
    assert.equal(error.code, code)
    assert.equal(typeof error.message, 'string')
    assert.ok(error.message.length > 0)
    return error
  }
  assert.fail(`expected ${ErrorClass.name} (${status} ${code}), but the call succeeded`)
}

describe('client', () => {
  test('WeavzClient is Cubby; options and the environment', () => {
    assert.equal(WeavzClient, Cubby)
    const saved = { key: process.env['CUBBY_API_KEY'], url: process.env['CUBBY_BASE_URL'] }
    try {
      process.env['CUBBY_API_KEY'] = 'cby_from_env'
      process.env['CUBBY_BASE_URL'] = 'http://127.0.0.1:9/api/v1/'
      const fromEnv = new Cubby()
      assert.equal(fromEnv.apiKey, 'cby_from_env')
      assert.equal(fromEnv.baseUrl, 'http://127.0.0.1:9')
      delete process.env['CUBBY_API_KEY']
      assert.throws(() => new Cubby(), (e: unknown) => e instanceof CubbyError && /CUBBY_API_KEY/.test(e.message))
      assert.throws(() => new Cubby({ apiKey: 'k', baseUrl: 'ftp://x' }), CubbyError)
      assert.throws(() => new Cubby({ apiKey: 'k', maxRetries: -1 }), CubbyError)
    } finally {
      for (const [name, value] of [
        ['CUBBY_API_KEY', saved.key],
        ['CUBBY_BASE_URL', saved.url],
      ] as const) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }
    const tuned = client.withOptions({ timeout: 1234, maxRetries: 0 })
    assert.equal(tuned.timeout, 1234)
    assert.equal(tuned.maxRetries, 0)
    assert.equal(tuned.baseUrl, client.baseUrl)
  })

  test('request() calls any route with auth and errors', async () => {
    const health = await client.request<{ status: string }>('GET', '/health')
    assert.deepEqual(health, { status: 'healthy' })
    const listed = await client.request<{ total: number }>('get', '/api/v1/workspaces', { query: { limit: 1 } })
    assert.equal(typeof listed.total, 'number')
    await rejects(client.request('GET', '/api/v1/nothing-here'), NotFoundError, 404, 'NOT_FOUND')
    await assert.rejects(client.request('GET', 'api/v1/workspaces'), CubbyError)
    await assert.rejects(client.workspaces.get(''), CubbyError) // an empty id never changes the route
  })
})

describe('workspaces', () => {
  test('create, list, get, update, delete', async () => {
    const slug = uniqueSlug('ws')
    const { workspace } = await client.workspaces.create({ name: 'Acme', slug })
    assert.equal(workspace.slug, slug)
    assert.equal(workspace.name, 'Acme')

    const page = await client.workspaces.list({ limit: 100 })
    assert.ok(page.workspaces.some((w) => w.id === workspace.id))
    assert.ok(page.total >= 1)
    const paged = await client.workspaces.list({ limit: 1, offset: 0 })
    assert.equal(paged.workspaces.length, 1)

    assert.deepEqual((await client.workspaces.get(workspace.id)).workspace, workspace)
    const renamed = await client.workspaces.update(workspace.id, { name: 'Acme Inc' })
    assert.equal(renamed.workspace.name, 'Acme Inc')
    assert.equal(renamed.workspace.slug, slug)

    assert.deepEqual(await client.workspaces.delete(workspace.id), { deleted: true, id: workspace.id })
    await rejects(client.workspaces.get(workspace.id), NotFoundError, 404, 'NOT_FOUND')
  })

  test('errors: 409 SLUG_EXISTS, 400 VALIDATION_ERROR with details', async () => {
    const slug = uniqueSlug('dup')
    await client.workspaces.create({ name: 'One', slug })
    await rejects(client.workspaces.create({ name: 'Two', slug }), ConflictError, 409, 'SLUG_EXISTS')
    const bad = await rejects(
      client.workspaces.create({ name: 'Bad', slug: 'Not A Slug' }),
      BadRequestError,
      400,
      'VALIDATION_ERROR',
    )
    assert.equal(typeof bad.details, 'object')
    const wsId = await newWorkspace('empty-patch')
    await rejects(client.workspaces.update(wsId, {}), BadRequestError, 400, 'VALIDATION_ERROR')
  })

  test('integrations: add, list, get, update, remove', async () => {
    const wsId = await newWorkspace('wi')
    const { integration } = await client.workspaces.addIntegration(wsId, {
      integrationName: 'storage',
      alias: 'files',
      displayName: 'Workspace Files',
      settings: { persistence: { scope: 'workspace' } },
      enabledActions: ['read_file', 'write_file', 'list_files'],
    })
    assert.equal(integration.alias, 'files')
    assert.equal(integration.workspaceId, wsId)
    assert.deepEqual(integration.enabledActions, ['read_file', 'write_file', 'list_files'])

    const listed = await client.workspaces.listIntegrations(wsId)
    assert.equal(listed.total, 1)
    assert.equal(listed.integrations[0]?.id, integration.id)
    assert.deepEqual((await client.workspaces.getIntegration(wsId, integration.id)).integration, integration)

    const updated = await client.workspaces.updateIntegration(wsId, integration.id, {
      displayName: 'Files',
      sortOrder: 3,
    })
    assert.equal(updated.integration.displayName, 'Files')
    assert.equal(updated.integration.sortOrder, 3)
    assert.equal(updated.integration.alias, 'files')

    // an action outside enabledActions: 403 ACTION_NOT_ALLOWED
    await rejects(
      client.actions.execute('storage', 'delete_file', {
        workspaceId: wsId,
        integrationAlias: 'files',
        input: { path: 'a.txt' },
      }),
      PermissionDeniedError,
      403,
      'ACTION_NOT_ALLOWED',
    )

    assert.deepEqual(await client.workspaces.removeIntegration(wsId, integration.id), {
      deleted: true,
      id: integration.id,
    })
    assert.equal((await client.workspaces.listIntegrations(wsId)).total, 0)
    await rejects(client.workspaces.getIntegration(wsId, integration.id), NotFoundError, 404, 'NOT_FOUND')
  })

  test('integration errors: 409 ALIAS_CONFLICT, 404 INTEGRATION_NOT_FOUND, 400 bad settings', async () => {
    const wsId = await newWorkspace('wi-err')
    await client.workspaces.addIntegration(wsId, { integrationName: 'kv-store', alias: 'state' })
    await rejects(
      client.workspaces.addIntegration(wsId, { integrationName: 'storage', alias: 'state' }),
      ConflictError,
      409,
      'ALIAS_CONFLICT',
    )
    await rejects(
      client.workspaces.addIntegration(wsId, { integrationName: 'slack' }),
      NotFoundError,
      404,
      'INTEGRATION_NOT_FOUND',
    )
    await rejects(
      client.workspaces.addIntegration(wsId, {
        integrationName: 'kv-store',
        alias: 'tenant',
        settings: { persistence: { scope: 'external' } as { scope: 'external'; externalId: string } }, // externalId missing
      }),
      BadRequestError,
      400,
      'VALIDATION_ERROR',
    )
  })
})

describe('apiKeys', () => {
  test('create, list, delete; 401 after revoking', async () => {
    const created = await client.apiKeys.create({ name: 'ci', expiresAt: '2099-01-01T00:00:00Z' })
    assert.ok(created.plainKey.startsWith('cby_'))
    assert.equal(created.apiKey.name, 'ci')
    assert.equal(created.apiKey.keyPrefix, created.plainKey.slice(0, 8))
    const listed = await client.apiKeys.list()
    assert.ok(listed.apiKeys.some((k) => k.id === created.apiKey.id))
    assert.equal(listed.total, listed.apiKeys.length)

    const other = new Cubby({ apiKey: created.plainKey, baseUrl: server.baseUrl })
    await other.workspaces.list()
    assert.deepEqual(await client.apiKeys.delete(created.apiKey.id), { deleted: true, id: created.apiKey.id })
    // revocation reaches the server's key cache within CUBBY_KEY_CACHE_SECONDS; poll briefly
    const deadline = Date.now() + 15_000
    for (;;) {
      try {
        await other.workspaces.list()
      } catch (error) {
        assert.ok(error instanceof AuthenticationError, String(error))
        assert.equal(error.status, 401)
        assert.equal(error.code, 'UNAUTHENTICATED')
        break
      }
      assert.ok(Date.now() < deadline, 'a revoked key kept working')
      await new Promise((r) => setTimeout(r, 200))
    }
    await rejects(client.apiKeys.delete(created.apiKey.id), NotFoundError, 404, 'NOT_FOUND')
  })

  test('401 for an unknown key', async () => {
    const stranger = new Cubby({ apiKey: 'cby_not_a_real_key', baseUrl: server.baseUrl })
    await rejects(stranger.workspaces.list(), AuthenticationError, 401, 'UNAUTHENTICATED')
  })

  test('403: a workspace key outside its workspace, and managing keys', async () => {
    const mine = await newWorkspace('mine')
    const theirs = await newWorkspace('theirs')
    const created = await client.apiKeys.create({ name: 'scoped', workspaceIds: [mine] })
    assert.deepEqual(created.apiKey.permissions?.workspaceIds, [mine])
    const scoped = new Cubby({ apiKey: created.plainKey, baseUrl: server.baseUrl })
    await scoped.workspaces.get(mine)
    await rejects(scoped.workspaces.get(theirs), PermissionDeniedError, 403, 'SCOPE_DENIED')
    await rejects(
      scoped.actions.execute('kv-store', 'get', { workspaceId: theirs, endUserId: 'u', input: { key: 'k' } }),
      PermissionDeniedError,
      403,
      'SCOPE_DENIED',
    )
    await rejects(scoped.apiKeys.list(), PermissionDeniedError, 403, 'FORBIDDEN')
    await rejects(scoped.apiKeys.create({ name: 'x' }), PermissionDeniedError, 403, 'FORBIDDEN')
    await assert.rejects(
      client.apiKeys.create({ name: 'x', workspaceIds: [mine], permissions: { scope: 'workspace' } }),
      CubbyError,
    )
    await client.apiKeys.delete(created.apiKey.id)
  })
})

describe('integrations (catalog)', () => {
  test('list and get', async () => {
    const catalog = await client.integrations.list()
    assert.ok(catalog.registered.includes('storage'))
    assert.ok(catalog.registered.includes('kv-store'))
    assert.equal(catalog.total, catalog.integrations.length)
    const { integration } = await client.integrations.get('storage')
    assert.equal(integration.name, 'storage')
    assert.ok('write_file' in integration.actions)
    await rejects(client.integrations.get('slack'), NotFoundError, 404, 'INTEGRATION_NOT_FOUND')
  })
})

describe('actions.execute', () => {
  test('typed outputs for the built-ins', async () => {
    const workspaceId = await newWorkspace('exec')
    const written = await client.actions.execute('storage', 'write_file', {
      workspaceId,
      endUserId: 'user_1',
      input: { path: 'a/b.txt', content: 'hello', contentType: 'text/plain' },
    })
    assert.equal(written.success, true)
    assert.equal(written.output.size, 5)
    assert.equal(typeof written.duration, 'number')
    const read: ExecuteResult<FileContent> = await client.actions.execute('storage', 'read_file', {
      workspaceId,
      endUserId: 'user_1',
      input: { path: 'a/b.txt' },
    })
    assert.equal(read.output.content, 'hello')

    const { output } = await client.actions.execute('kv-store', 'put', {
      workspaceId,
      endUserId: 'user_1',
      input: { key: 'n', value: { deep: [1, 2] } },
    })
    const kv: KeyValue = output
    assert.deepEqual(kv.value, { deep: [1, 2] })
    // another end user sees none of it
    const cached = await client.actions.execute('kv-store', 'get', {
      workspaceId,
      endUserId: 'user_2',
      input: { key: 'n' },
    })
    assert.equal(cached.output?.value, null)
  })

  test('errors: 400 ACTION_FAILED with reason, 400 VALIDATION_ERROR, 404, 413', async () => {
    const workspaceId = await newWorkspace('exec-err')
    const failed = await rejects(
      client.actions.execute('storage', 'read_file', { workspaceId, endUserId: 'u', input: { path: 'nope.txt' } }),
      BadRequestError,
      400,
      'ACTION_FAILED',
    )
    assert.equal(failed.reason, 'FILE_NOT_FOUND')
    const missing = await rejects(
      client.actions.execute('kv-store', 'get', { workspaceId, input: { key: 'k' } }),
      BadRequestError,
      400,
      'VALIDATION_ERROR',
    )
    assert.equal(missing.details['field'], 'endUserId')
    await rejects(
      client.actions.execute('storage', 'write_file', {
        workspaceId,
        endUserId: 'u',
        input: { path: '../escape', content: 'x' },
      }),
      BadRequestError,
      400,
      'VALIDATION_ERROR',
    )
    await rejects(
      client.actions.execute('slack', 'list_channels', { workspaceId, input: {} }),
      NotFoundError,
      404,
      'INTEGRATION_NOT_FOUND',
    )
    await rejects(
      client.actions.execute('kv-store', 'nope' as 'get', { workspaceId, input: { key: 'k' } }),
      NotFoundError,
      404,
      'ACTION_NOT_FOUND',
    )
    const big = 'x'.repeat(1024 * 1024 + 16)
    await rejects(
      client.actions.execute('kv-store', 'put', { workspaceId, endUserId: 'u', input: { key: 'big', value: big } }),
      PayloadTooLargeError,
      413,
      'PAYLOAD_TOO_LARGE',
    )
    const notAList = client.kv(workspaceId, { alias: null, endUserId: 'u' })
    await notAList.put('scalar', 1)
    const e = await rejects(notAList.append('scalar', 2), BadRequestError, 400, 'ACTION_FAILED')
    assert.equal(e.reason, 'NOT_A_LIST')
  })

  test('execute sends every target field and the idempotency key', async () => {
    const workspaceId = await newWorkspace('exec-fields')
    const { integration } = await client.workspaces.addIntegration(workspaceId, {
      integrationName: 'kv-store',
      alias: 'state',
      settings: { persistence: { scope: 'workspace' } },
    })
    const byId = await client.actions.execute('kv-store', 'put', {
      workspaceId,
      workspaceIntegrationId: integration.id,
      idempotencyKey: 'put-once-1',
      input: { key: 'k', value: 1 },
    })
    assert.equal(byId.output.value, 1)
    const byAlias = await client.actions.execute('kv-store', 'get', {
      workspaceId,
      integrationAlias: 'state',
      input: { key: 'k' },
    })
    assert.equal(byAlias.output.value, 1)
    // the same key and body again: the first answer; another body: 409 IDEMPOTENCY_CONFLICT
    const append = (value: number) =>
      client.actions.execute('kv-store', 'add_to_list', {
        workspaceId,
        integrationAlias: 'state',
        idempotencyKey: 'append-once-1',
        input: { key: 'list', value },
      })
    assert.equal((await append(7)).output.length, 1)
    assert.equal((await append(7)).output.length, 1)
    await rejects(append(8), ConflictError, 409, 'IDEMPOTENCY_CONFLICT')
    assert.deepEqual(await client.kv(workspaceId).get('list'), [7])
  })
})

// Compile-time checks (never run): the built-ins are typed, others fall back to unknown.
export function typeChecks(c: Cubby, workspaceId: string): void {
  void (async () => {
    const { output } = await c.actions.execute('kv-store', 'get', { workspaceId, input: { key: 'k' } })
    const value: unknown = output.value
    void value
    const listed = await c.actions.execute('storage', 'list_files', { workspaceId })
    const paths: string[] = listed.output.files.map((f) => f.path)
    void paths
    const other = await c.actions.execute('slack', 'list_channels', { workspaceId, input: { any: 1 } })
    // @ts-expect-error the output of an integration that is not built in is unknown
    void other.output.channels
    // @ts-expect-error no such action on a built-in
    await c.actions.execute('storage', 'read_files', { workspaceId, input: { path: 'x' } })
    // @ts-expect-error input is required when it has required fields
    await c.actions.execute('storage', 'read_file', { workspaceId })
    // @ts-expect-error unknown input fields are refused (the server answers 400)
    await c.actions.execute('kv-store', 'get', { workspaceId, input: { key: 'k', extra: true } })
    // @ts-expect-error wrong field type
    await c.actions.execute('storage', 'write_file', { workspaceId, input: { path: 'x', content: 1 } })
  })
}
