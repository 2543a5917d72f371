"""The request log and /metrics, on a real `cubby serve` (1 and 2 workers) and in-process."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.services import Services
from cubby.settings import Settings
from tests.helpers import Api, LiveServer, live_server

SECRET_BODY = "body-marker-7f3a9c do not log me"
REQUEST_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) INFO cubby\.request "
    r"(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<code>[A-Z_]+|-) "
    r"(?P<ms>\d+\.\d\d)ms (?P<bytes>\d+)B ws=(?P<ws>\S+) id=(?P<id>\S+)"
    r"(?: action=(?P<action>\S+))?$"
)


def request_lines(server: LiveServer) -> list[str]:
    return [line for line in server.log.read_text().splitlines() if "cubby.request" in line]


def start_marker(server: LiveServer) -> int:
    """How many request lines precede the test's own: one request with a known id, waited for
    in the log (the start-up's /health polls are written a loop turn after their answers, so
    counting the lines at once could miss the last of them); its line is counted too."""
    httpx.get(server.base_url + "/health", headers={"X-Request-Id": "log-start"})
    deadline = time.monotonic() + 10
    while True:
        lines = request_lines(server)
        for n, line in enumerate(lines):
            if "log-start" in line:
                return n + 1
        assert time.monotonic() < deadline, "the marker request's log line never came"
        time.sleep(0.02)


def scenario(server: LiveServer) -> tuple[int, str, str]:
    """A workspace, a file, a signed download, a KV write and some errors: returns the number
    of requests sent, the workspace id and the download token."""
    sent = 0
    with httpx.Client(base_url=server.base_url) as http:
        api = server.api(http)
        ws = api.create_workspace("logged")
        api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
        sent += 2
        written = api.execute(
            "storage",
            "write_file",
            ws,
            {"path": "a/secret.txt", "content": SECRET_BODY},
            integrationAlias="files",
        )
        assert written.status_code == 200, written.text
        # the execute fast path answers by itself (api/observe.py answered_directly)
        assert re.fullmatch(r"[0-9a-f]{16}", written.headers["x-request-id"])
        url = api.output(
            "storage", "get_download_url", ws, {"path": "a/secret.txt"}, integrationAlias="files"
        )["url"]
        sent += 2
        token = url.rsplit("/", 1)[1]
        got = httpx.get(url, headers={"X-Request-Id": "trace-42"})
        assert got.text == SECRET_BODY and got.headers["x-request-id"] == "trace-42"
        sent += 1
        denied = http.get(
            "/api/v1/workspaces",
            params={"limit": "5", "token": "q-secret-9"},
            headers={"Authorization": "Bearer cby_wrong"},
        )
        assert denied.status_code == 401
        fresh_id = denied.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16}", fresh_id)
        sent += 1
        evil = http.get("/health", headers={"X-Request-Id": "bad id\tinjected"})
        assert evil.headers["x-request-id"] != "bad id\tinjected"
        sent += 1
        missing = api.execute("kv-store", "get", ws, {"key": "k"}, integrationAlias="nope")
        assert missing.status_code >= 400
        sent += 1
    return sent, ws, token


@pytest.mark.slow
def test_request_log_has_one_line_per_request_and_no_secrets(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", args=("--log-level", "info")) as server:
        skip = start_marker(server)
        sent, ws, token = scenario(server)
        key = server.key
    lines = request_lines(server)[skip:]
    assert len(lines) == sent, lines
    parsed = [REQUEST_LINE.match(line) for line in lines]
    assert all(parsed), [line for line, m in zip(lines, parsed, strict=True) if not m]
    fields = [m.groupdict() for m in parsed if m]
    assert [f["method"] for f in fields[:2]] == ["POST", "POST"]
    assert fields[1]["ws"] == ws and fields[1]["status"] == "201"
    write = fields[2]
    assert write["path"] == "/api/v1/actions/execute" and write["ws"] == ws
    assert write["action"] == "storage/write_file" and fields[0]["action"] is None
    assert int(write["bytes"]) > 0 and float(write["ms"]) > 0
    download = fields[4]
    assert download["path"] == "/downloads/<token>" and download["id"] == "trace-42"
    assert download["ws"] == ws and int(download["bytes"]) == len(SECRET_BODY)
    assert fields[5]["code"] == "UNAUTHENTICATED" and fields[5]["path"] == "/api/v1/workspaces"
    assert fields[7]["code"] != "-" and fields[7]["status"].startswith("4")
    assert len({f["id"] for f in fields}) == sent  # every request has its own id
    whole_log = server.log.read_text()
    for secret in (
        key,
        key[4:],
        token,
        token.split(".")[0],
        SECRET_BODY,
        "q-secret-9",
        "cby_wrong",
        "injected",
    ):
        assert secret not in whole_log, secret


@pytest.mark.slow
def test_json_log_format(tmp_path: Path) -> None:
    with live_server(
        tmp_path / "data", args=("--log-level", "info", "--log-format", "json")
    ) as server:
        skip = start_marker(server)
        sent, ws, _ = scenario(server)
    records = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    requests = [r for r in records if r["logger"] == "cubby.request"][skip:]
    assert len(requests) == sent
    for record in requests:
        assert set(record) >= {
            "time",
            "level",
            "method",
            "path",
            "status",
            "code",
            "durationMs",
            "bytes",
            "workspaceId",
            "requestId",
        }
    assert requests[2]["workspaceId"] == ws and requests[2]["code"] is None
    assert requests[2]["action"] == "storage/write_file" and requests[0]["action"] is None
    assert requests[5]["code"] == "UNAUTHENTICATED" and requests[5]["status"] == 401
    # one format for all, and uvicorn's start-up lines under cubby's name (issue 27)
    assert any(r["logger"] == "cubby.server" for r in records)
    assert not any(r["logger"].startswith("uvicorn") for r in records)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def health_count(values: dict[Any, float]) -> float:
    key = (
        "cubby_http_requests_total",
        (("code", ""), ("method", "GET"), ("route", "/health"), ("status", "200")),
    )
    return values.get(key, 0.0)


def action_count(values: dict[Any, float], action: str) -> float:
    key = ("cubby_action_duration_seconds_count", (("action", action), ("integration", "kv-store")))
    return values.get(key, 0.0)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_metrics_count_every_request(tmp_path: Path, workers: int) -> None:
    with live_server(tmp_path / "data", workers=workers, args=("--metrics", "api-key")) as server:
        auth = {"Authorization": f"Bearer {server.key}"}
        assert httpx.get(server.base_url + "/metrics").status_code == 401

        def scrape() -> dict[Any, float]:
            # a new connection each time, so with 2 workers either may answer
            resp = httpx.get(server.base_url + "/metrics", headers=auth)
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/plain")
            return samples(resp.text)

        time.sleep(1.5)  # the start-up's /health polls reach the shared sums (see below)
        before = scrape()
        n = 25
        for _ in range(n):  # new connections: with 2 workers, both answer some
            assert httpx.get(server.base_url + "/health").status_code == 200
        with httpx.Client(base_url=server.base_url) as http:
            api = server.api(http)
            ws = api.create_workspace("metered")
            for i in range(7):
                api.output("kv-store", "put", ws, {"key": f"k{i}", "value": i}, endUserId="u")

        def counted(values: dict[Any, float]) -> tuple[float, float]:
            return (
                health_count(values) - health_count(before),
                action_count(values, "put") - action_count(before, "put"),
            )

        # a worker adds its requests to the shared sums once a second (metrics.RequestTally)
        deadline = time.monotonic() + 10
        while counted(after := scrape()) != (n, 7) and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(3):  # then every worker answers the same sums
            after = scrape()
            assert counted(after) == (n, 7)
        batches = [
            v for (name, _), v in after.items() if name == "cubby_sqlite_commit_batch_size_count"
        ]
        assert batches and batches[0] >= 1
        assert any(name == "cubby_http_request_duration_seconds_bucket" for name, _ in after)


def test_tallied_request_latencies_expose_as_observe_would() -> None:
    """metrics.RequestTally adds its counts to the histogram in one go, through the child's
    private values: the samples must equal those of a histogram given each value by observe()
    (boundaries included: a value equal to a bucket's bound is in that bucket)."""
    from prometheus_client import CollectorRegistry, Histogram

    from cubby import metrics

    values = [0.0004, 0.001, 0.0011, 0.003, 0.2, 0.2, 29.9, 45.0]
    reference = Histogram(
        "reference_seconds",
        "reference",
        buckets=metrics._LATENCY_BUCKETS,
        registry=CollectorRegistry(),
    )
    route = f"/test/tally/{time.monotonic_ns()}"
    for value in values:
        reference.observe(value)
        metrics.REQUEST_TALLY.count((route, "GET", "200", ""), value, ("kv-store", "get"))
    metrics.REQUEST_TALLY.flush()

    def buckets(metric: Any, **labels: str) -> dict[str, float]:
        return {
            f"{s.name.rsplit('_', 1)[1]}{s.labels.get('le', '')}": s.value
            for family in metric.collect()
            for s in family.samples
            if all(s.labels.get(k) == v for k, v in labels.items())
            and not s.name.endswith("_created")
        }

    expected = buckets(reference)
    assert expected["count"] == len(values) and expected["bucket+Inf"] == len(values)
    assert buckets(metrics.REQUEST_SECONDS, route=route) == expected
    requests = [
        s.value
        for family in metrics.REQUESTS.collect()
        for s in family.samples
        if s.labels.get("route") == route and s.name.endswith("_total")
    ]
    assert requests == [len(values)]


def in_process(settings: Settings, services: Services, metrics: str) -> TestClient:
    settings = settings.with_overrides(metrics=metrics)
    return TestClient(create_app(settings, dataclasses.replace(services, settings=settings)))


def test_metrics_are_off_by_default(api: Api) -> None:
    resp = api.client.get("/metrics")
    assert resp.status_code == 404 and "CUBBY_METRICS" in resp.json()["error"]


def test_metrics_api_key_mode_needs_an_org_wide_key(
    settings: Settings, services: Services, api: Api
) -> None:
    client = in_process(settings, services, "api-key")
    ws = api.create_workspace("scoped")
    scoped = api.ok(
        "POST",
        "/api/v1/api-keys",
        {"name": "ws", "permissions": {"scope": "workspace", "workspaceIds": [ws]}},
        201,
    )
    assert client.get("/metrics").status_code == 401
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {scoped['plainKey']}"})
    assert resp.status_code == 403
    resp = client.get("/metrics", headers=api.headers())
    assert resp.status_code == 200 and "cubby_http_requests_total" in resp.text


def test_metrics_anyone_mode_and_request_ids(settings: Settings, services: Services) -> None:
    client = in_process(settings, services, "anyone")
    resp = client.get("/metrics", headers={"X-Request-Id": "abc.DEF:1-2_3"})
    assert resp.status_code == 200 and resp.headers["x-request-id"] == "abc.DEF:1-2_3"
    assert "# TYPE cubby_http_requests_total counter" in resp.text
    long_id = "x" * 129
    assert (
        client.get("/health", headers={"X-Request-Id": long_id}).headers["x-request-id"] != long_id
    )


@pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
def test_open_dashboard_sessions_are_counted_at_each_scrape(
    settings: Settings, services: Services, org_key: str
) -> None:
    import asyncio

    from cubby.core import clock

    client = in_process(settings, services, "anyone")
    gauge = ("cubby_dashboard_sessions_open", ())
    assert samples(client.get("/metrics").text)[gauge] == 0
    key_id = asyncio.run(services.meta.api_keys.all())[0].id
    now = clock.now()
    for n, expires in enumerate((now + 3600, now + 60, now - 1)):
        asyncio.run(
            services.meta.sessions.create(
                f"hash-{n}", key_id, "csrf", clock.iso(now - 10), clock.iso(expires)
            )
        )
    assert samples(client.get("/metrics").text)[gauge] == 2  # the expired one is not open


@pytest.mark.slow
def test_mcp_tool_calls_are_counted(tmp_path: Path) -> None:
    import anyio

    from tests.mcp_client import SPEC, connect, create_server, text

    with (
        live_server(tmp_path / "data", args=("--metrics", "anyone")) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        api = server.api(http)
        ws = api.create_workspace("agents")
        api.add_integration(ws, "storage", "files", SPEC)
        mcp = create_server(api, ws)

        def calls(action: str, outcome: str) -> float:
            values = samples(http.get("/metrics").text)
            key = (
                "cubby_mcp_tool_calls_total",
                (("action", action), ("integration", "storage"), ("outcome", outcome)),
            )
            return values.get(key, 0.0)

        before = (calls("write_file", "ok"), calls("read_file", "error"))

        async def session() -> None:
            async with connect(mcp["mcpEndpoint"], mcp["bearerToken"]) as client:
                for i in range(3):
                    wrote = await client.call_tool(
                        "files__write_file", {"path": f"n/{i}.md", "content": "x"}
                    )
                    assert wrote.is_error is False, text(wrote)
                missing = await client.call_tool("files__read_file", {"path": "nope.md"})
                assert missing.is_error is True

        anyio.run(session)
        assert calls("write_file", "ok") - before[0] == 3
        assert calls("read_file", "error") - before[1] == 1


def test_request_lines_of_a_turn_are_written_together_and_an_error_line_in_order(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With `cubby serve`'s own handler, a turn's request lines are made at its end
    (cubby.end_of_turn); a 5xx line is written at once, after the lines before it."""
    import asyncio
    import io
    import logging

    from cubby.api import observe
    from cubby.logs import PlainFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PlainFormatter())
    logger = logging.getLogger("cubby.request")
    monkeypatch.setattr(logger, "handlers", [handler])
    monkeypatch.setattr(logger, "propagate", False)
    caplog.set_level(logging.INFO, logger="cubby.request")  # setLevel: clears the level cache
    monkeypatch.setattr(observe, "_request_log", observe.RequestLog(logger))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        status = int(scope["path"].strip("/"))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def get(asgi: Any, status: int) -> None:
        scope = {"type": "http", "method": "GET", "path": f"/{status}", "headers": []}

        async def send(message: Any) -> None:
            return None

        await asgi(scope, None, send)

    async def run() -> list[list[str]]:
        asgi = observe.Observe(app)
        seen = []
        await get(asgi, 200)
        await get(asgi, 201)
        seen.append(stream.getvalue().splitlines())  # the turn is not over: nothing yet
        await get(asgi, 503)  # at once, after the two before it
        seen.append(stream.getvalue().splitlines())
        ended = 1_800_000_000.25  # 2027-01-15T08:00:00.250Z
        monkeypatch.setattr(observe.time, "time", lambda: ended)
        await get(asgi, 204)
        ended += 7  # the line is made later, but says when its request ended
        for _ in range(2):  # the turn's end makes and writes the line
            await asyncio.sleep(0)
        seen.append(stream.getvalue().splitlines())
        return seen

    before, at_error, after = asyncio.run(run())
    assert before == []
    assert [line.split()[5] for line in at_error] == ["200", "201", "503"]
    assert [line.split()[5] for line in after] == ["200", "201", "503", "204"]
    assert after[3].startswith("2027-01-15T08:00:00.250Z INFO cubby.request GET /204 204")
