"""The error tree. Each class knows its HTTP status and API code (API.md "Errors").

CubbyError
├── ValidationError          400 VALIDATION_ERROR
├── InvalidJSON              400 INVALID_JSON
├── AmbiguousIntegration     400 AMBIGUOUS_INTEGRATION
├── ActionFailed             400 ACTION_FAILED (details.reason)
├── Unauthenticated          401 UNAUTHENTICATED
├── Forbidden                403 FORBIDDEN
├── ScopeDenied              403 SCOPE_DENIED
├── ActionNotAllowed         403 ACTION_NOT_ALLOWED
├── QuotaExceeded            403 QUOTA_EXCEEDED (details: limit, used, requested, scope, resource)
├── NotFound                 404 NOT_FOUND
├── IntegrationNotFound      404 INTEGRATION_NOT_FOUND
├── ActionNotFound           404 ACTION_NOT_FOUND
├── MethodNotAllowed         405 METHOD_NOT_ALLOWED
├── Conflict                 409 DUPLICATE / SLUG_EXISTS / ALIAS_CONFLICT
│   ├── IdempotencyConflict  409 IDEMPOTENCY_CONFLICT (the key was used for another request)
│   └── IdempotencyInProgress 409 IDEMPOTENCY_IN_PROGRESS (the first call is still running)
├── RequestTimeout           408 REQUEST_TIMEOUT
├── RateLimited              429 RATE_LIMITED (Retry-After; details: limit, retryAfter)
├── PayloadTooLarge          413 PAYLOAD_TOO_LARGE
├── RangeNotSatisfiable      416 RANGE_NOT_SATISFIABLE
├── InternalError            500 INTERNAL_ERROR
├── Unavailable              503 UNAVAILABLE
└── InsufficientStorage      507 INSUFFICIENT_STORAGE

:func:`catalog` lists every code with its status and meaning (the class docstrings); the
OpenAPI document's error-code enum and ``/docs`` are made from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CubbyError(Exception):
    """Base of every error cubby answers; its subclasses are the API's error codes."""

    status: int = 500
    code: str = "INTERNAL_ERROR"
    # Further codes raised as ``SomeError(..., code="X")`` with this class's status: X -> meaning.
    also: dict[str, str] = {}

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers  # extra response headers, e.g. Content-Range on a 416
        if code is not None:
            self.code = code

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


class ValidationError(CubbyError):
    """The request is well-formed JSON but a field is wrong; `details.field` names it."""

    status = 400
    code = "VALIDATION_ERROR"

    @classmethod
    def for_field(cls, field: str, message: str, **extra: Any) -> ValidationError:
        return cls(message, details={"field": field, **extra})


class InvalidJSON(CubbyError):
    """The body is not valid JSON (or not UTF-8)."""

    status = 400
    code = "INVALID_JSON"


class AmbiguousIntegration(CubbyError):
    """The workspace has several integrations of this kind; send `integrationAlias` (`details`
    lists the aliases).
    """

    status = 400
    code = "AMBIGUOUS_INTEGRATION"


class ActionFailed(CubbyError):
    """The action ran and failed; `details.reason` says why (`FILE_NOT_FOUND`, `NOT_A_LIST`,
    `NOT_UTF8`, `CONFLICT`, ...).
    """

    status = 400
    code = "ACTION_FAILED"

    def __init__(self, message: str, *, reason: str, **details: Any) -> None:
        super().__init__(message, details={"reason": reason, **details})
        self.reason = reason


class Unauthenticated(CubbyError):
    """No API key, or an unknown, revoked or expired one."""

    status = 401
    code = "UNAUTHENTICATED"


class Forbidden(CubbyError):
    """The key may not do this (e.g. managing API keys needs an organisation-wide key), or a
    download URL is invalid or expired.
    """

    status = 403
    code = "FORBIDDEN"


class ScopeDenied(CubbyError):
    """The key is restricted to other workspaces."""

    status = 403
    code = "SCOPE_DENIED"


class ActionNotAllowed(CubbyError):
    """The workspace integration's `enabledActions` does not include this action."""

    status = 403
    code = "ACTION_NOT_ALLOWED"


class QuotaExceeded(CubbyError):
    """The write would take the workspace's or the end user's usage past a limit; nothing was
    written. `details`: limit, used, requested, scope (`workspace` or `end_user`), resource
    (`bytes`, `files`, `keys` or `items`). Deletes and shrinking overwrites still work.
    """

    status = 403
    code = "QUOTA_EXCEEDED"


def quota_exceeded(details: dict[str, Any]) -> QuotaExceeded:
    """The refusal of a write a usage trigger stopped (both backends build it here)."""
    from cubby import metrics  # the refusal metric; metrics imports nothing of cubby

    metrics.LIMIT_REFUSALS.labels("quota", str(details.get("resource"))).inc()
    scope = "end user's" if details.get("scope") == "end_user" else "workspace's"
    return QuotaExceeded(
        f"this write would take the {scope} {details.get('resource')} past the limit of "
        f"{details.get('limit')}; nothing was written",
        details=details,
    )


class NotFound(CubbyError):
    """No such resource (workspace, key, integration, route)."""

    status = 404
    code = "NOT_FOUND"


class IntegrationNotFound(CubbyError):
    """No integration with this `integrationName` is registered."""

    status = 404
    code = "INTEGRATION_NOT_FOUND"


class ActionNotFound(CubbyError):
    """The integration has no action with this `actionName`."""

    status = 404
    code = "ACTION_NOT_FOUND"


class MethodNotAllowed(CubbyError):
    """The path exists but not with this method; the `Allow` header lists the methods."""

    status = 405
    code = "METHOD_NOT_ALLOWED"


class Conflict(CubbyError):
    """The request conflicts with what exists (`DUPLICATE`: e.g. an end user's `externalId` in
    use).
    """

    status = 409
    code = "DUPLICATE"
    also = {
        "SLUG_EXISTS": "Another workspace has this slug.",
        "ALIAS_CONFLICT": "The workspace already has an integration with this alias.",
        "LAST_ORG_KEY": "This is the last active organisation-wide API key: create another "
        "one first, then revoke this one.",
    }


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_CONFLICT"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"


class RequestTimeout(CubbyError):
    """The request's headers or body did not arrive in time (`details.limit` gives the seconds);
    the server closes the connection after this answer."""

    status = 408
    code = "REQUEST_TIMEOUT"


class RateLimited(CubbyError):
    """More requests for this workspace than its `requestsPerSecond` allows; retry after the
    `Retry-After` header's seconds (`details`: limit, retryAfter).
    """

    status = 429
    code = "RATE_LIMITED"

    @classmethod
    def after(cls, limit: float, seconds: int) -> RateLimited:
        return cls(
            f"too many requests for this workspace (limit {limit:g} per second); "
            f"retry in {seconds} s",
            details={"limit": limit, "retryAfter": seconds},
            headers={"Retry-After": str(seconds)},
        )


class PayloadTooLarge(CubbyError):
    """The body, a KV value or a file is over its limit; `details.limit` gives it."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RangeNotSatisfiable(CubbyError):
    """A download's `Range` starts past the end of the file; `details.size` gives its size."""

    status = 416
    code = "RANGE_NOT_SATISFIABLE"

    @classmethod
    def for_size(cls, size: int) -> RangeNotSatisfiable:
        return cls(
            f"the requested range is outside the file ({size} bytes)",
            details={"size": size},
            headers={"content-range": f"bytes */{size}"},
        )


class InternalError(CubbyError):
    """A bug in cubby; the server log has the details (never the body)."""

    status = 500
    code = "INTERNAL_ERROR"


class Unavailable(CubbyError):
    """A part of the server is not running yet or any more (e.g. the MCP endpoint outside the
    app's lifespan); retry later."""

    status = 503
    code = "UNAVAILABLE"


class InsufficientStorage(CubbyError):
    """The disk or bucket holding the data is full; nothing was written. Deleting files
    (`delete_file`, `delete_folder`) still works, to free space."""

    status = 507
    code = "INSUFFICIENT_STORAGE"


def framework_error(status: int, detail: str) -> CubbyError:
    """An HTTP error the framework raised (a malformed multipart form, too many files, ...) as
    the API's error of that status, so every answer carries a documented code: 413
    PAYLOAD_TOO_LARGE, 408 REQUEST_TIMEOUT, 401, 403, 416, 429, 503 likewise; anything else
    is the request's fault, 400 VALIDATION_ERROR."""
    kinds: dict[int, type[CubbyError]] = {
        401: Unauthenticated,
        403: Forbidden,
        408: RequestTimeout,
        413: PayloadTooLarge,
        416: RangeNotSatisfiable,
        429: RateLimited,
        503: Unavailable,
    }
    kind = kinds.get(status)
    if kind is not None:
        return kind(detail)
    return ValidationError(f"malformed request: {detail}", details={"field": None})


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    meaning: str


def statuses() -> dict[str, int]:
    """Each code's HTTP status."""
    return {e.code: e.status for e in catalog()}


def catalog() -> list[ErrorCode]:
    """Every code the API can answer, from the class tree (``code`` and ``also`` of each
    class), with its status and meaning (the class docstring), by status then code."""
    found: dict[str, ErrorCode] = {}

    def walk(cls: type[CubbyError]) -> None:
        doc = (cls.__doc__ or "").strip().split("\n\n")[0]
        meaning = " ".join(doc.split()) or _humanize(cls.__name__)
        found.setdefault(cls.code, ErrorCode(cls.code, cls.status, meaning))
        for code, text in cls.__dict__.get("also", {}).items():
            found.setdefault(code, ErrorCode(code, cls.status, text))
        for sub in cls.__subclasses__():
            walk(sub)

    for sub in CubbyError.__subclasses__():
        walk(sub)
    return sorted(found.values(), key=lambda e: (e.status, e.code))


def _humanize(name: str) -> str:
    words = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in name).strip()
    return words[:1].upper() + words[1:] + "."
