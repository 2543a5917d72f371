"""The flood of tests/test_limits_rate.py, in a process of its own (so its 64 client threads do
not share a GIL with the neighbour being measured). Usage:
python -m tests.limits_flood BASE_URL KEY WORKSPACE CONNECTIONS SECONDS -> one JSON line:
{"admitted": n, "refused": n, "bad": [...]} where bad lists refusals that are not a 429
RATE_LIMITED with a whole-seconds Retry-After >= 1 and matching details."""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

BACKOFF = 0.2  # after a 429: a client retrying soon, sooner than Retry-After says


def main(base: str, key: str, ws: str, connections: int, seconds: float) -> None:
    window: list[float] = []  # the flood's end, set as the last client has connected
    ready = threading.Barrier(connections, action=lambda: window.append(time.monotonic() + seconds))
    body = {
        "integrationName": "kv-store", "actionName": "get", "workspaceId": ws,
        "input": {"key": "k"},
    }  # fmt: skip
    headers = {"Authorization": f"Bearer {key}"}

    def flood(_: int) -> tuple[int, int, list[str]]:
        admitted = refused = 0
        bad: list[str] = []
        with httpx.Client(base_url=base, timeout=30, headers=headers) as http:
            http.get("/health")  # connected before the clock starts
            ready.wait(timeout=60)
            while time.monotonic() < window[0]:
                resp = http.post("/api/v1/actions/execute", json=body)
                if resp.status_code == 200:
                    admitted += 1
                    continue
                refused += 1
                retry = resp.headers.get("retry-after", "")
                answer = resp.json()
                if (
                    resp.status_code != 429
                    or answer.get("code") != "RATE_LIMITED"
                    or not retry.isdigit()
                    or int(retry) < 1
                    or answer.get("details", {}).get("retryAfter") != int(retry)
                ):
                    bad.append(f"{resp.status_code} {retry!r} {resp.text[:200]}")
                time.sleep(BACKOFF)
        return admitted, refused, bad

    with ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(flood, range(connections)))
    print(
        json.dumps(
            {
                "admitted": sum(r[0] for r in results),
                "refused": sum(r[1] for r in results),
                "bad": [b for r in results for b in r[2]][:20],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
