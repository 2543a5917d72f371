/**
 * `client.kv(workspaceId)`: JSON values and lists by key, without spelling out action calls.
 * A missing key reads as `default` (the API cannot tell a missing key from one holding `null`).
 */

import type { APIClient, RequestOptions } from './core.js'
import { requestOptions, type Target } from './target.js'

export interface GetOptions<D> extends RequestOptions {
  /** What a missing key (or one holding `null`) reads as; default `null`. */
  default?: D
}

export class KV {
  constructor(
    private readonly client: APIClient,
    private readonly target: Target<'kv-store'>,
  ) {}

  /**
   * The value at `key`, or `options.default` (else `null`) when there is none. `T` is what you
   * expect the value to be; it is not checked.
   */
  get<T = unknown>(key: string, options?: RequestOptions & { default?: undefined }): Promise<T | null>
  get<T = unknown, D = T>(key: string, options: GetOptions<D> & { default: D }): Promise<T | D>
  async get(key: string, options: GetOptions<unknown> = {}): Promise<unknown> {
    const output = await this.target.run(this.client, 'get', { key }, requestOptions(options))
    const value = output.value ?? null
    return value === null ? (options.default ?? null) : value
  }

  /** Set `key` to `value` (any JSON). */
  async put(key: string, value: unknown, options: RequestOptions = {}): Promise<void> {
    await this.target.run(this.client, 'put', { key, value }, requestOptions(options))
  }

  /** Delete `key`; `false` if it did not exist. */
  async delete(key: string, options: RequestOptions = {}): Promise<boolean> {
    const output = await this.target.run(this.client, 'delete', { key }, requestOptions(options))
    return output.deleted
  }

  /** Append to the list at `key` (created if missing); the new length. Atomic on the server. */
  async append(key: string, value: unknown, options: RequestOptions = {}): Promise<number> {
    const output = await this.target.run(this.client, 'add_to_list', { key, value }, requestOptions(options))
    return output.length
  }

  /** Remove every element equal to `value` from the list at `key`; how many went. */
  async remove(key: string, value: unknown, options: RequestOptions = {}): Promise<number> {
    const output = await this.target.run(
      this.client,
      'remove_from_list',
      { key, value },
      requestOptions(options),
    )
    return output.removed
  }

  toString(): string {
    return `KV(${this.target.toString()})`
  }
}
