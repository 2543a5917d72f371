"""Fixtures. `api` is an in-process client on a fresh data dir, for every backend combination
the run enables (see tests/backends.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cubby.app import build_services, create_app
from cubby.core import keys
from cubby.services import Services
from cubby.settings import Settings
from tests.helpers import Api


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = build_services(settings)
    yield services
    services.close()


@pytest.fixture
def org_key(services: Services) -> str:
    _, plain = asyncio.run(keys.create_key(services.meta, "tests", None, None))
    return plain


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    app = create_app(settings, services)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


@pytest.fixture
def api(client: TestClient, org_key: str) -> Api:
    return Api(client, org_key)
