/**
 * When to retry and how long to wait: pure decisions, the same rules as the Python SDK's.
 *
 * - 429 is retried for every request: the server refused it before doing anything.
 * - 5xx (and 408), network errors and timeouts are retried only for idempotent requests: GET,
 *   HEAD, OPTIONS, PUT, DELETE, and action executions that carry an `idempotencyKey` (the server
 *   runs those at most once). Any other POST that failed half-way may have run, and running it
 *   twice is not ours to decide.
 * - For those execute calls with an `idempotencyKey`, a 409 `IDEMPOTENCY_IN_PROGRESS` (the first
 *   attempt is still running on the server) is retried too.
 * - The wait is `Retry-After` when the server sends one (seconds or an HTTP date, capped at
 *   `maxRetryAfter`), else exponential backoff from `initialDelay` doubling up to `maxDelay`,
 *   minus up to 25% random jitter so many clients do not retry in lockstep.
 */

export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
])

/** Seconds to wait from a `Retry-After` value, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined
  const text = value.trim()
  if (text === '') return undefined
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
  const when = Date.parse(text)
  if (Number.isNaN(when)) return undefined
  return Math.max(0, (when - now) / 1000)
}

export interface RetryPolicyOptions {
  maxRetries?: number
  /** Seconds before the first retry (doubling each time). */
  initialDelay?: number
  /** Seconds: the longest backoff. */
  maxDelay?: number
  /** Seconds: the longest `Retry-After` honoured. */
  maxRetryAfter?: number
  /** Random source in [0, 1) for the jitter (tests pin it). */
  random?: () => number
}

/** Retry decisions for one client. `attempt` counts retries already made (0 at first). */
export class RetryPolicy {
  readonly maxRetries: number
  readonly initialDelay: number
  readonly maxDelay: number
  readonly maxRetryAfter: number
  private readonly random: () => number

  constructor(options: RetryPolicyOptions = {}) {
    this.maxRetries = options.maxRetries ?? 2
    this.initialDelay = options.initialDelay ?? 0.5
    this.maxDelay = options.maxDelay ?? 8
    this.maxRetryAfter = options.maxRetryAfter ?? 60
    this.random = options.random ?? Math.random
  }

  /**
   * Seconds to wait before retrying this status, or undefined to return/throw it. `code` is the
   * API's error code of the answer, when it has one.
   */
  afterResponse(
    status: number,
    retryAfter: string | null,
    idempotent: boolean,
    attempt: number,
    code?: string,
  ): number | undefined {
    if (attempt >= this.maxRetries) return undefined
    if (status === 429 || (idempotent && (status >= 500 || status === 408))) {
      return this.delay(attempt, retryAfter)
    }
    if (idempotent && status === 409 && code === 'IDEMPOTENCY_IN_PROGRESS') {
      return this.delay(attempt, retryAfter)
    }
    return undefined
  }

  /** Seconds to wait before retrying after a network error or timeout, or undefined. */
  afterError(idempotent: boolean, attempt: number): number | undefined {
    if (attempt >= this.maxRetries || !idempotent) return undefined
    return this.delay(attempt, null)
  }

  /** The wait before retry number `attempt + 1`, in seconds. */
  delay(attempt: number, retryAfter: string | null): number {
    const asked = parseRetryAfter(retryAfter)
    if (asked !== undefined) return Math.min(asked, this.maxRetryAfter)
    const backoff = Math.min(this.maxDelay, this.initialDelay * 2 ** attempt)
    return backoff * (1 - 0.25 * this.random())
  }
}
