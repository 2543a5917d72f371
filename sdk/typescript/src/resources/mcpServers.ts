/**
 * `client.mcpServers`: MCP servers of a workspace, their tools and their tokens. An MCP server
 * serves the workspace's integrations as tools at `mcpEndpoint` (Streamable HTTP), authenticated
 * with its static `bearerToken` or an end user's access token.
 */

import { segment, type APIClient, type RequestOptions } from '../core.js'
import type {
  AccessTokenCreated,
  CreateAccessToken,
  CreateServer,
  CreateTool,
  Deleted,
  ServerCreated,
  ServerEnvelope,
  ServerList,
  ServerWithTools,
  TokenList,
  TokenRegenerated,
  ToolEnvelope,
  UpdateServer,
  UpdateTool,
} from '../generated/api.js'

const ROOT = '/api/v1/mcp/servers'

export interface ListMcpServersParams {
  workspaceId?: string
  limit?: number
  offset?: number
  includeSuspended?: boolean
}

function server(id: string, rest = ''): string {
  return `${ROOT}/${segment(id)}${rest}`
}

export class McpServers {
  constructor(private readonly client: APIClient) {}

  /** Create a server; its static `bearerToken` is in the answer, shown this once. */
  async create(params: CreateServer, options?: RequestOptions): Promise<ServerCreated> {
    return this.client.send({ method: 'POST', path: ROOT, body: params }, options)
  }

  /** One page of servers (of one workspace with `workspaceId`) and the `total`. */
  async list(params: ListMcpServersParams = {}, options?: RequestOptions): Promise<ServerList> {
    return this.client.send({ method: 'GET', path: ROOT, query: { ...params } }, options)
  }

  /** A server with its tools. */
  async get(serverId: string, options?: RequestOptions): Promise<ServerWithTools> {
    return this.client.send({ method: 'GET', path: server(serverId) }, options)
  }

  /** Change the given fields (`description` and `endUserId` may be `null`). */
  async update(serverId: string, params: UpdateServer, options?: RequestOptions): Promise<ServerEnvelope> {
    return this.client.send({ method: 'PATCH', path: server(serverId), body: params }, options)
  }

  /** Delete a server; its tokens stop working. */
  async delete(serverId: string, options?: RequestOptions): Promise<Deleted> {
    return this.client.send({ method: 'DELETE', path: server(serverId) }, options)
  }

  /** A new static bearer token; the old one stops working. */
  async regenerateToken(serverId: string, options?: RequestOptions): Promise<TokenRegenerated> {
    return this.client.send({ method: 'POST', path: server(serverId, '/regenerate-token') }, options)
  }

  /** An access token that acts as `endUserId` (default lifetime 30 days, `expiresIn` seconds). */
  async createAccessToken(
    serverId: string,
    params: CreateAccessToken,
    options?: RequestOptions,
  ): Promise<AccessTokenCreated> {
    return this.client.send({ method: 'POST', path: server(serverId, '/access-tokens'), body: params }, options)
  }

  /** The same as `createAccessToken`, under the route the Weavz SDK calls for OAuth tokens. */
  async createOAuthToken(
    serverId: string,
    params: CreateAccessToken,
    options?: RequestOptions,
  ): Promise<AccessTokenCreated> {
    return this.client.send({ method: 'POST', path: server(serverId, '/oauth-tokens'), body: params }, options)
  }

  /** The server's access tokens (never their secret part). */
  async listAccessTokens(serverId: string, options?: RequestOptions): Promise<TokenList> {
    return this.client.send({ method: 'GET', path: server(serverId, '/access-tokens') }, options)
  }

  /** Revoke an access token. */
  async revokeAccessToken(serverId: string, tokenId: string, options?: RequestOptions): Promise<Deleted> {
    const path = server(serverId, `/access-tokens/${segment(tokenId)}`)
    return this.client.send({ method: 'DELETE', path }, options)
  }

  /** Add (or override) a tool: one action of one workspace integration. */
  async addTool(serverId: string, params: CreateTool, options?: RequestOptions): Promise<ToolEnvelope> {
    return this.client.send({ method: 'POST', path: server(serverId, '/tools'), body: params }, options)
  }

  /** Change the given fields of a tool. */
  async updateTool(serverId: string, toolId: string, params: UpdateTool, options?: RequestOptions): Promise<ToolEnvelope> {
    const path = server(serverId, `/tools/${segment(toolId)}`)
    return this.client.send({ method: 'PATCH', path, body: params }, options)
  }

  /** Remove a tool. */
  async removeTool(serverId: string, toolId: string, options?: RequestOptions): Promise<Deleted> {
    return this.client.send({ method: 'DELETE', path: server(serverId, `/tools/${segment(toolId)}`) }, options)
  }
}
