/**
 * `client.workspaces`: workspaces and the integrations configured in them. Methods return the
 * API's JSON body unchanged (`{ workspace }`, `{ integrations, total }`, ...).
 */

import { compact, segment, type APIClient, type RequestOptions } from '../core.js'
import type {
  CreateIntegration,
  Deleted,
  IntegrationEnvelope,
  IntegrationList,
  Limits,
  LimitsEnvelope,
  UpdateIntegration,
  UpdateWorkspace,
  WorkspaceEnvelope,
  WorkspaceList,
  WorkspaceUsageEnvelope,
} from '../generated/api.js'
import type { BuiltinIntegrationName } from './actions.js'

const ROOT = '/api/v1/workspaces'

/** The body of `addIntegration`: any registered integration name (the built-ins autocomplete). */
export type AddIntegrationParams = Omit<CreateIntegration, 'integrationName'> & {
  integrationName: BuiltinIntegrationName | (string & {})
}

export type UpdateIntegrationParams = UpdateIntegration

export interface ListParams {
  /** Page size (server default 50, at most 100). */
  limit?: number
  offset?: number
}

function ws(workspaceId: string): string {
  return `${ROOT}/${segment(workspaceId)}`
}

function wi(workspaceId: string, integrationId?: string): string {
  const path = `${ws(workspaceId)}/integrations`
  return integrationId === undefined ? path : `${path}/${segment(integrationId)}`
}

export class Workspaces {
  constructor(private readonly client: APIClient) {}

  /** One page of workspaces and the `total`. */
  async list(params: ListParams = {}, options?: RequestOptions): Promise<WorkspaceList> {
    return this.client.send({ method: 'GET', path: ROOT, query: { ...params } }, options)
  }

  /** Create a workspace; `slug` is lowercase `[a-z0-9][a-z0-9-]*` and unique (409 `SLUG_EXISTS`). */
  async create(params: { name: string; slug: string }, options?: RequestOptions): Promise<WorkspaceEnvelope> {
    const body = { name: params.name, slug: params.slug }
    return this.client.send({ method: 'POST', path: ROOT, body }, options)
  }

  /** One workspace by id. */
  async get(workspaceId: string, options?: RequestOptions): Promise<WorkspaceEnvelope> {
    return this.client.send({ method: 'GET', path: ws(workspaceId) }, options)
  }

  /** Live usage: `{ usage: { bytes, files, keys, items, endUsers } }`. */
  async usage(workspaceId: string, options?: RequestOptions): Promise<WorkspaceUsageEnvelope> {
    return this.client.send({ method: 'GET', path: `${ws(workspaceId)}/usage` }, options)
  }

  /** The limits that apply (needs an organisation-wide key). */
  async getLimits(workspaceId: string, options?: RequestOptions): Promise<LimitsEnvelope> {
    return this.client.send({ method: 'GET', path: `${ws(workspaceId)}/limits` }, options)
  }

  /** Replace the workspace's own limits; a field left out falls back to the server default. */
  async setLimits(workspaceId: string, limits: Limits, options?: RequestOptions): Promise<LimitsEnvelope> {
    return this.client.send({ method: 'PUT', path: `${ws(workspaceId)}/limits`, body: { ...limits } }, options)
  }

  /** Rename a workspace or change its slug. */
  async update(workspaceId: string, params: UpdateWorkspace, options?: RequestOptions): Promise<WorkspaceEnvelope> {
    return this.client.send({ method: 'PATCH', path: ws(workspaceId), body: compact({ ...params }) }, options)
  }

  /** Delete a workspace with all its integrations, files and keys. */
  async delete(workspaceId: string, options?: RequestOptions): Promise<Deleted> {
    return this.client.send({ method: 'DELETE', path: ws(workspaceId) }, options)
  }

  /** The integrations configured in a workspace. */
  async listIntegrations(workspaceId: string, options?: RequestOptions): Promise<IntegrationList> {
    return this.client.send({ method: 'GET', path: wi(workspaceId) }, options)
  }

  /**
   * Add an integration under `alias` (default: its name). `settings: { persistence: { scope:
   * 'workspace' } }` decides whose data its actions see (`end_user` by default).
   */
  async addIntegration(
    workspaceId: string,
    params: AddIntegrationParams,
    options?: RequestOptions,
  ): Promise<IntegrationEnvelope> {
    return this.client.send({ method: 'POST', path: wi(workspaceId), body: compact({ ...params }) }, options)
  }

  /** One workspace integration by id. */
  async getIntegration(workspaceId: string, integrationId: string, options?: RequestOptions): Promise<IntegrationEnvelope> {
    return this.client.send({ method: 'GET', path: wi(workspaceId, integrationId) }, options)
  }

  /** Change the given fields of a workspace integration (not its integration name). */
  async updateIntegration(
    workspaceId: string,
    integrationId: string,
    params: UpdateIntegrationParams,
    options?: RequestOptions,
  ): Promise<IntegrationEnvelope> {
    const body = compact({ ...params })
    return this.client.send({ method: 'PATCH', path: wi(workspaceId, integrationId), body }, options)
  }

  /** Remove a workspace integration; the data in its scope stays. */
  async removeIntegration(workspaceId: string, integrationId: string, options?: RequestOptions): Promise<Deleted> {
    return this.client.send({ method: 'DELETE', path: wi(workspaceId, integrationId) }, options)
  }
}
