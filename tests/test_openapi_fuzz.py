"""Property-based run of /openapi.json against the in-process app (issue 2, acceptance 4), on
SQLite and on PostgreSQL.

Schemathesis generates requests for every operation from the document the app serves, valid and
invalid, and runs every check it has (``--checks all``): no 5xx, no undocumented status, content
type or body, and (issue 28, item 9) no schema-valid request refused (ST202) and no
schema-violating one accepted (ST201), so the document says what the server enforces; the
rules no schema can state are listed in UNSTATED. In positive cases some generated ids are
swapped for ids that exist, so the run reaches real handlers and actions, not only 404s.

Hostile values (issue 16) join the generated ones: JSON nested past the limit, numbers beyond
what floats and Python's int parsing hold (``1e400``, 5,000 digits, as raw JSON text too),
and Unicode digits (``²``, ``١٢٣``) in bodies, query parameters and a download's ``Range``.
Requests carrying them must still get no 5xx and a JSON error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
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
    positive_data_acceptance,
)
from starlette.testclient import TestClient

from cubby.api import downloads
from cubby.app import api_endpoints, create_app
from cubby.core import keys
from cubby.wiring import build_services
from tests import backends
from tests.helpers import Api

EXECUTE = "/api/v1/actions/execute"

# Rules no JSON Schema can state, by operation: a 400 naming one of these fields is not a
# "schema-valid request rejected" (ST202). Everything else the server refuses, the document
# says (issue 28, item 9): the run uses every check schemathesis has, with only these
# exceptions (and execute's ACTION_FAILED, below).
UNSTATED = {
    # an expiry must lie in the future: the schema has no clock
    ("POST", "/api/v1/api-keys"): {"expiresAt"},
    # the actions of the integration the path's id names (the schema lists every action)
    ("PATCH", "/api/v1/workspaces/{wsId}/integrations/{id}"): {"enabledActions"},
    # action inputs only their descriptions rule: a storage path's segments (no empty, '.' or
    # '..' segment, no backslash or control character; core.paths) and a page cursor
    # ("nextCursor of the previous page": an opaque token, core.paging)
    ("POST", EXECUTE): {"input.path", "input.from", "input.to", "input.cursor"},
}


def positive_data_acceptance_except_unstated(ctx: Any, response: Any, case: Any) -> Any:
    """schemathesis' ST202 check, except for the rules of UNSTATED."""
    fields = UNSTATED.get((case.method.upper(), case.path), set())
    if response.status_code == 400 and fields:
        details = json.loads(response.content or b"{}").get("details") or {}
        if details.get("field") in fields:
            return None
    return positive_data_acceptance(ctx, response, case)


# The suite runs a fixed, derandomized sample; CUBBY_FUZZ_EXAMPLES=500 searches deeper at random.
EXAMPLES = int(os.environ.get("CUBBY_FUZZ_EXAMPLES", "15"))
DERANDOMIZE = "CUBBY_FUZZ_EXAMPLES" not in os.environ


@dataclass
class World:
    app: Any
    key: str
    ws: str  # path operations may change this one (add integrations, rename, ...)
    integration_id: str
    exec_ws: str  # only execute reaches this one: one integration of each built-in kind
    client: Any = None  # a plain client of the same app, for raw (non-Python) JSON bodies


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
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
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
        for name in ("agent-memory", "agent-scratchpad", "sequential-thinking"):
            api.add_integration(exec_ws, name, name, shared)
    wrapped = _no_lifespan(app)
    plain = TestClient(wrapped, raise_server_exceptions=False)
    yield World(wrapped, key, ws, wi["id"], exec_ws, plain)
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


def _positive(case: Any) -> bool:
    meta = getattr(case, "_meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def _use_real_ids(case: Any, world: World) -> None:
    if case.method.upper() == "DELETE":
        return  # keep the seeded workspace and integration alive for the rest of the run
    if not _positive(case):
        return  # a swapped id or a dropped selector could remove the very value that is wrong
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


def _nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


HUGE = 10**4000 - 1  # Python can still print it; the raw texts below go further
UNICODE_DIGITS = ["²", "¹²³", "\u0661\u0662\u0663", "\U0001d7d7\U0001d7d7", "0²", "1\u0663"]
# Values Python can put into a JSON body (schemathesis serialises it).
HOSTILE = st.one_of(
    st.builds(_nested, st.integers(513, 700), st.sampled_from(["list", "dict"])),
    st.sampled_from([HUGE, -HUGE, 1.7976931348623157e308, -0.0, 5e-324, 2**63, -(2**63) - 1]),
    st.sampled_from(UNICODE_DIGITS),
)
# Raw JSON number texts no Python value serialises to.
RAW_NUMBERS = st.sampled_from(
    [b"1e400", b"-1e400", b"9" * 5000, b"-" + b"9" * 5000, b"1e-400", b"0." + b"0" * 5000 + b"1"]
)
PLACEHOLDER = "\u0000cubby-hostile\u0000"


def _inject(case: Any, value: Any) -> None:
    """Put ``value`` at one spot of the case: a body field (inside ``input`` when there is
    one), a query parameter (strings only) or a download's Range header."""
    body = case.body
    if isinstance(body, dict):
        target = body["input"] if isinstance(body.get("input"), dict) else body
        names = sorted(target) or ["value"]
        name = names[hashlib.blake2b(repr(names).encode(), digest_size=1).digest()[0] % len(names)]
        target[name] = value
    if isinstance(value, str):
        if case.query:
            case.query = {name: value for name in case.query}
        if case.path.startswith("/downloads/") and value.isdigit() and not value.isascii():
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                return
            case.headers = {**(case.headers or {}), "Range": f"bytes=0-{value}"}


def _send_raw(case: Any, world: World, raw: bytes, headers: dict[str, str]) -> None:
    """The case's JSON body with one value replaced by raw number text."""
    if not isinstance(case.body, dict):
        return
    _inject(case, PLACEHOLDER)
    text = json.dumps(case.body).encode().replace(json.dumps(PLACEHOLDER).encode(), raw)
    resp = world.client.request(
        case.method,
        case.formatted_path,
        params=case.query,
        content=text,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert resp.status_code < 500, (case.method, case.formatted_path, resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/json"), resp.headers


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
    examples = EXAMPLES * (4 if path == EXECUTE else 1)
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
    @given(case=cases, mode=st.integers(0, 5), hostile=HOSTILE, raw=RAW_NUMBERS)
    def run(case: Any, mode: int, hostile: Any, raw: bytes) -> None:
        _use_real_ids(case, world)
        if mode == 0:  # one case in six: raw number text
            _send_raw(case, world, raw, headers)
            return
        if mode > 1:  # four in six: as generated, with every check schemathesis has
            if path != EXECUTE:
                case.call_and_validate(
                    headers=headers,
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[positive_data_acceptance_except_unstated],
                )
                return
            # A schema-valid action may run and fail (400 ACTION_FAILED: a missing file, an
            # unknown entity or thought): that is the action's answer, not a refused input.
            resp = case.call_and_validate(
                headers=headers, excluded_checks=[positive_data_acceptance]
            )
            if _positive(case) and resp.status_code == 400:
                answer = resp.json()
                if (answer.get("details") or {}).get("field") in UNSTATED[("POST", EXECUTE)]:
                    return
                assert answer["code"] == "ACTION_FAILED", resp.text
            return
        # A hostile value may well be refused (400, 413, ...): no 5xx, and a JSON answer.
        _inject(case, hostile)
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, content_type_conformance]
        )

    run()
