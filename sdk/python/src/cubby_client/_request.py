"""What a call sends, described once and sent by either the sync or the async client.

Every public method builds an :class:`APIRequest` with a pure function and hands it to the
client's ``_send``; the request says how to turn the decoded JSON body into the method's return
value (``parse``). That is why ``Cubby`` and ``AsyncCubby`` share everything but the send loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

__all__ = ["APIRequest", "AsyncSender", "SyncSender", "compact", "segment"]

T = TypeVar("T")
U = TypeVar("U")


def _as_is(body: Any) -> Any:
    return body


@dataclass(frozen=True)
class APIRequest(Generic[T]):
    """One API call: method, path under the base URL, query, JSON body, and how to parse it."""

    method: str
    path: str
    params: Mapping[str, str | int] | None = None
    json: Any = None
    parse: Callable[[Any], T] = field(default=_as_is)
    retry_safe: bool = False  # running it twice is harmless (an execute with idempotencyKey)

    def then(self, parse: Callable[[T], U]) -> APIRequest[U]:
        """The same call with ``parse`` applied to this request's result."""
        first = self.parse
        return APIRequest(
            self.method,
            self.path,
            self.params,
            self.json,
            lambda body: parse(first(body)),
            self.retry_safe,
        )


class SyncSender(Protocol):
    """What resources need from ``Cubby``."""

    def _send(self, request: APIRequest[T]) -> T: ...


class AsyncSender(Protocol):
    """What resources need from ``AsyncCubby``."""

    async def _send(self, request: APIRequest[T]) -> T: ...


def compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that were given (``None`` means "not given" throughout this client)."""
    return {name: value for name, value in fields.items() if value is not None}


def segment(value: str) -> str:
    """A path segment, percent-encoded so an id can never change the route."""
    if not value:
        raise ValueError("an id in the URL path must not be empty")
    return quote(value, safe="")
