/** `client.integrations`: the catalog of integrations, their actions and each action's props. */

import type { APIClient, RequestOptions } from '../core.js'
import type { CatalogList, CatalogOne } from '../generated/api.js'

const ROOT = '/api/v1/integrations'

export class Integrations {
  constructor(private readonly client: APIClient) {}

  /** Every integration with its actions. */
  async list(options?: RequestOptions): Promise<CatalogList> {
    return this.client.send({ method: 'GET', path: ROOT }, options)
  }

  /** One integration by name (`NotFoundError` if unknown). */
  async get(name: string, options?: RequestOptions): Promise<CatalogOne> {
    return this.client.send({ method: 'GET', path: ROOT, query: { name } }, options)
  }
}
