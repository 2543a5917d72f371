/**
 * The (workspace, alias, end user) a `storage()`, `kv()`, `memory()`, `scratchpad()` or `thinking()`
 * handle sends its actions to.
 */

import type { APIClient, RequestOptions } from './core.js'
import type { BuiltinActions } from './generated/api.js'
import { executeCall, type ExecuteResult } from './resources/actions.js'

export interface TargetOptions {
  /** The workspace integration's alias; `null`: the only integration of its kind. */
  alias?: string | null | undefined
  /** Whose data, when the integration's scope is `end_user` (the default scope). */
  endUserId?: string | undefined
}

/**
 * Actions that change nothing. Every other action of the friendly layer gets a fresh
 * idempotency key per call (the same on each of its retries), so the client's retries after a
 * 5xx or a lost connection can never apply a write twice.
 */
export const READ_ONLY_ACTIONS: ReadonlySet<string> = new Set([
  'get',
  'list_keys',
  'read_file',
  'list_files',
  'get_download_url',
  // agent-memory, agent-scratchpad, sequential-thinking
  'search',
  'read_graph',
  'get_entity',
  'read_page',
  'list_pages',
  'search_pages',
  'get_chain',
  'summarize_chain',
])

/** A random key (UUID v4 where the platform has `crypto.randomUUID`). */
export function newIdempotencyKey(): string {
  const crypto = (globalThis as { crypto?: Partial<Crypto> }).crypto
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID()
  const bytes = new Uint8Array(16)
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes)
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export class Target<I extends keyof BuiltinActions> {
  constructor(
    readonly integrationName: I,
    readonly workspaceId: string,
    readonly alias: string | null,
    readonly endUserId: string | undefined,
  ) {}

  /** Run `action` with `input`; the action's output (writes carry a new idempotency key). */
  async run<A extends keyof BuiltinActions[I] & string>(
    client: APIClient,
    action: A,
    input: BuiltinActions[I][A] extends { input: infer In } ? In : never,
    options: RequestOptions,
  ): Promise<BuiltinActions[I][A] extends { output: infer Out } ? Out : never> {
    const call = executeCall(this.integrationName, action, {
      workspaceId: this.workspaceId,
      integrationAlias: this.alias ?? undefined,
      endUserId: this.endUserId,
      idempotencyKey: READ_ONLY_ACTIONS.has(action) ? undefined : newIdempotencyKey(),
      input,
    })
    const result = await client.send<ExecuteResult<never>>(call, options)
    return result.output
  }

  toString(): string {
    const parts = [`workspaceId=${this.workspaceId}`, `alias=${this.alias}`]
    if (this.endUserId !== undefined) parts.push(`endUserId=${this.endUserId}`)
    return parts.join(', ')
  }
}

/** Split per-call request options from a method's own options. */
export function requestOptions(options: RequestOptions): RequestOptions {
  const { timeout, signal, maxRetries, headers } = options
  return { timeout, signal, maxRetries, headers }
}
