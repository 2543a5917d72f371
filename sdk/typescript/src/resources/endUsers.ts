/**
 * `client.endUsers`: the end users of a workspace. An end user's `externalId` is the `endUserId`
 * of action execution; registering is optional (an unregistered `endUserId` still gets its own
 * `end_user` namespace), but a registered one can be looked up, measured and erased.
 */

import { segment, type APIClient, type RequestOptions } from '../core.js'
import type {
  CreateEndUser,
  EndUserDataErased,
  EndUserDeleted,
  EndUserEnvelope,
  EndUserList,
  UpdateEndUser,
  UsageEnvelope,
} from '../generated/api.js'

const ROOT = '/api/v1/end-users'

export interface ListEndUsersParams {
  workspaceId?: string
  limit?: number
  offset?: number
}

export interface DeleteEndUserParams {
  /** Also remove every key and file the end user owns in the workspace (cubby only). */
  eraseData?: boolean
}

export class EndUsers {
  constructor(private readonly client: APIClient) {}

  /** Register an end user; `externalId` is unique per workspace (409 `DUPLICATE`). */
  async create(params: CreateEndUser, options?: RequestOptions): Promise<EndUserEnvelope> {
    return this.client.send({ method: 'POST', path: ROOT, body: params }, options)
  }

  /** One page of end users (of one workspace with `workspaceId`) and the `total`. */
  async list(params: ListEndUsersParams = {}, options?: RequestOptions): Promise<EndUserList> {
    return this.client.send({ method: 'GET', path: ROOT, query: { ...params } }, options)
  }

  /** One end user by the record's id (not its externalId). */
  async get(endUserId: string, options?: RequestOptions): Promise<EndUserEnvelope> {
    return this.client.send({ method: 'GET', path: `${ROOT}/${segment(endUserId)}` }, options)
  }

  /** Change the given fields (`displayName`, `email`, `metadata`). */
  async update(endUserId: string, params: UpdateEndUser, options?: RequestOptions): Promise<EndUserEnvelope> {
    return this.client.send({ method: 'PATCH', path: `${ROOT}/${segment(endUserId)}`, body: params }, options)
  }

  /** Delete the record; with `eraseData: true` its keys and files too (counted in `erased`). */
  async delete(endUserId: string, params: DeleteEndUserParams = {}, options?: RequestOptions): Promise<EndUserDeleted> {
    const query = params.eraseData ? { eraseData: true } : {}
    return this.client.send({ method: 'DELETE', path: `${ROOT}/${segment(endUserId)}`, query }, options)
  }

  /** How many keys, files and bytes the end user holds in its workspace. */
  async usage(endUserId: string, options?: RequestOptions): Promise<UsageEnvelope> {
    return this.client.send({ method: 'GET', path: `${ROOT}/${segment(endUserId)}/usage` }, options)
  }

  /**
   * Remove every key and file of `endUserId` (an execution `endUserId`, i.e. an externalId,
   * registered or not) in the workspace, across all `end_user`-scoped integrations.
   */
  async eraseData(workspaceId: string, endUserId: string, options?: RequestOptions): Promise<EndUserDataErased> {
    const path = `/api/v1/workspaces/${segment(workspaceId)}/erase-end-user-data`
    return this.client.send({ method: 'POST', path, body: { endUserId } }, options)
  }
}
