"""Configuration and the I/O-free halves of a call, shared by ``Cubby`` and ``AsyncCubby``."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from cubby_client._exceptions import CubbyError, status_error
from cubby_client._request import APIRequest
from cubby_client._retry import RetryPolicy
from cubby_client._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "BaseClient",
    "NotGiven",
]

T = TypeVar("T")

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2


class NotGiven:
    """Marks an option left out (so ``None`` can mean "no timeout")."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN = NotGiven()


def normalize_base_url(url: str) -> str:
    """``http://host:8080``, with any trailing ``/`` or ``/api/v1`` dropped (paths add it)."""
    url = url.strip().rstrip("/")
    if url.endswith("/api/v1"):
        url = url[: -len("/api/v1")]
    if not url.startswith(("http://", "https://")):
        raise CubbyError(f"base_url must start with http:// or https://, got {url!r}")
    return url


class BaseClient:
    """Settings, headers, request building and response handling; subclasses add the I/O."""

    api_key: str
    base_url: str
    timeout: float | httpx.Timeout | None
    max_retries: int

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        api_key = api_key or os.environ.get("CUBBY_API_KEY")
        if not api_key:
            raise CubbyError(
                "no API key: pass api_key=... or set CUBBY_API_KEY "
                "(`cubby api-keys create --name NAME` makes one)"
            )
        if max_retries < 0:
            raise CubbyError("max_retries must be >= 0")
        self.api_key = api_key
        self.base_url = normalize_base_url(
            base_url or os.environ.get("CUBBY_BASE_URL") or DEFAULT_BASE_URL
        )
        self.timeout = timeout
        self.max_retries = max_retries
        self._retry = RetryPolicy(max_retries=max_retries)
        self._custom_headers = dict(default_headers or {})
        self._headers = {
            "Accept": "application/json",
            "User-Agent": f"cubby-client-python/{__version__} "
            f"python/{platform.python_version()} httpx/{httpx.__version__}",
            **self._custom_headers,
            "Authorization": f"Bearer {api_key}",
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _options(
        self,
        timeout: float | httpx.Timeout | NotGiven | None,
        max_retries: int | NotGiven,
    ) -> dict[str, Any]:
        """Constructor arguments for ``with_options``: these settings with some replaced."""
        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout": self.timeout if isinstance(timeout, NotGiven) else timeout,
            "max_retries": self.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            "default_headers": self._custom_headers,
        }

    def _build(self, http: httpx.Client | httpx.AsyncClient, req: APIRequest[Any]) -> httpx.Request:
        """The httpx request for ``req`` (through ``http`` so its defaults apply)."""
        kwargs: dict[str, Any] = {}
        if req.json is not None:
            kwargs["json"] = req.json
        return http.build_request(
            req.method,
            self.base_url + req.path,
            params=dict(req.params) if req.params else None,
            headers=self._headers,
            timeout=self.timeout,
            **kwargs,
        )

    @staticmethod
    def _finish(req: APIRequest[T], response: httpx.Response) -> T:
        """The parsed result of a final response, or the error it stands for."""
        if response.is_error:
            raise status_error(response)
        try:
            body = response.json() if response.content else None
        except ValueError as exc:
            raise CubbyError(
                f"expected JSON from {req.method} {req.path}, got "
                f"{response.headers.get('content-type', 'no content type')}",
                status=response.status_code,
            ) from exc
        return req.parse(body)
