"""Both errors of issue 25 through the Python SDK over a real socket (acceptance 4): a quota
refusal is a QuotaExceededError (a PermissionDeniedError, never retried) with its details, a
rate-limit refusal a RateLimitError when retries are off, and with retries on the SDK's retry
after the 429's Retry-After succeeds once the bucket has refilled. The TypeScript SDK's twin is
sdk/typescript/test/limits.test.ts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cubby_client import Cubby, PermissionDeniedError, QuotaExceededError, RateLimitError

from tests.helpers import live_server

pytestmark = pytest.mark.slow


def test_sdk_errors_and_retry_after_429(tmp_path: Path) -> None:
    with (
        live_server(tmp_path) as server,
        Cubby(api_key=server.key, base_url=server.base_url) as client,
    ):
        ws = client.workspaces.create(name="SDK limits", slug="sdk-limits")["workspace"]["id"]
        limits = {"maxKeys": 1, "requestsPerSecond": 0.5, "burst": 1}
        applied = client.workspaces.set_limits(ws, limits)["limits"]
        assert applied["maxKeys"] == 1 and applied["burst"] == 1
        assert client.workspaces.get_limits(ws) == {"limits": applied}

        def put(c: Cubby, key: str) -> object:
            return c.actions.execute(
                "kv-store", "put", workspace_id=ws, end_user_id="u",
                input={"key": key, "value": 1},
            )  # fmt: skip

        put(client, "a")  # the bucket's one token
        once = Cubby(api_key=server.key, base_url=server.base_url, max_retries=0)
        with once, pytest.raises(RateLimitError) as limited:
            put(once, "b")
        assert limited.value.status == 429 and limited.value.code == "RATE_LIMITED"
        assert limited.value.details["limit"] == 0.5
        assert limited.value.details["retryAfter"] in (1, 2)

        time.sleep(2.1)
        with pytest.raises(QuotaExceededError) as refused:
            put(client, "b")
        assert isinstance(refused.value, PermissionDeniedError)
        assert refused.value.details == {
            "limit": 1, "used": 1, "requested": 1, "scope": "workspace", "resource": "keys",
        }  # fmt: skip

        # the bucket is empty now: the next call gets a 429, waits its Retry-After, succeeds
        started = time.monotonic()
        put(client, "a")
        assert time.monotonic() - started >= 0.9
        assert client.workspaces.usage(ws)["usage"]["keys"] == 1
