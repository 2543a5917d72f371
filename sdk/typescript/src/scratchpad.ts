/**
 * `client.scratchpad(workspaceId)`: agent-scratchpad's named text pages. A missing page is a
 * `BadRequestError` with `reason === 'PAGE_NOT_FOUND'`; a page over the server's limit (1 MiB by
 * default) a `PayloadTooLargeError`.
 */

import type { PageContent, PageHit, PageInfo } from './agentTypes.js'
import type { APIClient, RequestOptions } from './core.js'
import { requestOptions, type Target } from './target.js'

export interface PagesOptions extends RequestOptions {
  /** Pages per request (server default 100); every page is fetched either way. */
  pageSize?: number | undefined
}

export interface SearchPagesOptions extends RequestOptions {
  /** At most this many results (server default 20, at most 100). */
  limit?: number | undefined
}

export class Scratchpad {
  constructor(
    private readonly client: APIClient,
    private readonly target: Target<'agent-scratchpad'>,
  ) {}

  /** The page's text. */
  async read(pageName: string, options: RequestOptions = {}): Promise<string> {
    return (await this.page(pageName, options)).content
  }

  /** The page with its content, size and times. */
  async page(pageName: string, options: RequestOptions = {}): Promise<PageContent> {
    return this.target.run(this.client, 'read_page', { pageName }, requestOptions(options))
  }

  /** Create or replace the page; `{ pageName, size, createdAt, updatedAt }`. */
  async write(pageName: string, content: string, options: RequestOptions = {}): Promise<PageInfo> {
    return this.target.run(this.client, 'write_page', { pageName, content }, requestOptions(options))
  }

  /** Append to the page (created if missing); concurrent appends all land, each whole. */
  async append(pageName: string, content: string, options: RequestOptions = {}): Promise<PageInfo> {
    return this.target.run(this.client, 'append_page', { pageName, content }, requestOptions(options))
  }

  /** Every page whose name starts with `prefix`, by name (`for await`). */
  async *pages(prefix = '', options: PagesOptions = {}): AsyncGenerator<PageInfo, void, undefined> {
    let cursor: string | null = null
    do {
      const input: { prefix?: string; cursor?: string; limit?: number } = {
        ...(prefix ? { prefix } : {}),
        ...(cursor !== null ? { cursor } : {}),
        ...(options.pageSize !== undefined ? { limit: options.pageSize } : {}),
      }
      const listed: { pages: PageInfo[]; nextCursor: string | null } = await this.target.run(
        this.client,
        'list_pages',
        input,
        requestOptions(options),
      )
      yield* listed.pages
      cursor = listed.nextCursor || null
    } while (cursor !== null)
  }

  /** Pages matching every word of `query`, best first, with a snippet each. */
  async search(query: string, options: SearchPagesOptions = {}): Promise<PageHit[]> {
    const input = { query, ...(options.limit !== undefined ? { limit: options.limit } : {}) }
    const output = await this.target.run(this.client, 'search_pages', input, requestOptions(options))
    return output.results
  }

  /** Delete the page; `false` if it did not exist. */
  async delete(pageName: string, options: RequestOptions = {}): Promise<boolean> {
    const output = await this.target.run(this.client, 'delete_page', { pageName }, requestOptions(options))
    return output.deleted
  }

  /** Delete every page of this scratchpad; how many went. */
  async clear(options: RequestOptions = {}): Promise<number> {
    const output = await this.target.run(this.client, 'clear_all', {}, requestOptions(options))
    return output.deleted
  }

  toString(): string {
    return `Scratchpad(${this.target.toString()})`
  }
}
