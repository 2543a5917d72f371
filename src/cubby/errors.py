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
├── NotFound                 404 NOT_FOUND
├── IntegrationNotFound      404 INTEGRATION_NOT_FOUND
├── ActionNotFound           404 ACTION_NOT_FOUND
├── MethodNotAllowed         405 METHOD_NOT_ALLOWED
├── Conflict                 409 DUPLICATE / SLUG_EXISTS / ALIAS_CONFLICT
│   ├── IdempotencyConflict  409 IDEMPOTENCY_CONFLICT (the key was used for another request)
│   └── IdempotencyInProgress 409 IDEMPOTENCY_IN_PROGRESS (the first call is still running)
├── PayloadTooLarge          413 PAYLOAD_TOO_LARGE
├── RangeNotSatisfiable      416 RANGE_NOT_SATISFIABLE
└── InternalError            500 INTERNAL_ERROR
"""

from __future__ import annotations

from typing import Any


class CubbyError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"

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
    status = 400
    code = "VALIDATION_ERROR"

    @classmethod
    def for_field(cls, field: str, message: str, **extra: Any) -> ValidationError:
        return cls(message, details={"field": field, **extra})


class InvalidJSON(CubbyError):
    status = 400
    code = "INVALID_JSON"


class AmbiguousIntegration(CubbyError):
    status = 400
    code = "AMBIGUOUS_INTEGRATION"


class ActionFailed(CubbyError):
    status = 400
    code = "ACTION_FAILED"

    def __init__(self, message: str, *, reason: str, **details: Any) -> None:
        super().__init__(message, details={"reason": reason, **details})
        self.reason = reason


class Unauthenticated(CubbyError):
    status = 401
    code = "UNAUTHENTICATED"


class Forbidden(CubbyError):
    status = 403
    code = "FORBIDDEN"


class ScopeDenied(CubbyError):
    status = 403
    code = "SCOPE_DENIED"


class ActionNotAllowed(CubbyError):
    status = 403
    code = "ACTION_NOT_ALLOWED"


class NotFound(CubbyError):
    status = 404
    code = "NOT_FOUND"


class IntegrationNotFound(CubbyError):
    status = 404
    code = "INTEGRATION_NOT_FOUND"


class ActionNotFound(CubbyError):
    status = 404
    code = "ACTION_NOT_FOUND"


class MethodNotAllowed(CubbyError):
    status = 405
    code = "METHOD_NOT_ALLOWED"


class Conflict(CubbyError):
    status = 409
    code = "DUPLICATE"


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_CONFLICT"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"


class PayloadTooLarge(CubbyError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RangeNotSatisfiable(CubbyError):
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
    status = 500
    code = "INTERNAL_ERROR"
