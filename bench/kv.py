"""KV Store benchmark: get/put throughput through POST /api/v1/actions/execute, and the cost of
add_to_list on an empty list versus a 100,000-item list (issue 3).

    .venv/bin/python bench/kv.py [--duration 5] [--workers 1]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import Cubby, cubby_server, standalone_main
from loadgen import LoadResult, wrk


def execute_body(ws: str, action: str, input_json: str) -> str:
    return json.dumps({"integrationName": "kv-store", "actionName": action, "workspaceId": ws,
                       "integrationAlias": "state", "input": "__INPUT__"}).replace(
        '"__INPUT__"', input_json)


def setup(cubby: Cubby) -> str:
    ws = cubby.call("POST", "/api/v1/workspaces", {"name": "Bench", "slug": "bench"})[
        "workspace"]["id"]
    cubby.call("POST", f"/api/v1/workspaces/{ws}/integrations", {
        "integrationName": "kv-store", "alias": "state",
        "settings": {"persistence": {"scope": "workspace"}}})
    return str(ws)


def run(duration: int, workers: int) -> list[LoadResult]:
    results: list[LoadResult] = []
    # A 100k-item list (that then grows under load) is over the default CUBBY_KV_MAX_LIST_ITEMS;
    # this run measures the cost of an append to a long list, so the cap is raised far above it.
    with cubby_server(workers=workers, env={"CUBBY_KV_MAX_LIST_ITEMS": "100000000"}) as cubby:
        ws = setup(cubby)
        headers = {"Authorization": f"Bearer {cubby.key}"}
        path = "/api/v1/actions/execute"
        base = {"integrationName": "kv-store", "workspaceId": ws, "integrationAlias": "state"}
        cubby.execute({**base, "actionName": "put",
                       "input": {"key": "hot", "value": {"cursor": "abc", "n": 42}}})
        big = [f"i{n:06d}" for n in range(100_000)]
        cubby.execute({**base, "actionName": "put", "input": {"key": "big", "value": big}})
        assert cubby.execute({**base, "actionName": "add_to_list",
                              "input": {"key": "big", "value": "probe"}})["length"] == 100_001

        def load(name: str, action: str, input_json: str) -> LoadResult:
            result = wrk(name, cubby.base_url, path, "POST",
                         execute_body(ws, action, input_json), headers, duration)
            print(result.row(), flush=True)
            results.append(result)
            return result

        load(f"kv get (hit), {workers}w", "get", '{"key": "hot"}')
        load(f"kv put, {workers}w", "put", '{"key": "k-__N__", "value": {"n": "__N__"}}')
        empty = load(f"kv add_to_list on empty list, {workers}w", "add_to_list",
                     '{"key": "fresh", "value": "v-__N__"}')
        full = load(f"kv add_to_list on 100k-item list, {workers}w", "add_to_list",
                    '{"key": "big", "value": "v-__N__"}')
        ratio = full.p50_ms / empty.p50_ms if empty.p50_ms else float("nan")
        print(f"add_to_list p50 on 100k list / empty list: {ratio:.2f}x "
              f"(req/s {full.rps:,.0f} vs {empty.rps:,.0f})")
    return results


def main() -> None:
    standalone_main("KV benchmark", __doc__, run)


if __name__ == "__main__":
    main()
