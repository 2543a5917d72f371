"""Fixtures. `api` is an in-process client on a fresh data dir.

Tests (or modules, via ``pytestmark``) marked ``conformance`` run once per backend combination
the run enables (tests/backends.py); all others run on the embedded default.
"""

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
from tests.backends import DEFAULT_COMBO, enabled_combos, settings_for
from tests.helpers import Api


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "conformance"
    ):
        metafunc.parametrize("backend", enabled_combos(), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", DEFAULT_COMBO))


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Settings:
    return settings_for(backend, tmp_path)


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
