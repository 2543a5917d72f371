"""Property-based run of /openapi.json against the in-process app (issue 2, acceptance 4), on
SQLite and on PostgreSQL.

Schemathesis generates requests for every operation from the document the app serves, valid and
invalid, and checks that none gets a 5xx, an undocumented status, a non-JSON content type or a
body that breaks the declared schema. Some generated ids are swapped for ids that exist, so the
run reaches real handlers and actions rather than only the 404 paths.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from cubby.api import downloads
from cubby.app import api_endpoints, build_services, create_app
from cubby.core import keys
from tests import backends
from tests.helpers import Api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The suite runs a fixed, derandomized sample; CUBBY_FUZZ_EXAMPLES=500 searches deeper at random.
EXAMPLES = int(os.environ.get("CUBBY_FUZZ_EXAMPLES", "40"))
DERANDOMIZE = "CUBBY_FUZZ_EXAMPLES" not in os.environ


@dataclass
class World:
    app: Any
    key: str
    ws: str  # path operations may change this one (add integrations, rename, ...)
    integration_id: str
    exec_ws: str  # only execute reaches this one: one kv-store and one storage integration


def _no_lifespan(app: Any) -> Any:
    """The app without its lifespan: schemathesis keeps a started lifespan until the process
    exits, long after this module's services are closed."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await app(scope, receive, send)

    return wrapped


# The same fuzz on both metadata databases: a 500 is as likely to come from SQL as from Python.
@pytest.fixture(scope="module", params=["sqlite+file", "postgres+file"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    # Module fixtures are set up before any test's own cleanup scope opens, so this scope
    # keeps the PostgreSQL schema until the module's last test is done.
    with backends.test_scope():
        yield from _world(str(request.param), tmp_path_factory.mktemp("fuzz"))


def _world(combo: str, data: Path) -> Iterator[World]:
    settings_ = replace(
        backends.settings_for(combo, data), kv_max_value_bytes=4096, max_body_bytes=64 * 1024
    )
    assert settings_.resolved_database_url.startswith("postgresql") == combo.startswith("postgres")
    services = build_services(settings_)
    app = create_app(settings_, services)
    _, key = asyncio.run(keys.create_key(services.meta, "fuzz", None, None))
    with TestClient(app) as client:
        api = Api(client, key)
        ws, exec_ws = api.create_workspace("fuzz"), api.create_workspace("fuzz-exec")
        shared = {"persistence": {"scope": "workspace"}}
        wi = api.add_integration(ws, "kv-store", "state", shared)
        api.add_integration(exec_ws, "kv-store", "state", shared)
        api.add_integration(exec_ws, "storage", "files", shared)
    yield World(_no_lifespan(app), key, ws, wi["id"], exec_ws)
    services.close()


@pytest.fixture(scope="module")
def api_schema(world: World) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    # our valid key goes on every request; 401s are covered by tests/test_api_errors.py
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _pick(case: Any, salt: str) -> bool:
    """A stable coin flip per generated case (keeps Hypothesis' replay deterministic)."""
    digest = hashlib.blake2b(repr((salt, case.path_parameters, case.body)).encode(), digest_size=1)
    return digest.digest()[0] % 2 == 0


def _use_real_ids(case: Any, world: World) -> None:
    if case.method.upper() == "DELETE":
        return  # keep the seeded workspace and integration alive for the rest of the run
    params = case.path_parameters or {}
    if "wsId" in params and _pick(case, "ws"):
        params["wsId"] = world.ws
        if "id" in params and _pick(case, "id"):
            params["id"] = world.integration_id
    elif case.path.startswith("/api/v1/workspaces/{id}") and "id" in params and _pick(case, "ws"):
        params["id"] = world.ws
    body = case.body
    if isinstance(body, dict) and "workspaceId" in body and _pick(case, "body"):
        body["workspaceId"] = world.exec_ws
        if _pick(case, "selector"):  # let "the only integration of that name" resolve it
            body.pop("integrationAlias", None)
            body.pop("workspaceIntegrationId", None)


OPERATIONS = [(ep.method, ep.path) for ep in api_endpoints()] + [
    (method.upper(), path) for path, item in downloads.OPENAPI.items() for method in item
]


def test_the_document_covers_every_endpoint(api_schema: Any) -> None:
    documented = {
        (method.upper(), path)
        for path, ops in api_schema.raw_schema["paths"].items()
        for method in ops
    }
    assert documented == set(OPERATIONS)


def test_the_document_is_valid_openapi(api_schema: Any) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(api_schema.raw_schema)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_openapi_conformance(method: str, path: str, world: World, api_schema: Any) -> None:
    operation = api_schema[path][method]
    examples = EXAMPLES * (4 if path == "/api/v1/actions/execute" else 1)
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {world.key}"}

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: Any) -> None:
        _use_real_ids(case, world)
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
