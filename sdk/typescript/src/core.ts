/**
 * The transport every resource shares: URL and headers, one `fetch` per attempt with its own
 * timeout, the caller's `AbortSignal`, retries (see `retry.ts`) and the error tree (`errors.ts`).
 * Only platform APIs: `fetch`, `AbortController`, `setTimeout`. No Node built-ins.
 */

import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  CubbyError,
  statusError,
} from './errors.js'
import { IDEMPOTENT_METHODS, RetryPolicy } from './retry.js'

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080'
/** Milliseconds. */
export const DEFAULT_TIMEOUT = 60_000
export const DEFAULT_MAX_RETRIES = 2

export type Fetch = (input: string, init: RequestInit) => Promise<Response>

export interface ClientOptions {
  /** Default: `process.env.CUBBY_API_KEY` where `process` exists. */
  apiKey?: string | undefined
  /** Default: `process.env.CUBBY_BASE_URL`, else `http://127.0.0.1:8080`. A trailing `/api/v1` is fine. */
  baseUrl?: string | undefined
  /** Milliseconds per attempt, reading the answer included (default 60 000; `0`: none). */
  timeout?: number | undefined
  /** Retries of 429s, and of 5xx/network errors on idempotent requests (default 2). */
  maxRetries?: number | undefined
  /** Your own `fetch` (proxies, tests, instrumentation); default: the platform's. */
  fetch?: Fetch | undefined
  /** Headers sent with every request (the `Authorization` header is always the API key's). */
  defaultHeaders?: Record<string, string> | undefined
}

/** Per-call options, accepted as the last argument of every method. */
export interface RequestOptions {
  /** Milliseconds for each attempt of this call (overrides the client's `timeout`). */
  timeout?: number | undefined
  /** Aborts the call (and any wait between retries) with `APIUserAbortError`. */
  signal?: AbortSignal | undefined
  /** Retries for this call (overrides the client's `maxRetries`). */
  maxRetries?: number | undefined
  /** Extra headers for this call. */
  headers?: Record<string, string> | undefined
}

export type Query = Record<string, string | number | boolean | null | undefined>

/** One API call, described before it is sent. */
export interface Call {
  method: string
  /** Under the base URL, starting with `/`, e.g. `/api/v1/workspaces`. */
  path: string
  query?: Query | undefined
  body?: unknown
  /** Safe to send twice (default: by method; execute calls with an idempotencyKey say yes). */
  idempotent?: boolean | undefined
}

function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  const value = proc?.env?.[name]
  return value === '' ? undefined : value
}

/** `http://host:8080`, with any trailing `/` or `/api/v1` dropped (paths add it). */
export function normalizeBaseUrl(url: string): string {
  let out = url.trim().replace(/\/+$/, '')
  if (out.endsWith('/api/v1')) out = out.slice(0, -'/api/v1'.length)
  if (!/^https?:\/\//.test(out)) {
    throw new CubbyError(`baseUrl must start with http:// or https://, got ${JSON.stringify(url)}`)
  }
  return out
}

/** A path segment, percent-encoded so an id can never change the route. */
export function segment(value: string): string {
  if (!value) throw new CubbyError('an id in the URL path must not be empty')
  return encodeURIComponent(value)
}

/** The fields that were given (`undefined` means "not given" throughout this client). */
export function compact<T extends Record<string, unknown>>(fields: T): Partial<T> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = value
  return out as Partial<T>
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new APIUserAbortError('request aborted', { cause: signal.reason }))
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(new APIUserAbortError('request aborted', { cause: signal?.reason }))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

interface Answer {
  status: number
  statusText: string
  headers: Headers
  text: string
}

/** Settings plus the send loop; `Cubby` adds the resources on top. */
export class APIClient {
  readonly apiKey: string
  readonly baseUrl: string
  readonly timeout: number
  readonly maxRetries: number
  protected readonly options: ClientOptions
  private readonly fetchImpl: Fetch
  private readonly retry: RetryPolicy
  private readonly headers: Record<string, string>

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? env('CUBBY_API_KEY')
    if (!apiKey) {
      throw new CubbyError(
        'no API key: pass { apiKey } or set CUBBY_API_KEY ' +
          '(`cubby api-keys create --name NAME` makes one)',
      )
    }
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new CubbyError('maxRetries must be an integer >= 0')
    }
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis)
    if (typeof fetchImpl !== 'function') {
      throw new CubbyError('no fetch in this runtime: pass { fetch } (Node 18+ has one)')
    }
    this.options = options
    this.apiKey = apiKey
    this.baseUrl = normalizeBaseUrl(options.baseUrl ?? env('CUBBY_BASE_URL') ?? DEFAULT_BASE_URL)
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT
    this.maxRetries = maxRetries
    this.fetchImpl = fetchImpl
    this.retry = new RetryPolicy({ maxRetries })
    this.headers = {
      Accept: 'application/json',
      ...options.defaultHeaders,
      Authorization: `Bearer ${apiKey}`,
    }
  }

  /** Call any route (`path` like `/api/v1/...`) with auth, retries and errors; the parsed JSON. */
  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions & { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    if (!path.startsWith('/')) {
      throw new CubbyError("path must start with '/', e.g. '/api/v1/workspaces'")
    }
    const { query, body, ...rest } = options
    return this.send<T>({ method: method.toUpperCase(), path, query, body }, rest)
  }

  /** Send a call: retry what may be retried, then parse the JSON body or throw its error. */
  async send<T>(call: Call, options: RequestOptions = {}): Promise<T> {
    const url = this.url(call)
    const idempotent = call.idempotent ?? IDEMPOTENT_METHODS.has(call.method)
    const policy =
      options.maxRetries === undefined ? this.retry : new RetryPolicy({ maxRetries: options.maxRetries })
    for (let attempt = 0; ; attempt++) {
      let delay: number | undefined
      const answer = await this.attempt(url, call, options)
      if (answer instanceof CubbyError) {
        if (answer instanceof APIUserAbortError) throw answer
        delay = policy.afterError(idempotent, attempt)
        if (delay === undefined) throw answer
      } else if (answer.status >= 200 && answer.status < 300) {
        return this.parse<T>(call, answer)
      } else {
        const error = statusError(answer.status, answer.statusText, answer.headers, answer.text)
        const retryAfter = answer.headers.get('retry-after')
        delay = policy.afterResponse(answer.status, retryAfter, idempotent, attempt, error.code)
        if (delay === undefined) throw error
      }
      await sleep(delay * 1000, options.signal)
    }
  }

  private url(call: Call): string {
    let url = this.baseUrl + call.path
    const params = new URLSearchParams()
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined && value !== null) params.append(name, String(value))
    }
    const qs = params.toString()
    if (qs) url += `?${qs}`
    return url
  }

  /** One attempt: the whole answer read as text, or the error that stopped it. */
  private async attempt(url: string, call: Call, options: RequestOptions): Promise<Answer | CubbyError> {
    const signal = options.signal
    if (signal?.aborted) return new APIUserAbortError('request aborted', { cause: signal.reason })
    const timeout = options.timeout ?? this.timeout
    const controller = new AbortController()
    let timedOut = false
    const timer =
      timeout > 0 && Number.isFinite(timeout)
        ? setTimeout(() => {
            timedOut = true
            controller.abort()
          }, timeout)
        : undefined
    const onAbort = () => controller.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    const headers: Record<string, string> = { ...this.headers, ...options.headers }
    const init: RequestInit = { method: call.method, headers, signal: controller.signal }
    if (call.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(call.body)
    }
    headers['Authorization'] = `Bearer ${this.apiKey}`
    try {
      const response = await this.fetchImpl(url, init)
      const text = await response.text()
      return { status: response.status, statusText: response.statusText, headers: response.headers, text }
    } catch (error) {
      if (signal?.aborted) return new APIUserAbortError('request aborted', { cause: error })
      if (timedOut) {
        return new APITimeoutError(`${call.method} ${call.path} timed out after ${timeout} ms`, {
          cause: error,
        })
      }
      const reason = error instanceof Error ? describeCause(error) : String(error)
      return new APIConnectionError(`connection error (${call.method} ${url}): ${reason}`, {
        cause: error,
      })
    } finally {
      if (timer !== undefined) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  private parse<T>(call: Call, answer: Answer): T {
    if (!answer.text) return undefined as T
    try {
      return JSON.parse(answer.text) as T
    } catch (error) {
      throw new CubbyError(
        `expected JSON from ${call.method} ${call.path}, got ` +
          `${answer.headers.get('content-type') ?? 'no content type'}`,
        { status: answer.status, cause: error },
      )
    }
  }
}

function describeCause(error: Error): string {
  const cause = (error as { cause?: unknown }).cause
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return `${error.message}: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`
  }
  return error.message
}
