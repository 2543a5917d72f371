/**
 * `client.storage(workspaceId)`: files by path, without spelling out action calls.
 *
 * Text goes over the wire as UTF-8 and bytes as base64, so `write` takes either (or a `Blob`)
 * and `read` always returns exactly the bytes that were written.
 */

import { decodeBase64, encodeBase64 } from './base64.js'
import type { APIClient, RequestOptions } from './core.js'
import { CubbyError } from './errors.js'
import type { FileInfo, FileList, FileMoved, WriteFileInput } from './generated/api.js'
import { requestOptions, type Target } from './target.js'

export type WritableContent = string | Uint8Array | ArrayBuffer | Blob

export interface WriteOptions extends RequestOptions {
  /** Media type, e.g. `text/csv`; default: the Blob's type, else guessed from the extension. */
  contentType?: string | undefined
  /** Delete the file this many seconds after this write (default: never). */
  expiresInSeconds?: number | undefined
  /** Only if the file's current etag is this one (else reason `CONFLICT`, nothing written). */
  ifMatch?: string | undefined
  /** Only if no file exists at the path yet (else reason `CONFLICT`). */
  ifNoneMatch?: boolean | undefined
}

export interface DeleteOptions extends RequestOptions {
  /** Only if the file's current etag is this one (else reason `CONFLICT`). */
  ifMatch?: string | undefined
}

export interface MoveOptions extends RequestOptions {
  /** Replace a file already at the new path (default: reason `CONFLICT`). */
  overwrite?: boolean | undefined
}

export interface ListOptions extends RequestOptions {
  /** Files per request (server default 1000); every page is fetched either way. */
  pageSize?: number | undefined
}

export interface DownloadUrlOptions extends RequestOptions {
  /** How long the URL works: 60 to 3600 seconds (default 900). */
  expiresInSeconds?: number | undefined
}

async function toWire(content: WritableContent): Promise<{ content: string; base64: boolean; type?: string }> {
  if (typeof content === 'string') return { content, base64: false }
  if (content instanceof Uint8Array) return { content: encodeBase64(content), base64: true }
  if (content instanceof ArrayBuffer) return { content: encodeBase64(new Uint8Array(content)), base64: true }
  if (typeof Blob !== 'undefined' && content instanceof Blob) {
    const bytes = new Uint8Array(await content.arrayBuffer())
    return { content: encodeBase64(bytes), base64: true, ...(content.type ? { type: content.type } : {}) }
  }
  throw new CubbyError('content must be a string, Uint8Array, ArrayBuffer or Blob')
}

export class Storage {
  constructor(
    private readonly client: APIClient,
    private readonly target: Target<'storage'>,
  ) {}

  /**
   * Create or replace `path` atomically; its `path, size, contentType, etag, updatedAt,
   * expiresAt`. `ifMatch` / `ifNoneMatch` make it conditional: `BadRequestError` with
   * `reason === 'CONFLICT'` when the file changed meanwhile, and nothing is written.
   */
  async write(path: string, content: WritableContent, options: WriteOptions = {}): Promise<FileInfo> {
    const wire = await toWire(content)
    const input: WriteFileInput = { path, content: wire.content }
    if (wire.base64) input.contentEncoding = 'base64'
    const contentType = options.contentType ?? wire.type
    if (contentType !== undefined) input.contentType = contentType
    if (options.expiresInSeconds !== undefined) input.expiresInSeconds = options.expiresInSeconds
    if (options.ifMatch !== undefined) input.ifMatch = options.ifMatch
    if (options.ifNoneMatch) input.ifNoneMatch = '*'
    return this.target.run(this.client, 'write_file', input, requestOptions(options))
  }

  /** The file's bytes (`BadRequestError` with `reason === 'FILE_NOT_FOUND'` if there is none). */
  async read(path: string, options: RequestOptions = {}): Promise<Uint8Array> {
    const output = await this.target.run(
      this.client,
      'read_file',
      { path, outputEncoding: 'base64' },
      requestOptions(options),
    )
    return output.encoding === 'utf8' ? new TextEncoder().encode(output.content) : decodeBase64(output.content)
  }

  /** The file as UTF-8 text (reason `NOT_UTF8` when it is not). */
  async readText(path: string, options: RequestOptions = {}): Promise<string> {
    const output = await this.target.run(
      this.client,
      'read_file',
      { path, outputEncoding: 'utf8' },
      requestOptions(options),
    )
    return output.content
  }

  /** Every file under `prefix`, sorted by path, fetching pages as you iterate (`for await`). */
  async *list(prefix = '', options: ListOptions = {}): AsyncGenerator<FileInfo, void, undefined> {
    let cursor: string | null = null
    do {
      const page: FileList = await this.target.run(
        this.client,
        'list_files',
        {
          ...(prefix ? { prefix } : {}),
          ...(cursor !== null ? { cursor } : {}),
          ...(options.pageSize !== undefined ? { limit: options.pageSize } : {}),
        },
        requestOptions(options),
      )
      yield* page.files
      cursor = page.nextCursor || null
    } while (cursor !== null)
  }

  /** Delete `path`; `false` if it did not exist (`ifMatch`: only that version of it). */
  async delete(path: string, options: DeleteOptions = {}): Promise<boolean> {
    const input = options.ifMatch === undefined ? { path } : { path, ifMatch: options.ifMatch }
    const output = await this.target.run(this.client, 'delete_file', input, requestOptions(options))
    return output.deleted
  }

  /**
   * Rename `from` to `to` atomically (no copy). A file at `to` is a `CONFLICT` unless
   * `overwrite`; a missing `from` is `FILE_NOT_FOUND`.
   */
  async move(from: string, to: string, options: MoveOptions = {}): Promise<FileMoved> {
    const input = options.overwrite ? { from, to, overwrite: true } : { from, to }
    return this.target.run(this.client, 'move_file', input, requestOptions(options))
  }

  /** Delete every file under `prefix` (which must end with `/`); how many went. */
  async deleteFolder(prefix: string, options: RequestOptions = {}): Promise<number> {
    const output = await this.target.run(this.client, 'delete_folder', { prefix }, requestOptions(options))
    return output.deleted
  }

  /** A URL that serves the file without an API key until it expires. */
  async downloadUrl(path: string, options: DownloadUrlOptions = {}): Promise<string> {
    const input = { path, expiresInSeconds: options.expiresInSeconds ?? 900 }
    const output = await this.target.run(this.client, 'get_download_url', input, requestOptions(options))
    return output.url
  }

  toString(): string {
    return `Storage(${this.target.toString()})`
  }
}
