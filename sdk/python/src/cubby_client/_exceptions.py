"""The exception tree. Every error the client raises is a :class:`CubbyError`.

CubbyError                        client-side problems (e.g. no API key); base of everything
├── APIConnectionError            the request never got an HTTP response
│   └── APITimeoutError           ... because it timed out
└── APIStatusError                the server answered with a non-2xx status
    ├── BadRequestError           400  VALIDATION_ERROR, INVALID_JSON, AMBIGUOUS_INTEGRATION,
    │                                  ACTION_FAILED (``.reason`` = ``details["reason"]``)
    ├── AuthenticationError       401  UNAUTHENTICATED
    ├── PermissionDeniedError     403  FORBIDDEN, SCOPE_DENIED, ACTION_NOT_ALLOWED
    │   └── QuotaExceededError    403  QUOTA_EXCEEDED (``.details``: limit, used, requested,
    │                                  scope, resource); never retried
    ├── NotFoundError             404  NOT_FOUND, INTEGRATION_NOT_FOUND, ACTION_NOT_FOUND
    ├── ConflictError             409  DUPLICATE, SLUG_EXISTS, ALIAS_CONFLICT
    ├── PayloadTooLargeError      413  PAYLOAD_TOO_LARGE
    ├── RateLimitError            429  RATE_LIMITED
    └── ServerError               5xx  INTERNAL_ERROR, or whatever a proxy in between said

Each carries ``.status`` (``None`` when no response arrived), ``.code`` (the API's error code),
``.details`` (the API's ``details`` object, ``{}`` when absent) and ``.message``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CubbyError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
]


class CubbyError(Exception):
    """Base of every error this package raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details: dict[str, Any] = details or {}

    @property
    def reason(self) -> str | None:
        """``details["reason"]`` of an ``ACTION_FAILED`` error (e.g. ``FILE_NOT_FOUND``)."""
        reason = self.details.get("reason")
        return reason if isinstance(reason, str) else None

    def __str__(self) -> str:
        prefix = " ".join(str(p) for p in (self.status, self.code) if p is not None)
        return f"{prefix}: {self.message}" if prefix else self.message


class APIConnectionError(CubbyError):
    """No HTTP response: connection refused, DNS failure, connection dropped, ..."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out (see the client's ``timeout``)."""


class APIStatusError(CubbyError):
    """The server answered with a 4xx or 5xx status; ``.response`` is the raw response."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status=response.status_code, code=code, details=details)
        self.response = response


class BadRequestError(APIStatusError):
    """400: the request was invalid, or the action ran and failed (``ACTION_FAILED``)."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, unknown, revoked or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (wrong workspace, not organisation-wide, ...)."""


class QuotaExceededError(PermissionDeniedError):
    """403 ``QUOTA_EXCEEDED``: the write would pass a workspace or end-user limit; nothing was
    written. ``.details`` says which: ``limit``, ``used``, ``requested``, ``scope``
    (``workspace`` or ``end_user``) and ``resource`` (``bytes``, ``files``, ``keys``,
    ``items``). Deleting data frees room."""


class NotFoundError(APIStatusError):
    """404: no such workspace, integration, action, key or route."""


class ConflictError(APIStatusError):
    """409: a slug or alias is already taken."""


class PayloadTooLargeError(APIStatusError):
    """413: the request body or the value is over the server's limit."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically, raised once retries run out."""


class ServerError(APIStatusError):
    """5xx: the server (or something in front of it) failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}


def error_class(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP status (``APIStatusError`` for unlisted 4xx)."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIStatusError)


def status_error(response: httpx.Response) -> APIStatusError:
    """Build the right exception from an error response (the body is already read)."""
    message = response.reason_phrase or f"HTTP {response.status_code}"
    code: str | None = None
    details: dict[str, Any] | None = None
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
        text = response.text.strip()
        if text:
            message = text[:500]
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            message = body["error"]
        if isinstance(body.get("code"), str):
            code = body["code"]
        if isinstance(body.get("details"), dict):
            details = body["details"]
    cls = error_class(response.status_code)
    if code == "QUOTA_EXCEEDED" and response.status_code == 403:
        cls = QuotaExceededError
    return cls(message, response=response, code=code, details=details)


def transport_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    """Wrap an httpx transport failure (the original stays as ``__cause__``)."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request timed out: {exc}", request=request)
    return APIConnectionError(f"connection error: {exc}", request=request)
