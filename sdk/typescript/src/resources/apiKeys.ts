/** `client.apiKeys`: create, list and revoke API keys (needs an organisation-wide key). */

import { compact, segment, type APIClient, type RequestOptions } from '../core.js'
import { CubbyError } from '../errors.js'
import type { ApiKeyCreated, ApiKeyList, Deleted, KeyPermissions } from '../generated/api.js'

const ROOT = '/api/v1/api-keys'

export interface CreateApiKeyParams {
  name: string
  /** ISO-8601, e.g. `2027-01-01T00:00:00Z`. */
  expiresAt?: string | null
  /** As sent: `{ scope: 'workspace', workspaceIds: [...] }`; absent: the whole organisation. */
  permissions?: KeyPermissions | null
  /** Shorthand for `permissions: { scope: 'workspace', workspaceIds }`. */
  workspaceIds?: string[]
}

export class ApiKeys {
  constructor(private readonly client: APIClient) {}

  /** Active keys (never their secret part). */
  async list(options?: RequestOptions): Promise<ApiKeyList> {
    return this.client.send({ method: 'GET', path: ROOT }, options)
  }

  /** Create a key; the plain key is in `plainKey`, shown this once. */
  async create(params: CreateApiKeyParams, options?: RequestOptions): Promise<ApiKeyCreated> {
    const { workspaceIds, ...rest } = params
    if (workspaceIds !== undefined && rest.permissions != null) {
      throw new CubbyError('pass permissions or workspaceIds, not both')
    }
    const permissions =
      workspaceIds !== undefined ? { scope: 'workspace', workspaceIds } : rest.permissions
    const body = compact({ name: rest.name, expiresAt: rest.expiresAt, permissions })
    return this.client.send({ method: 'POST', path: ROOT, body }, options)
  }

  /** Revoke a key by id (`NotFoundError` if unknown). */
  async delete(keyId: string, options?: RequestOptions): Promise<Deleted> {
    return this.client.send({ method: 'DELETE', path: `${ROOT}/${segment(keyId)}` }, options)
  }
}
