"""Exactly-once survives a SIGKILL (issue 14, point 5): clients append to one list and bump one
counter with idempotency keys, sending every call twice, against a 2-worker server that is
killed mid-load. After a restart every call is sent once more with its key: the list must then
hold each sent item exactly once and the counter must equal the number of distinct calls - no
duplicate, nothing lost, acknowledged or not - and every call acknowledged before the crash
must come back as a replay of the answer it got then.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from cubby.settings import Settings
from tests.backends import server_env
from tests.helpers import Api, live_server

pytestmark = [pytest.mark.conformance, pytest.mark.slow]

CLIENTS = 6
ACKS_BEFORE_CRASH = 150
MAX_LOAD_SECONDS = 8.0
SHARED = {"persistence": {"scope": "workspace"}}
REPLAYED = "idempotent-replayed"


@dataclass
class Call:
    action: str
    input: dict[str, Any]
    key: str


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: list[Call] = field(default_factory=list)
    acked: dict[str, Any] = field(default_factory=dict)  # idempotency key -> first output


def send(api: Api, ws: str, call: Call) -> httpx.Response:
    return api.execute("kv-store", call.action, ws, call.input, idempotencyKey=call.key)


def client_loop(api: Api, ws: str, n: int, ledger: Ledger, stop: threading.Event) -> None:
    i = 0
    try:
        while not stop.is_set():
            i += 1
            for call in (
                Call("add_to_list", {"key": "events", "value": f"e-{n}-{i}"}, f"add-{n}-{i}"),
                Call("increment", {"key": "counter"}, f"inc-{n}-{i}"),
            ):
                with ledger.lock:
                    ledger.sent.append(call)
                first = send(api, ws, call)
                if first.status_code != 200:
                    return
                with ledger.lock:
                    ledger.acked[call.key] = first.json()["output"]
                again = send(api, ws, call)  # the retry of a client that timed out
                if again.status_code != 200:
                    return
                assert again.headers.get(REPLAYED) == "true", again.text
                assert again.json()["output"] == first.json()["output"]
    except httpx.HTTPError:  # the server died under this request: its outcome is unknown
        return


def test_idempotent_calls_survive_a_sigkill(backend: str, settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(settings)
    ledger, stop = Ledger(), threading.Event()
    with live_server(settings.data_dir, workers=2, env=env) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            setup = Api(http, server.key)
            ws = setup.create_workspace("crash-once")
            setup.add_integration(ws, "kv-store", "state", SHARED)
        clients = [httpx.Client(base_url=server.base_url, timeout=30) for _ in range(CLIENTS)]
        threads = [
            threading.Thread(target=client_loop, args=(Api(c, server.key), ws, n, ledger, stop))
            for n, c in enumerate(clients)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + MAX_LOAD_SECONDS
        while len(ledger.acked) < ACKS_BEFORE_CRASH and time.monotonic() < deadline:
            time.sleep(0.02)
        server.crash()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        for c in clients:
            c.close()
    assert len(ledger.acked) >= 30, f"only {len(ledger.acked)} calls acknowledged before the crash"

    with (
        live_server(settings.data_dir, env=env) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        api = Api(http, server.key)
        for call in ledger.sent:  # every call once more, acknowledged or not
            resp = send(api, ws, call)
            assert resp.status_code == 200, resp.text
            if call.key in ledger.acked:
                assert resp.headers.get(REPLAYED) == "true", call.key
                assert resp.json()["output"] == ledger.acked[call.key], call.key
        events = api.output("kv-store", "get", ws, {"key": "events"})["value"]
        counter = api.output("kv-store", "get", ws, {"key": "counter"})["value"]
    adds = sorted(c.input["value"] for c in ledger.sent if c.action == "add_to_list")
    incs = sum(1 for c in ledger.sent if c.action == "increment")
    assert sorted(events) == adds  # each item exactly once
    assert counter == incs
    print(
        f"\n{backend}: {len(ledger.acked)} idempotent calls acknowledged before SIGKILL, "
        f"{len(ledger.sent)} sent; after restart and a resend of all, no duplicate, none lost"
    )
