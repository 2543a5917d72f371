"""Issue 28 (reliability, round three), items 1 and 2.

1. Every input that reaches a database parameter is checked against what PostgreSQL accepts (no
   NUL in a text, integers inside 64 bits) before it is sent, so both backends answer the same
   4xx: a sweep puts a NUL in every string and 2^63 in every integer of every action prop,
   every JSON route body and every path parameter, on SQLite and PostgreSQL, and compares.
2. A 500 keeps the kept-alive connection usable (real sockets, uvicorn on 127.0.0.1).
3. ``pg_terminate_backend`` of every connection of a loaded `cubby serve`: 503s with
   ``Retry-After`` only, never a 500, and no error once a request has succeeded again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from cubby.api.examples import example
from cubby.app import create_app
from cubby.core import keys
from cubby.core.json_depth import _opening
from cubby.core.validation import PRESCAN_MAX_BYTES
from cubby.errors import ValidationError
from cubby.integrations.storage import _decode_base64
from cubby.server.http_protocol import PROTOCOL
from cubby.services import Services
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.backends import server_env, settings_for
from tests.helpers import Api, cubby_cli, error_body, free_port, live_server

NUL = "a\x00b"
BIG = 2**63
UUID = "3f2b8c1e-4a5d-4e6f-9a0b-1c2d3e4f5a6b"
_PLAUSIBLE = {
    "key": "k1",
    "path": "notes/a.txt",
    "from": "notes/a.txt",
    "to": "notes/b.txt",
    "prefix": "notes/",
    "content": "hello",
    "contentType": "text/plain",
    "ifMatch": '"etag"',
}


# -- item 1 -------------------------------------------------------------------------------------
def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replaced(copy[head], rest, new)
    return copy


def _mutations(body: Any) -> Iterator[tuple[str, Any]]:
    """``body`` with one leaf at a time made hostile: a NUL in a string, 2^63 in a number."""
    for path, leaf in _leaves(body):
        label = ".".join(map(str, path))
        if isinstance(leaf, str):
            yield f"{label}=NUL", _replaced(body, path, NUL)
        elif isinstance(leaf, int) and not isinstance(leaf, bool):
            yield f"{label}=2^63", _replaced(body, path, BIG)
            yield f"{label}=-2^63-1", _replaced(body, path, -BIG - 1)


def _action_input(props: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A plausible value for every prop of an action (required or not)."""
    out: dict[str, Any] = {}
    for name, prop in props.items():
        kind = prop["type"]
        if kind == "NUMBER":
            out[name] = 1
        elif kind == "CHECKBOX":
            out[name] = False
        elif kind in ("STATIC_DROPDOWN", "DROPDOWN"):
            options = prop.get("options", {}).get("options", [])
            out[name] = options[0]["value"] if options else "x"
        elif kind == "JSON":
            out[name] = {"n": 1, "s": "text"}
        else:
            out[name] = _PLAUSIBLE.get(name, "x")
    return out


def _sweep(settings: Settings) -> list[tuple[str, int, str]]:
    """(what was sent, status, error code) of every hostile request, in a fixed order."""
    services: Services = build_services(settings)
    try:
        _, key = asyncio.run(keys.create_key(services.meta, "sweep", None, None))
        app = create_app(settings, services)
        seen: list[tuple[str, int, str]] = []
        with TestClient(app, raise_server_exceptions=False) as client:
            api = Api(client, key)
            ws = api.create_workspace("sweep")
            api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
            api.add_integration(ws, "kv-store", "kv", {"persistence": {"scope": "workspace"}})

            def record(label: str, resp: httpx.Response) -> None:
                json_error = resp.status_code >= 400 and resp.content[:1] == b"{"
                code = resp.json().get("code", "") if json_error else ""
                assert resp.status_code < 500, (label, resp.status_code, resp.text)
                seen.append((label, resp.status_code, code))

            # every prop of every action, and the execute request's own fields
            for integration in services.registry.all():
                alias = "files" if integration.name == "storage" else "kv"
                for action in integration.actions.values():
                    body = {
                        "integrationName": integration.name,
                        "actionName": action.name,
                        "workspaceId": ws,
                        "integrationAlias": alias,
                        "endUserId": "u1",
                        "idempotencyKey": f"idem-{action.name}",
                        "input": _action_input(action.props()),
                    }
                    for label, hostile in _mutations(body):
                        if label.startswith("input.") or label in (
                            "endUserId=NUL",
                            "idempotencyKey=NUL",
                            "integrationAlias=NUL",
                        ):
                            resp = api.request("POST", "/api/v1/actions/execute", json=hostile)
                            record(f"{integration.name}.{action.name} {label}", resp)

            # every JSON route body, and every path parameter
            doc = client.get("/openapi.json").json()
            components = doc["components"]["schemas"]
            for template, operations in doc["paths"].items():
                for method, op in operations.items():
                    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
                    path = template
                    for name in names:
                        path = path.replace(f"{{{name}}}", ws if name == "wsId" else UUID)
                    for name in names:
                        hostile_path = template
                        for other in names:
                            value = "a%00b" if other == name else UUID
                            hostile_path = hostile_path.replace(f"{{{other}}}", value)
                        resp = api.request(method.upper(), hostile_path)
                        record(f"{method} {template} {name}=NUL", resp)
                    schema = op.get("requestBody", {}).get("content", {}).get("application/json")
                    if schema is None or template == "/api/v1/actions/execute":
                        continue
                    body = example(schema["schema"], components)
                    for label, hostile in _mutations(body):
                        resp = api.request(method.upper(), path, json=hostile)
                        record(f"{method} {template} {label}", resp)
            for query in ("limit=a%00b", "workspaceId=a%00b"):
                resp = api.request("GET", f"/api/v1/end-users?{query}")
                record(f"GET end-users {query}", resp)
        return seen
    finally:
        services.close()


def test_nul_and_64_bit_overflow_are_the_same_4xx_on_both_backends(tmp_path: Path) -> None:
    sqlite = _sweep(settings_for("sqlite+file", tmp_path / "sqlite"))
    postgres = _sweep(settings_for("postgres+file", tmp_path / "postgres"))
    assert len(sqlite) > 150  # the sweep reached every action and route
    assert [row for row in sqlite if row[0].endswith("NUL")]
    assert sqlite == postgres
    for label, status, code in sqlite:
        if "content=NUL" in label or label.split()[-1].startswith("input.value"):
            continue  # a file body and a JSON value may hold anything JSON can
        if label.startswith(("storage.", "kv-store.")):
            assert (status, code) == (400, "VALIDATION_ERROR"), label


@pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
def test_the_reported_inputs_name_their_field(api: Api, backend: str) -> None:
    ws = api.create_workspace("rel3")
    api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    api.add_integration(ws, "kv-store", "kv", {"persistence": {"scope": "workspace"}})
    cases = [
        ("kv-store", "kv", "put", {"key": "k", "value": 1, "ifVersion": BIG}, "input.ifVersion"),
        ("storage", "files", "write_file", {"path": "a", "content": "x", "ifMatch": NUL},
         "input.ifMatch"),
        ("storage", "files", "delete_file", {"path": "a", "ifMatch": NUL}, "input.ifMatch"),
    ]  # fmt: skip
    for integration, alias, action, params, field in cases:
        resp = api.execute(integration, action, ws, params, integrationAlias=alias)
        assert error_body(resp, 400, "VALIDATION_ERROR")["details"]["field"] == field
    resp = api.execute(
        "kv-store", "put", ws, {"key": "k", "value": 1}, integrationAlias="kv", idempotencyKey=NUL
    )
    assert error_body(resp, 400, "VALIDATION_ERROR")["details"]["field"] == "idempotencyKey"
    # a file's text and a JSON value may hold a NUL: they are not database texts
    out = api.output(
        "storage", "write_file", ws, {"path": "n", "content": NUL}, integrationAlias="files"
    )
    assert out["size"] == 3
    api.output("kv-store", "put", ws, {"key": "n", "value": [NUL, BIG]}, integrationAlias="kv")
    got = api.output("kv-store", "get", ws, {"key": "n"}, integrationAlias="kv")
    assert got["value"] == [NUL, BIG]


# -- item 2 -------------------------------------------------------------------------------------
class ThreadServer:
    """uvicorn with cubby's HTTP protocol on 127.0.0.1, in a thread of this process (so a test
    can add a route that fails)."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, http=PROTOCOL, log_level="critical"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "no start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def _exchange(sock: socket.socket, request: bytes) -> tuple[bytes, bytes]:
    """Send one request, read one whole answer (head, body) by its Content-Length."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed, got {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return head, body


@pytest.fixture
def failing_server(services: Services, settings: Settings, org_key: str) -> Iterator[Any]:
    app = create_app(settings, services)

    async def boom(request: Request) -> Response:
        raise RuntimeError("forced internal error")

    app.router.routes.insert(0, Route("/boom", boom, methods=["GET"]))
    with ThreadServer(app) as server:
        yield server, org_key


def test_a_500_keeps_the_connection_usable(failing_server: Any) -> None:
    server, _ = failing_server
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for _ in range(20):
            head, body = _exchange(sock, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 500 "), head
            assert b"INTERNAL_ERROR" in body
            logged = b"x-request-id" in head.lower()
            head, body = _exchange(sock, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 "), head
            assert logged  # the request log's id is on the 500 too


def test_a_500_on_the_execute_fast_path_keeps_the_connection_usable(
    failing_server: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, key = failing_server

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("forced internal error")

    monkeypatch.setattr(services.meta.kv, "get", broken)
    body = (
        b'{"integrationName":"kv-store","actionName":"get","workspaceId":"%s","input":{"key":"k"}}'
    )
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as client:
        ws = Api(client, key).create_workspace("w")
        Api(client, key).add_integration(
            ws, "kv-store", "kv", {"persistence": {"scope": "workspace"}}
        )
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(10):
            resp = client.post(
                "/api/v1/actions/execute", content=body % ws.encode(), headers=headers
            )
            assert resp.status_code == 500, resp.text
            assert resp.json()["code"] == "INTERNAL_ERROR"
            assert resp.headers.get("x-request-id")
            assert client.get("/health").status_code == 200


# -- item 3 -------------------------------------------------------------------------------------
def _terminate_backends(admin_url: str, application_name: str) -> int:
    import asyncpg

    async def run() -> int:
        conn = await asyncpg.connect(admin_url, timeout=10)
        try:
            rows = await conn.fetch(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE application_name = $1",
                application_name,
            )
            return len(rows)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_terminated_database_connections_answer_503_then_recover(tmp_path: Path) -> None:
    settings = settings_for("postgres+file", tmp_path)
    name = f"cubby-rel3-{free_port()}"
    env = server_env(settings)
    env["CUBBY_DATABASE_URL"] += f"&application_name={name}"
    admin_url = settings.database_url.split("?", 1)[0]
    settings.data_dir.mkdir(mode=0o700, parents=True)
    results: list[tuple[float, float, int, str | None]] = []  # start, end, status, Retry-After
    stop = threading.Event()
    kills: list[tuple[float, float]] = []
    with live_server(settings.data_dir, env=env) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            ws = server.api(client).create_workspace("term")
            server.api(client).add_integration(
                ws, "kv-store", "kv", {"persistence": {"scope": "workspace"}}
            )

        def load(n: int) -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                api = server.api(client)
                i = 0
                while not stop.is_set():
                    i += 1
                    action, params = (
                        ("put", {"key": f"k{n}", "value": i}) if i % 2 else ("get", {"key": "k0"})
                    )
                    started = time.monotonic()
                    resp = api.execute("kv-store", action, ws, params, integrationAlias="kv")
                    results.append(
                        (
                            started,
                            time.monotonic(),
                            resp.status_code,
                            resp.headers.get("retry-after"),
                        )
                    )

        threads = [threading.Thread(target=load, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        try:
            for _ in range(3):
                time.sleep(1.0)
                began = time.monotonic()
                assert _terminate_backends(admin_url, name) > 0  # the pool had connections
                kills.append((began, time.monotonic()))  # then every one of them had exited
            time.sleep(1.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
    statuses = {status for _, _, status, _ in results}
    assert 500 not in statuses, sorted(statuses)
    assert statuses <= {200, 503}, sorted(statuses)
    assert all(retry == "1" for _, _, status, retry in results if status == 503)
    for n, (_, killed) in enumerate(kills):
        recovered = min(e for start, e, status, _ in results if start > killed and status == 200)
        until = kills[n + 1][0] if n + 1 < len(kills) else float("inf")  # the next kill
        late = [status for start, _, status, _ in results if recovered < start < until]
        assert late and set(late) == {200}, (n, sorted(set(late)))


# -- item 5: the connection cap ----------------------------------------------------------------
def test_connections_over_the_cap_get_a_json_503_and_a_log_line(tmp_path: Path) -> None:
    cap = 4
    env = {"CUBBY_MAX_CONNECTIONS": str(cap)}
    with live_server(tmp_path, env=env) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(cap)]
        try:
            time.sleep(0.3)  # the server has accepted them all
            with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
                extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                head, body = _exchange(extra, b"")
            assert head.startswith(b"HTTP/1.1 503 "), head
            assert b"retry-after: 1" in head.lower() and b"connection: close" in head.lower()
            assert b'"UNAVAILABLE"' in body
            _, health = _exchange(held[0], b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"healthy" in health  # the connections inside the cap still work
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.3)
        assert httpx.get(server.base_url + "/health").status_code == 200  # room again
        log = server.log.read_text()
        assert log.count("connection cap reached") == 1, log
        assert f"CUBBY_MAX_CONNECTIONS={cap}" in log


# -- item 7 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
def test_the_last_org_wide_key_cannot_be_revoked(api: Api, backend: str) -> None:
    (own,) = api.ok("GET", "/api/v1/api-keys")["apiKeys"]
    ws = api.create_workspace("keys")
    scoped = api.ok(
        "POST",
        "/api/v1/api-keys",
        {"name": "scoped", "permissions": {"scope": "workspace", "workspaceIds": [ws]}},
        201,
    )
    out = error_body(api.request("DELETE", f"/api/v1/api-keys/{own['id']}"), 409, "LAST_ORG_KEY")
    assert "api-keys create" in out["error"] and "POST /api/v1/api-keys" in out["error"]
    api.ok("DELETE", f"/api/v1/api-keys/{scoped['apiKey']['id']}")  # a scoped key: fine
    second = api.ok("POST", "/api/v1/api-keys", {"name": "admin 2"}, 201)
    api.ok("DELETE", f"/api/v1/api-keys/{own['id']}")  # another org-wide key exists
    other = Api(api.client, second["plainKey"])
    resp = other.request("DELETE", f"/api/v1/api-keys/{second['apiKey']['id']}")
    error_body(resp, 409, "LAST_ORG_KEY")
    assert other.ok("GET", "/api/v1/api-keys")["apiKeys"][0]["id"] == second["apiKey"]["id"]


def test_the_cli_still_revokes_the_last_org_wide_key_and_warns(tmp_path: Path) -> None:
    env = {"CUBBY_DATA_DIR": str(tmp_path / "data")}
    created = cubby_cli("api-keys", "create", "--name", "only", "--create-data-dir", env=env)
    assert created.returncode == 0, created.stderr
    listed = cubby_cli("api-keys", "list", "--json", env=env)
    key_id = json.loads(listed.stdout)[0]["id"]
    revoked = cubby_cli("api-keys", "revoke", key_id, env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert "last active organisation-wide key" in revoked.stderr


# -- item 8 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
def test_c1_controls_are_control_characters_in_end_user_ids_too(api: Api, backend: str) -> None:
    ws = api.create_workspace("c1")
    api.add_integration(ws, "kv-store", "kv", {"persistence": {"scope": "end_user"}})
    for text in ("a\x85b", "a\x9fb", "a\x7fb"):
        resp = api.execute(
            "kv-store", "get", ws, {"key": "k"}, integrationAlias="kv", endUserId=text
        )
        assert error_body(resp, 400, "VALIDATION_ERROR")["details"]["field"] == "endUserId"
        resp = api.execute(
            "kv-store", "get", ws, {"key": text}, integrationAlias="kv", endUserId="u"
        )
        error_body(resp, 400, "VALIDATION_ERROR")
    api.output("kv-store", "get", ws, {"key": "k"}, integrationAlias="kv", endUserId="a\xa0b")


@pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
def test_remove_from_list_compares_numbers_by_value(api: Api, backend: str) -> None:
    ws = api.create_workspace("numbers")
    api.add_integration(ws, "kv-store", "kv", {"persistence": {"scope": "workspace"}})

    def call(action: str, params: dict[str, Any]) -> Any:
        return api.output("kv-store", action, ws, params, integrationAlias="kv")

    call("put", {"key": "l", "value": [1, 2.0, {"n": 3}, 1e2, 2.5, "1.0"]})
    call("remove_from_list", {"key": "l", "value": 1.0})
    call("remove_from_list", {"key": "l", "value": 2})
    call("remove_from_list", {"key": "l", "value": {"n": 3.0}})
    call("remove_from_list", {"key": "l", "value": 100})
    call("remove_from_list", {"key": "l", "value": 2.50})
    assert call("get", {"key": "l"})["value"] == ["1.0"]  # a string stays a string


@pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
def test_a_huge_limit_is_clamped_on_list_routes_and_list_actions(api: Api, backend: str) -> None:
    huge = "1" + "0" * 35
    ws = api.create_workspace("huge")
    assert api.ok("GET", f"/api/v1/workspaces?limit={huge}")["workspaces"]
    error_body(api.request("GET", f"/api/v1/workspaces?offset={huge}"), 400, "VALIDATION_ERROR")
    error_body(api.request("GET", f"/api/v1/workspaces?limit=-{huge}"), 400, "VALIDATION_ERROR")
    api.add_integration(ws, "kv-store", "kv", {"persistence": {"scope": "workspace"}})
    api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    api.output("kv-store", "put", ws, {"key": "a", "value": 1}, integrationAlias="kv")
    limit = int(huge)
    page = api.output("kv-store", "list_keys", ws, {"limit": limit}, integrationAlias="kv")
    assert [k["key"] for k in page["keys"]] == ["a"]
    api.output("storage", "list_files", ws, {"limit": limit}, integrationAlias="files")


def test_database_paths_have_one_leading_slash(tmp_path: Path) -> None:
    from cubby.backends.url import sqlite_path

    settings = Settings(data_dir=tmp_path / "data")
    assert settings.resolved_database_url == f"sqlite://{(tmp_path / 'data').resolve()}/cubby.db"
    path = str(sqlite_path(settings.resolved_database_url))
    assert path.startswith("/") and not path.startswith("//")
    assert str(sqlite_path("sqlite:////tmp/x/cubby.db")) == "/tmp/x/cubby.db"
    assert str(sqlite_path("sqlite:///tmp/x/cubby.db")) == "/tmp/x/cubby.db"


def test_metrics_folders_of_killed_servers_are_removed_at_start(tmp_path: Path) -> None:
    import subprocess
    import sys

    from cubby.server import metrics_dir

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    dead, alive, legacy = (tmp_path / f"{metrics_dir.PREFIX}{n}" for n in ("a", "b", "c"))
    for folder, owner in ((dead, gone.stdout.strip()), (alive, "1"), (legacy, None)):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"x")
        if owner is not None:
            (folder / metrics_dir.OWNER_FILE).write_text(owner)
    made = Path(metrics_dir.fresh(str(tmp_path)))
    assert not dead.exists() and alive.exists() and legacy.exists()
    assert (made / metrics_dir.OWNER_FILE).read_text() == str(os.getpid())


@pytest.mark.parametrize("combo", ["sqlite+file", "postgres+file"])
def test_two_processes_revoking_the_last_two_org_keys_leave_one(tmp_path: Path, combo: str) -> None:
    """The last-key check holds across processes: each revoke checks under a lock every
    process's revoke takes (SQLite's writer, a PostgreSQL table lock)."""
    from cubby.backends.url import open_meta_store
    from cubby.errors import Conflict

    url = settings_for(combo, tmp_path).resolved_database_url
    metas = [open_meta_store(url), open_meta_store(url)]  # two "processes"
    try:
        for _ in range(5):
            made = [asyncio.run(keys.create_key(metas[0], "admin", None, None))[0].id
                    for _ in range(2)]  # fmt: skip
            for key in asyncio.run(metas[0].api_keys.all()):
                if key.id not in made:
                    asyncio.run(keys.revoke_key(metas[0], key.id, allow_last_org_key=True))
            barrier = threading.Barrier(2)
            outcomes: list[str] = []

            def revoke(n: int, made: list[str], barrier: Any, outcomes: list[str]) -> None:
                barrier.wait()
                try:
                    asyncio.run(keys.revoke_key(metas[n], made[n]))
                    outcomes.append("revoked")
                except Conflict:
                    outcomes.append("refused")

            threads = [
                threading.Thread(target=revoke, args=(n, made, barrier, outcomes)) for n in range(2)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            left = [k.id for k in asyncio.run(metas[0].api_keys.all()) if k.id in made]
            assert len(left) == 1 and sorted(outcomes) == ["refused", "revoked"], outcomes
    finally:
        for meta in metas:
            meta.close()


# -- item 10: big bodies do not hold the event loop (the p99 itself: bench/noisy_neighbor.py) ----
@pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
def test_big_bodies_still_get_the_database_rule(api: Api, backend: str) -> None:
    """Bodies of 64 KiB and more skip the raw pre-scan and walk the decoded value instead:
    the same 400s, the same exemptions."""
    ws = api.create_workspace("rel10")
    api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    api.add_integration(ws, "kv-store", "kv", {"persistence": {"scope": "workspace"}})
    padding = "p" * (PRESCAN_MAX_BYTES + 1)
    cases = [
        ("kv-store", "kv", "put", {"key": "k", "value": padding, "ifVersion": BIG},
         "input.ifVersion"),
        ("kv-store", "kv", "put", {"key": NUL, "value": padding}, "input.key"),
        ("storage", "files", "write_file", {"path": "a", "content": padding, "ifMatch": NUL},
         "input.ifMatch"),
    ]  # fmt: skip
    for integration, alias, action, params, field in cases:
        resp = api.execute(integration, action, ws, params, integrationAlias=alias)
        assert error_body(resp, 400, "VALIDATION_ERROR")["details"]["field"] == field
    resp = api.execute(
        "kv-store", "put", ws, {"key": "k", "value": padding}, integrationAlias="kv",
        idempotencyKey=NUL,
    )  # fmt: skip
    assert error_body(resp, 400, "VALIDATION_ERROR")["details"]["field"] == "idempotencyKey"
    stored = [NUL, BIG, padding]  # a JSON value and a file's text may hold anything
    api.output("kv-store", "put", ws, {"key": "n", "value": stored}, integrationAlias="kv")
    got = api.output("kv-store", "get", ws, {"key": "n"}, integrationAlias="kv")
    assert got["value"] == stored
    text = NUL + padding
    out = api.output("storage", "write_file", ws, {"path": "n", "content": text},
                     integrationAlias="files")  # fmt: skip
    assert out["size"] == len(text)


def test_big_base64_decodes_in_pieces_like_one_strict_decode() -> None:
    data = os.urandom(3 * 1024 * 1024 + 1)
    encoded = base64.b64encode(data).decode()
    assert _decode_base64(encoded) == data
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert _decode_base64(wrapped) == data  # line-wrapped base64 is still accepted
    # padding inside (two encodings glued together) is refused, as one strict decode does
    glued = base64.b64encode(b"x" * 1_000_000).decode() + base64.b64encode(data).decode()
    with pytest.raises(ValidationError):
        _decode_base64(glued)
    with pytest.raises(ValidationError):
        _decode_base64(encoded[:-8] + "!" + encoded[-7:])


def test_bracket_count_in_windows_equals_one_count() -> None:
    raw = (b'{"a":[' + b"1," * 1_500_000 + b'{"b":[]}]}') * 2
    assert _opening(raw) == raw.count(b"[") + raw.count(b"{") == 8
