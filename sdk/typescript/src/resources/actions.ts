/** `client.actions.execute`: run one action of one integration in a workspace. */

import type { APIClient, Call, RequestOptions } from '../core.js'
import type { BuiltinActions, ExecuteRequest } from '../generated/api.js'

/** `storage`, `kv-store`: the integrations whose actions are typed. */
export type BuiltinIntegrationName = keyof BuiltinActions & string

/** The action names of a built-in integration; any string for other integrations. */
export type ActionName<I extends string> = I extends BuiltinIntegrationName
  ? keyof BuiltinActions[I] & string
  : string

type Entry<I extends string, A extends string> = I extends BuiltinIntegrationName
  ? A extends keyof BuiltinActions[I]
    ? BuiltinActions[I][A]
    : { input: Record<string, unknown>; output: unknown }
  : { input: Record<string, unknown>; output: unknown }

/** The input type of an action (`Record<string, unknown>` for integrations not built in). */
export type ActionInput<I extends string, A extends string> =
  Entry<I, A> extends { input: infer In } ? In : never

/** The output type of an action (`unknown` for integrations not built in). */
export type ActionOutput<I extends string, A extends string> =
  Entry<I, A> extends { output: infer Out } ? Out : never

/** Where an action runs and as whom: everything of the execute body but the names and input. */
export type ExecuteTarget = Omit<ExecuteRequest, 'integrationName' | 'actionName' | 'input'>

/** The third argument of `execute`: the target, and `input` (required when it has required fields). */
export type ExecuteParams<In> = ExecuteTarget & ({} extends In ? { input?: In } : { input: In })

/** The answer of an execution: `output` is what the action returned. */
export interface ExecuteResult<Out = unknown> {
  success: true
  output: Out
  /** Milliseconds the server spent. */
  duration: number
}

/** The `POST /api/v1/actions/execute` call (also the base of `storage()` and `kv()`). */
export function executeCall(
  integrationName: string,
  actionName: string,
  params: ExecuteTarget & { input?: unknown },
): Call {
  const { input, ...target } = params
  const body: Record<string, unknown> = { integrationName, actionName }
  for (const [name, value] of Object.entries(target)) if (value !== undefined) body[name] = value
  body['input'] = input ?? {}
  // The server runs a write with the same idempotencyKey at most once, so it may be resent.
  const idempotent = typeof params.idempotencyKey === 'string' && params.idempotencyKey !== ''
  return { method: 'POST', path: '/api/v1/actions/execute', body, idempotent }
}

export class Actions {
  constructor(private readonly client: APIClient) {}

  /**
   * Run an action; `output` of the result is what it returned, typed for the built-ins:
   *
   * ```ts
   * const { output } = await client.actions.execute('kv-store', 'get', {
   *   workspaceId, integrationAlias: 'state', input: { key: 'cursor' },
   * })
   * output.value // unknown (any JSON), null when the key is missing
   * ```
   *
   * The workspace integration that runs is `workspaceIntegrationId` if given, else
   * `integrationAlias`, else the only one of `integrationName` in the workspace. `endUserId`
   * picks the end user's data when the scope is `end_user`. A failed action throws
   * `BadRequestError` with `code === 'ACTION_FAILED'` and `reason` (e.g. `FILE_NOT_FOUND`).
   * With an `idempotencyKey` the call is retried on 5xx and network errors too.
   */
  async execute<I extends string, A extends ActionName<I>>(
    integrationName: I,
    actionName: A,
    params: ExecuteParams<ActionInput<I, A>>,
    options?: RequestOptions,
  ): Promise<ExecuteResult<ActionOutput<I, A>>> {
    return this.client.send(executeCall(integrationName, actionName, params), options)
  }
}
