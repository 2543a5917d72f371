/**
 * `client.memory(workspaceId)`: agent-memory's knowledge graph of entities, observations and
 * relations. Every call is all-or-nothing; an unknown entity is a `BadRequestError` with
 * `reason === 'ENTITY_NOT_FOUND'` and nothing is written.
 */

import type {
  EntitiesCreated,
  Entity,
  EntityWithRelations,
  GraphPage,
  NewEntity,
  RelationsCreated,
  RelationSpec,
} from './agentTypes.js'
import type { APIClient, RequestOptions } from './core.js'
import { requestOptions, type Target } from './target.js'

export interface PageOptions extends RequestOptions {
  /** Entities per request (server default: 20 for search, 100 for the graph). */
  limit?: number | undefined
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined
}

export interface EntitiesOptions extends RequestOptions {
  /** Entities per request (server default 100, at most 1,000); every page is fetched. */
  pageSize?: number | undefined
}

function paging(options: PageOptions): { limit?: number; cursor?: string } {
  return {
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
  }
}

export class Memory {
  constructor(
    private readonly client: APIClient,
    private readonly target: Target<'agent-memory'>,
  ) {}

  /** Create entities (up to 1,000); those created, and the names that existed (left unchanged). */
  async createEntities(entities: NewEntity[], options: RequestOptions = {}): Promise<EntitiesCreated> {
    return this.target.run(this.client, 'create_entities', { entities }, requestOptions(options))
  }

  /** Add observations to an entity; those added (one it has already is not added twice). */
  async addObservations(entityName: string, contents: string[], options: RequestOptions = {}): Promise<string[]> {
    const input = { observations: [{ entityName, contents }] }
    const output = await this.target.run(this.client, 'add_observations', input, requestOptions(options))
    return output.results[0]?.added ?? []
  }

  /** Create the relation `from -[type]-> to`; `false` if it existed already. */
  async relate(from: string, to: string, type: string, options: RequestOptions = {}): Promise<boolean> {
    const output = await this.createRelations([{ from, to, type }], options)
    return output.relations.length > 0
  }

  /** Create relations; those created and how many existed already. */
  async createRelations(relations: RelationSpec[], options: RequestOptions = {}): Promise<RelationsCreated> {
    return this.target.run(this.client, 'create_relations', { relations }, requestOptions(options))
  }

  /** The entity `name` with every relation in or out of it. */
  async get(name: string, options: RequestOptions = {}): Promise<EntityWithRelations> {
    return this.target.run(this.client, 'get_entity', { name }, requestOptions(options))
  }

  /**
   * One page of the entities matching every word of `query` (any case; a word also matches
   * the start of a longer one), best first, with the relations between them.
   */
  async search(query: string, options: PageOptions = {}): Promise<GraphPage> {
    const input = { query, ...paging(options) }
    return this.target.run(this.client, 'search', input, requestOptions(options))
  }

  /** One page of the whole graph, entities by name, with the relations leaving them. */
  async graph(options: PageOptions = {}): Promise<GraphPage> {
    return this.target.run(this.client, 'read_graph', paging(options), requestOptions(options))
  }

  /** Every entity, by name (`for await`), fetching pages of the graph as you iterate. */
  async *entities(options: EntitiesOptions = {}): AsyncGenerator<Entity, void, undefined> {
    let cursor: string | null = null
    do {
      const page: GraphPage = await this.graph({
        ...requestOptions(options),
        limit: options.pageSize,
        cursor: cursor ?? undefined,
      })
      yield* page.entities
      cursor = page.nextCursor || null
    } while (cursor !== null)
  }

  /** Delete entities with their relations; how many went (unknown names are skipped). */
  async deleteEntities(names: string[], options: RequestOptions = {}): Promise<number> {
    const output = await this.target.run(this.client, 'delete_entities', { names }, requestOptions(options))
    return output.deleted
  }

  /** Remove observations from an entity; how many went. */
  async deleteObservations(entityName: string, observations: string[], options: RequestOptions = {}): Promise<number> {
    const input = { entityName, observations }
    const output = await this.target.run(this.client, 'delete_observations', input, requestOptions(options))
    return output.deleted
  }

  /** Delete relations; how many went. */
  async deleteRelations(relations: RelationSpec[], options: RequestOptions = {}): Promise<number> {
    const output = await this.target.run(this.client, 'delete_relations', { relations }, requestOptions(options))
    return output.deleted
  }

  toString(): string {
    return `Memory(${this.target.toString()})`
  }
}
