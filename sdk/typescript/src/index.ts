/**
 * cubby-client: the TypeScript client for cubby (durable files and state for apps and agents).
 *
 * ```ts
 * import { Cubby } from 'cubby-client'
 *
 * const client = new Cubby()                 // CUBBY_API_KEY, CUBBY_BASE_URL
 * const files = client.storage(workspaceId)  // alias "files"
 * await files.write('notes/hello.txt', 'hi')
 * const kv = client.kv(workspaceId)          // alias "state"
 * await kv.put('cursor', 42)
 * ```
 */

export { Cubby, WeavzClient } from './client.js'
export {
  APIClient,
  DEFAULT_BASE_URL,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT,
  type Call,
  type ClientOptions,
  type Fetch,
  type Query,
  type RequestOptions,
} from './core.js'
export {
  APIConnectionError,
  APIStatusError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  CubbyError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitError,
  ServerError,
  type CubbyErrorInit,
} from './errors.js'
export { RetryPolicy, parseRetryAfter, type RetryPolicyOptions } from './retry.js'
export { decodeBase64, encodeBase64 } from './base64.js'
export {
  Storage,
  type DeleteOptions,
  type DownloadUrlOptions,
  type ListOptions,
  type MoveOptions,
  type WritableContent,
  type WriteOptions,
} from './storage.js'
export { KV, type AppendOptions, type GetOptions, type KeysOptions, type PutOptions } from './kv.js'
export { Memory, type EntitiesOptions, type PageOptions } from './memory.js'
export { Scratchpad, type PagesOptions, type SearchPagesOptions } from './scratchpad.js'
export { Thinking, type ChainOptions } from './thinking.js'
export type {
  Chain,
  ChainSummary,
  EntitiesCreated,
  Entity,
  EntityWithRelations,
  GraphPage,
  NewEntity,
  PageContent,
  PageHit,
  PageInfo,
  Relation,
  RelationsCreated,
  RelationSpec,
  Thought,
  ThoughtAdded,
} from './agentTypes.js'
export type { TargetOptions } from './target.js'
export {
  Actions,
  type ActionInput,
  type ActionName,
  type ActionOutput,
  type BuiltinIntegrationName,
  type ExecuteParams,
  type ExecuteResult,
  type ExecuteTarget,
} from './resources/actions.js'
export { ApiKeys, type CreateApiKeyParams } from './resources/apiKeys.js'
export { EndUsers, type DeleteEndUserParams, type ListEndUsersParams } from './resources/endUsers.js'
export { Integrations } from './resources/integrations.js'
export { McpServers, type ListMcpServersParams } from './resources/mcpServers.js'
export {
  Workspaces,
  type AddIntegrationParams,
  type ListParams,
  type UpdateIntegrationParams,
} from './resources/workspaces.js'
export type * from './generated/api.js'
export { VERSION } from './version.js'
