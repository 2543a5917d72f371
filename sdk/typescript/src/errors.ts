/**
 * The error tree. Every error the client throws is a {@link CubbyError}.
 *
 * ```text
 * CubbyError                        client-side problems (e.g. no API key); base of everything
 * ├── APIUserAbortError             the caller's AbortSignal fired
 * ├── APIConnectionError            the request never got an HTTP response
 * │   └── APITimeoutError           ... because it timed out (the `timeout` option)
 * └── APIStatusError                the server answered with a non-2xx status
 *     ├── BadRequestError           400  VALIDATION_ERROR, INVALID_JSON, AMBIGUOUS_INTEGRATION,
 *     │                                  ACTION_FAILED (`.reason` = `details.reason`)
 *     ├── AuthenticationError       401  UNAUTHENTICATED
 *     ├── PermissionDeniedError     403  FORBIDDEN, SCOPE_DENIED, ACTION_NOT_ALLOWED
 *     │   └── QuotaExceededError    403  QUOTA_EXCEEDED (`details`: limit, used, requested, scope,
 *     │                                  resource); never retried
 *     ├── NotFoundError             404  NOT_FOUND, INTEGRATION_NOT_FOUND, ACTION_NOT_FOUND
 *     ├── ConflictError             409  DUPLICATE, SLUG_EXISTS, ALIAS_CONFLICT, IDEMPOTENCY_*
 *     ├── PayloadTooLargeError      413  PAYLOAD_TOO_LARGE
 *     ├── RateLimitError            429  RATE_LIMITED
 *     └── ServerError               5xx  INTERNAL_ERROR, or whatever a proxy in between said
 * ```
 *
 * Each carries `status` (`undefined` when no response arrived), `code` (the API's error code),
 * `details` (the API's `details` object, `{}` when absent) and `message`; the same tree as the
 * Python SDK's.
 */

export interface CubbyErrorInit {
  status?: number | undefined
  code?: string | undefined
  details?: Record<string, unknown> | undefined
  cause?: unknown
}

/** Base of every error this package throws. */
export class CubbyError extends Error {
  readonly status: number | undefined
  readonly code: string | undefined
  readonly details: Record<string, unknown>

  constructor(message: string, init: CubbyErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = new.target.name
    this.status = init.status
    this.code = init.code
    this.details = init.details ?? {}
  }

  /** `details.reason` of an `ACTION_FAILED` error (e.g. `FILE_NOT_FOUND`, `NOT_A_LIST`). */
  get reason(): string | undefined {
    const reason = this.details['reason']
    return typeof reason === 'string' ? reason : undefined
  }
}

/** The `signal` passed to a call was aborted; never retried. */
export class APIUserAbortError extends CubbyError {}

/** No HTTP response: connection refused, DNS failure, connection dropped, ... */
export class APIConnectionError extends CubbyError {}

/** The request (including reading its answer) took longer than `timeout` milliseconds. */
export class APITimeoutError extends APIConnectionError {}

/** The server answered with a 4xx or 5xx status. `headers` are the answer's headers. */
export class APIStatusError extends CubbyError {
  declare readonly status: number
  readonly headers: Headers

  constructor(message: string, status: number, headers: Headers, init: CubbyErrorInit = {}) {
    super(message, { ...init, status })
    this.headers = headers
  }
}

/** 400: the request was invalid, or the action ran and failed (`code === 'ACTION_FAILED'`). */
export class BadRequestError extends APIStatusError {}
/** 401: the API key is missing, unknown, revoked or expired. */
export class AuthenticationError extends APIStatusError {}
/** 403: the key may not do this (another workspace, not organisation-wide, ...). */
export class PermissionDeniedError extends APIStatusError {}
/** 404: no such workspace, integration, action, key or route. */
export class NotFoundError extends APIStatusError {}
/** 409: a slug or alias is taken, or an idempotency key was reused with another body. */
export class ConflictError extends APIStatusError {}
/** 413: the request body or the value is over the server's limit. */
export class PayloadTooLargeError extends APIStatusError {}
/**
 * 403 `QUOTA_EXCEEDED`: the write would pass a workspace or end-user limit; nothing was written.
 * `details` says which: `limit`, `used`, `requested`, `scope` (`workspace` or `end_user`) and
 * `resource` (`bytes`, `files`, `keys`, `items`). Deleting data frees room.
 */
export class QuotaExceededError extends PermissionDeniedError {}
/** 429: too many requests; retried automatically, thrown once retries run out. */
export class RateLimitError extends APIStatusError {}
/** 5xx: the server (or something in front of it) failed. */
export class ServerError extends APIStatusError {}

type StatusErrorClass = new (
  message: string,
  status: number,
  headers: Headers,
  init?: CubbyErrorInit,
) => APIStatusError

const BY_STATUS: Record<number, StatusErrorClass> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  429: RateLimitError,
}

/** The error class for an HTTP status (`APIStatusError` for unlisted 4xx). */
export function errorClass(status: number): StatusErrorClass {
  if (status >= 500) return ServerError
  return BY_STATUS[status] ?? APIStatusError
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The right error for an error answer, from its status, headers and body text. */
export function statusError(status: number, statusText: string, headers: Headers, text: string) {
  let message = statusText || `HTTP ${status}`
  let code: string | undefined
  let details: Record<string, unknown> | undefined
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    if (text.trim()) message = text.trim().slice(0, 500)
  }
  if (isRecord(body)) {
    if (typeof body['error'] === 'string') message = body['error']
    if (typeof body['code'] === 'string') code = body['code']
    if (isRecord(body['details'])) details = body['details']
  }
  const ErrorClass =
    status === 403 && code === 'QUOTA_EXCEEDED' ? QuotaExceededError : errorClass(status)
  return new ErrorClass(message, status, headers, { code, details })
}
