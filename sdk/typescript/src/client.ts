/** `Cubby` (also exported as `WeavzClient`): the entry point. */

import { APIClient, type ClientOptions } from './core.js'
import { KV } from './kv.js'
import { Memory } from './memory.js'
import { Actions } from './resources/actions.js'
import { ApiKeys } from './resources/apiKeys.js'
import { EndUsers } from './resources/endUsers.js'
import { Integrations } from './resources/integrations.js'
import { McpServers } from './resources/mcpServers.js'
import { Workspaces } from './resources/workspaces.js'
import { Scratchpad } from './scratchpad.js'
import { Storage } from './storage.js'
import { Target, type TargetOptions } from './target.js'
import { Thinking } from './thinking.js'

/**
 * The client. `apiKey` defaults to `CUBBY_API_KEY`, `baseUrl` to `CUBBY_BASE_URL` (else
 * `http://127.0.0.1:8080`) where `process.env` exists.
 *
 * The resource layer mirrors the HTTP API (`workspaces`, `apiKeys`, `integrations`,
 * `actions.execute`, `mcpServers`, `endUsers`) and returns its JSON bodies; `storage()`, `kv()`,
 * `memory()`, `scratchpad()` and `thinking()` are the friendly layer.
 */
export class Cubby extends APIClient {
  readonly workspaces: Workspaces
  readonly apiKeys: ApiKeys
  readonly integrations: Integrations
  readonly actions: Actions
  readonly mcpServers: McpServers
  readonly endUsers: EndUsers

  constructor(options: ClientOptions = {}) {
    super(options)
    this.workspaces = new Workspaces(this)
    this.apiKeys = new ApiKeys(this)
    this.integrations = new Integrations(this)
    this.actions = new Actions(this)
    this.mcpServers = new McpServers(this)
    this.endUsers = new EndUsers(this)
  }

  /** Files of the storage integration `alias` (default `files`; `null`: the only one). */
  storage(workspaceId: string, options: TargetOptions = {}): Storage {
    const alias = options.alias === undefined ? 'files' : options.alias
    return new Storage(this, new Target('storage', workspaceId, alias, options.endUserId))
  }

  /** Keys of the kv-store integration `alias` (default `state`; `null`: the only one). */
  kv(workspaceId: string, options: TargetOptions = {}): KV {
    const alias = options.alias === undefined ? 'state' : options.alias
    return new KV(this, new Target('kv-store', workspaceId, alias, options.endUserId))
  }

  /** The knowledge graph of the agent-memory integration `alias` (default `memory`). */
  memory(workspaceId: string, options: TargetOptions = {}): Memory {
    const alias = options.alias === undefined ? 'memory' : options.alias
    return new Memory(this, new Target('agent-memory', workspaceId, alias, options.endUserId))
  }

  /** Pages of the agent-scratchpad integration `alias` (default `scratchpad`). */
  scratchpad(workspaceId: string, options: TargetOptions = {}): Scratchpad {
    const alias = options.alias === undefined ? 'scratchpad' : options.alias
    return new Scratchpad(this, new Target('agent-scratchpad', workspaceId, alias, options.endUserId))
  }

  /** Thought chains of the sequential-thinking integration `alias` (default `thinking`). */
  thinking(workspaceId: string, options: TargetOptions = {}): Thinking {
    const alias = options.alias === undefined ? 'thinking' : options.alias
    return new Thinking(this, new Target('sequential-thinking', workspaceId, alias, options.endUserId))
  }

  /** A client like this one with some options replaced (e.g. `{ timeout: 5_000, maxRetries: 0 }`). */
  withOptions(options: ClientOptions): Cubby {
    return new Cubby({ ...this.options, apiKey: this.apiKey, baseUrl: this.baseUrl, ...options })
  }

  override toString(): string {
    return `Cubby(${this.baseUrl})`
  }
}

/** The same class under the name the Weavz SDK uses, so its examples run unchanged. */
export const WeavzClient = Cubby
export type WeavzClient = Cubby
