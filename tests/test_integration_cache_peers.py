"""Two processes on one database (issue 16, item 11): an integration created through one is
usable through the other at once, even while the other holds a cached lookup of that workspace
(``CUBBY_KEY_CACHE_SECONDS`` long here, so only the fix can make it pass)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.core import keys
from cubby.services import Services
from cubby.settings import Settings
from cubby.wiring import build_services
from tests import backends
from tests.helpers import Api

SCOPE = {"persistence": {"scope": "workspace"}}


@pytest.fixture(params=["sqlite", "postgres"])
def peers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    url = backends.postgres_url() if request.param == "postgres" else ""
    settings = Settings(data_dir=tmp_path / "data", database_url=url, key_cache_seconds=600)
    first: Services = build_services(settings)
    second: Services = build_services(settings)
    try:
        _, plain = asyncio.run(keys.create_key(first.meta, "tests", None, None))
        with (
            TestClient(create_app(settings, first)) as a,
            TestClient(create_app(settings, second)) as b,
        ):
            yield Api(a, plain), Api(b, plain)
    finally:
        first.close()
        second.close()


def test_alias_created_elsewhere_is_found_at_once(peers: tuple[Api, Api]) -> None:
    one, other = peers
    ws = one.create_workspace("peers")
    one.add_integration(ws, "kv-store", "first", SCOPE)
    # Both processes cache the workspace's kv-store integrations: just "first".
    for api in (one, other):
        api.output("kv-store", "put", ws, {"key": "k", "value": 1}, integrationAlias="first")
    later = one.add_integration(ws, "kv-store", "later", SCOPE)
    for _ in range(10):
        out = other.output(
            "kv-store", "put", ws, {"key": "k", "value": 2}, integrationAlias="later"
        )
        assert out["key"] == "k"
        got = other.output("kv-store", "get", ws, {"key": "k"}, workspaceIntegrationId=later["id"])
        assert got["value"] == 2
    # A name that really is missing is still a clear 404, and one of another type a clear 400.
    resp = other.execute("kv-store", "get", ws, {"key": "k"}, integrationAlias="nowhere")
    assert resp.status_code == 404 and resp.json()["code"] == "INTEGRATION_NOT_FOUND"
    one.add_integration(ws, "storage", "files", SCOPE)
    resp = other.execute("kv-store", "get", ws, {"key": "k"}, integrationAlias="files")
    assert resp.status_code == 400, resp.text
    assert "'files' is a 'storage' integration, not 'kv-store'" in resp.json()["error"]
