/**
 * `client.kv(workspaceId)`: JSON values and lists by key, without spelling out action calls.
 * A missing key reads as `default` (the API cannot tell a missing key from one holding `null`).
 */

import type { APIClient, RequestOptions } from './core.js'
import type { KeyEntry, KeyList, KeyValue } from './generated/api.js'
import { requestOptions, type Target } from './target.js'

export interface GetOptions<D> extends RequestOptions {
  /** What a missing key (or one holding `null`) reads as; default `null`. */
  default?: D
}

export interface PutOptions extends RequestOptions {
  /** Delete the key this many seconds from now (default: never). */
  expiresInSeconds?: number | undefined
  /** Write only if the key is at this version (`0`: only if it does not exist), else `CONFLICT`. */
  ifVersion?: number | undefined
}

export interface AppendOptions extends RequestOptions {
  /** Set the list's expiry to this many seconds from now (default: keep the one it has). */
  expiresInSeconds?: number | undefined
}

export interface KeysOptions extends RequestOptions {
  /** Keys per request (server default 100); every page is fetched either way. */
  pageSize?: number | undefined
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

  /**
   * `{ key, value, version, expiresAt }` of `key` (`version` 0 when missing), for a
   * read-modify-write with `put(key, value, { ifVersion: entry.version })`.
   */
  async entry(key: string, options: RequestOptions = {}): Promise<KeyValue> {
    return this.target.run(this.client, 'get', { key }, requestOptions(options))
  }

  /**
   * Set `key` to `value` (any JSON); the key's new version. `expiresInSeconds` makes it expire
   * (without it a put clears any expiry). With `ifVersion`, `BadRequestError` with
   * `reason === 'CONFLICT'` (and `details.currentVersion`) when the key moved on.
   */
  async put(key: string, value: unknown, options: PutOptions = {}): Promise<number> {
    const input: { key: string; value: unknown; expiresInSeconds?: number; ifVersion?: number } = { key, value }
    if (options.expiresInSeconds !== undefined) input.expiresInSeconds = options.expiresInSeconds
    if (options.ifVersion !== undefined) input.ifVersion = options.ifVersion
    const output = await this.target.run(this.client, 'put', input, requestOptions(options))
    return output.version
  }

  /**
   * Add `by` (default 1; negative subtracts) to the number at `key` atomically (missing: 0);
   * the new value. A key holding anything else: `reason === 'NOT_A_NUMBER'`.
   */
  async increment(key: string, by = 1, options: RequestOptions = {}): Promise<number> {
    const output = await this.target.run(this.client, 'increment', { key, by }, requestOptions(options))
    return Number(output.value)
  }

  /** Every key under `prefix` with its size, version and expiry, sorted (`for await`). */
  async *keys(prefix = '', options: KeysOptions = {}): AsyncGenerator<KeyEntry, void, undefined> {
    let cursor: string | null = null
    do {
      const page: KeyList = await this.target.run(
        this.client,
        'list_keys',
        {
          ...(prefix ? { prefix } : {}),
          ...(cursor !== null ? { cursor } : {}),
          ...(options.pageSize !== undefined ? { limit: options.pageSize } : {}),
        },
        requestOptions(options),
      )
      yield* page.keys
      cursor = page.nextCursor || null
    } while (cursor !== null)
  }

  /** Delete `key`; `false` if it did not exist. */
  async delete(key: string, options: RequestOptions = {}): Promise<boolean> {
    const output = await this.target.run(this.client, 'delete', { key }, requestOptions(options))
    return output.deleted
  }

  /**
   * Append to the list at `key` (created if missing); the new length. Atomic on the server.
   * `expiresInSeconds` sets the list's expiry, else it keeps the one it has.
   */
  async append(key: string, value: unknown, options: AppendOptions = {}): Promise<number> {
    const input: { key: string; value: unknown; expiresInSeconds?: number } = { key, value }
    if (options.expiresInSeconds !== undefined) input.expiresInSeconds = options.expiresInSeconds
    const output = await this.target.run(this.client, 'add_to_list', input, requestOptions(options))
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
