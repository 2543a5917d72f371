"""Issue 23 acceptance 3: concurrent agent-tool writes from many clients through several server
processes are never lost. SQLite: one `cubby serve --workers 2`; PostgreSQL: two `cubby serve`
processes on one database (the second with two workers). 16 clients x 50 add_observations to
one entity and 16 x 50 append_page to one page, alternating between the processes: every item
is there exactly once and the page is whole (every appended chunk intact, none interleaved).
Thought ids from 16 concurrent writers to one chain are 1..n, each once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from tests import backends
from tests.backends import postgres_url
from tests.helpers import Api, LiveServer, live_server

pytestmark = pytest.mark.slow

CLIENTS = 16
PER_CLIENT = 50
THOUGHTS_PER_CLIENT = 10
SHARED = {"persistence": {"scope": "workspace"}}
CHUNK = re.compile(r"<(\d\d)-(\d\d\d):x{40}>\n")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LiveServer]]:
    with backends.test_scope(), ExitStack() as stack:
        if request.param == "sqlite":
            data_dir = tmp_path_factory.mktemp("agent-sqlite")
            yield [stack.enter_context(live_server(data_dir, workers=2))]
        else:
            env = {"CUBBY_DATABASE_URL": postgres_url()}
            a = stack.enter_context(live_server(tmp_path_factory.mktemp("agent-pg-a"), env=env))
            b = stack.enter_context(
                live_server(tmp_path_factory.mktemp("agent-pg-b"), workers=2, env=env)
            )
            yield [a, b]


def api_on(server: LiveServer, http: httpx.Client) -> Api:
    class Based:
        def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
            return http.request(method, server.base_url + path, **kw)

    return Api(Based(), server.key)


def hammer(servers: list[LiveServer], ws: str, calls: list[tuple[str, str, dict[str, Any]]],
           client: int) -> list[Any]:  # fmt: skip
    """One client's calls on one keep-alive connection per server, alternating servers."""
    outputs = []
    with httpx.Client(timeout=60) as http:
        apis = [api_on(s, http) for s in servers]
        for i, (kind, action, inp) in enumerate(calls):
            api = apis[(client + i) % len(apis)]
            resp = api.execute(kind, action, ws, inp, integrationAlias=kind)
            assert resp.status_code == 200, resp.text
            outputs.append(resp.json()["output"])
    return outputs


def test_concurrent_writes_are_all_kept(servers: list[LiveServer]) -> None:
    with httpx.Client(timeout=60) as http:
        api = api_on(servers[0], http)
        ws = api.create_workspace("agent-concurrency")
        for kind in ("agent-memory", "agent-scratchpad", "sequential-thinking"):
            api.add_integration(ws, kind, kind, SHARED)
        hot = {"entities": [{"name": "hot", "type": "t"}]}
        api.output("agent-memory", "create_entities", ws, hot, integrationAlias="agent-memory")

    def calls(c: int) -> list[tuple[str, str, dict[str, Any]]]:
        out: list[tuple[str, str, dict[str, Any]]] = []
        for i in range(PER_CLIENT):
            out.append(("agent-memory", "add_observations", {"observations": [
                {"entityName": "hot", "contents": [f"obs {c:02d} {i:03d}"]}]}))  # fmt: skip
            chunk = f"<{c:02d}-{i:03d}:{'x' * 40}>\n"
            out.append(("agent-scratchpad", "append_page", {"pageName": "log", "content": chunk}))
            if i < THOUGHTS_PER_CLIENT:
                out.append(("sequential-thinking", "add_thought",
                            {"chainId": "chain", "content": f"{c}-{i}"}))  # fmt: skip
        return out

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda c: hammer(servers, ws, calls(c), c), range(CLIENTS)))

    with httpx.Client(timeout=60) as http:
        api = api_on(servers[-1], http)

        def run(kind: str, action: str, inp: dict[str, Any]) -> Any:
            return api.output(kind, action, ws, inp, integrationAlias=kind)

        observations = run("agent-memory", "get_entity", {"name": "hot"})["entity"]["observations"]
        expected = {f"obs {c:02d} {i:03d}" for c in range(CLIENTS) for i in range(PER_CLIENT)}
        assert len(observations) == len(expected) and set(observations) == expected
        content = run("agent-scratchpad", "read_page", {"pageName": "log"})["content"]
        chunks = CHUNK.findall(content)
        assert "".join(f"<{c}-{i}:{'x' * 40}>\n" for c, i in chunks) == content  # all whole
        assert sorted(chunks) == sorted(
            (f"{c:02d}", f"{i:03d}") for c in range(CLIENTS) for i in range(PER_CLIENT)
        )
        for c in range(CLIENTS):  # each client's appends keep their order
            mine = [int(i) for cc, i in chunks if int(cc) == c]
            assert mine == list(range(PER_CLIENT))
        thoughts = run("sequential-thinking", "get_chain", {"chainId": "chain"})["thoughts"]
        total = CLIENTS * THOUGHTS_PER_CLIENT
        assert [t["thoughtId"] for t in thoughts] == list(range(1, total + 1))
        assert sorted(t["content"] for t in thoughts) == sorted(
            f"{c}-{i}" for c in range(CLIENTS) for i in range(THOUGHTS_PER_CLIENT)
        )
    # every add_thought answer named a distinct id, and the lengths it reported are distinct too
    ids = [o["thought"]["thoughtId"] for r in results for o in r if "thought" in o]
    assert sorted(ids) == list(range(1, total + 1))
