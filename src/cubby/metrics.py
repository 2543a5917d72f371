"""Prometheus metrics: the one place any module defines and counts its things.

Usage, from any module (defining at import time is fine: the same name returns the same
metric, so re-imports and several apps in one process never clash)::

    from cubby import metrics

    MCP_CALLS = metrics.counter("cubby_mcp_calls", "MCP tool calls.", ["tool", "outcome"])
    MCP_CALLS.labels(tool="files__read_file", outcome="ok").inc()

    SESSIONS = metrics.gauge("cubby_dashboard_sessions_open", "Signed-in dashboard sessions.")
    SESSIONS.inc(); SESSIONS.dec()

    SECONDS = metrics.histogram("cubby_thing_seconds", "How long a thing took.", ["kind"])
    SECONDS.labels(kind="x").observe(0.012)

Names start with ``cubby_``; a counter's samples get ``_total`` appended by prometheus_client.
Label values must come from a small fixed set (route templates, action names, outcomes),
never from user input such as paths, keys or ids.

Several worker processes (``cubby serve --workers N``): ``serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before the workers start, so each process keeps
its values in files there and :func:`exposition` adds them up. Gauges sum over live processes
(``livesum``) unless another ``mode`` is asked for.

``/metrics`` serves :func:`exposition` when ``CUBBY_METRICS`` allows it (docs/operations.md).
"""

from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Sequence
from typing import Any, Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = [
    "ACTION_SECONDS",
    "BLOB_ERRORS",
    "CONTENT_TYPE",
    "DASHBOARD_SESSIONS",
    "MCP_CALLS",
    "REQUESTS",
    "REQUEST_SECONDS",
    "REQUEST_TALLY",
    "WRITER_BATCH",
    "WRITER_QUEUE",
    "counter",
    "exposition",
    "gauge",
    "histogram",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
GaugeMode = Literal[
    "livesum", "liveall", "livemax", "livemin", "max", "min", "sum", "all", "mostrecent"
]

_lock = threading.Lock()
_defined: dict[str, Any] = {}


def _get(kind: type, name: str, make: Any) -> Any:
    with _lock:
        existing = _defined.get(name)
        if existing is None:
            existing = _defined[name] = make()
        elif not isinstance(existing, kind):
            raise TypeError(f"metric {name} is already defined as {type(existing).__name__}")
        return existing


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter (only goes up); samples are exposed as ``<name>_total``."""
    return _get(Counter, name, lambda: Counter(name, documentation, list(labels)))  # type: ignore[no-any-return]


def gauge(
    name: str, documentation: str, labels: Sequence[str] = (), mode: GaugeMode = "livesum"
) -> Gauge:
    """A value that goes up and down; ``mode`` says how several worker processes combine."""
    return _get(  # type: ignore[no-any-return]
        Gauge,
        name,
        lambda: Gauge(name, documentation, list(labels), multiprocess_mode=mode),
    )


def histogram(
    name: str,
    documentation: str,
    labels: Sequence[str] = (),
    buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
) -> Histogram:
    """A distribution (durations, sizes) in cumulative buckets."""
    return _get(  # type: ignore[no-any-return]
        Histogram, name, lambda: Histogram(name, documentation, list(labels), buckets=buckets)
    )


def exposition() -> bytes:
    """Every metric in the Prometheus text format, summed over worker processes."""
    REQUEST_TALLY.flush()
    path = os.environ.get(MULTIPROC_ENV)
    if path and os.path.isdir(path):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

# -- the core's own metrics ------------------------------------------------------------------
REQUESTS = counter(
    "cubby_http_requests",
    "HTTP requests answered, by route template, method, status and cubby error code.",
    ["route", "method", "status", "code"],
)
REQUEST_SECONDS = histogram(
    "cubby_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by route template.",
    ["route"],
    _LATENCY_BUCKETS,
)
ACTION_SECONDS = histogram(
    "cubby_action_duration_seconds",
    "Time to answer POST /api/v1/actions/execute, by registered integration and action.",
    ["integration", "action"],
    _LATENCY_BUCKETS,
)
WRITER_QUEUE = gauge(
    "cubby_sqlite_writer_queue_depth",
    "Write jobs waiting for or in the SQLite writer's current transaction (sampled per batch).",
)
WRITER_BATCH = histogram(
    "cubby_sqlite_commit_batch_size",
    "Write jobs committed together in one SQLite transaction (group commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
DASHBOARD_SESSIONS = gauge(
    "cubby_dashboard_sessions_open",
    "Dashboard sessions that have not expired (counted in the database at each scrape).",
    mode="mostrecent",  # every worker counts the same table: the latest count is the answer
)
MCP_CALLS = counter(
    "cubby_mcp_tool_calls",
    "MCP tools/call requests, by the integration and action behind the tool and outcome "
    "(ok, error: a tool error the agent sees, internal: a bug).",
    ["integration", "action", "outcome"],
)
LIMIT_REFUSALS = counter(
    "cubby_limit_refusals",
    "Requests refused by a limit (issue 25): kind quota (403 QUOTA_EXCEEDED, resource bytes, "
    "files, keys or items) or rate (429 RATE_LIMITED, resource requests). No workspace label: "
    "per-workspace figures are cubby_workspace_usage's (top workspaces by bytes).",
    ["kind", "resource"],
)
BLOB_ERRORS = counter(
    "cubby_blob_store_errors",
    "Blob store calls that failed (a missing body on read is not counted), by operation.",
    ["operation"],
)


class _Latencies:
    """One histogram child's observations since the last flush: per-bucket counts and a sum."""

    __slots__ = ("counts", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * buckets
        self.total = 0.0


class RequestTally:
    """The three per-request metrics (``REQUESTS``, ``REQUEST_SECONDS``, ``ACTION_SECONDS``)
    and the MCP tool calls (``MCP_CALLS``), counted in plain Python and added to the Prometheus
    metrics by :meth:`flush`.

    Why: prometheus_client takes a lock for every increment (with several workers it also
    writes to a memory-mapped file), and a request meant five of them (a counter, two
    histograms of two values each) and a dozen Python calls: 4-7 us per request on the test
    machine, over a tenth of what cubby adds to a warm KV read. Here a request is one lock
    and a few dict and list updates. :func:`exposition` flushes first, so a scrape sees every
    request this process has answered; the app also flushes every second and when it stops,
    so with several workers a scrape answered by one of them sees the others' requests at most
    a second late.
    """

    def __init__(self, bounds: Sequence[float]) -> None:
        self._bounds = (*bounds, float("inf"))  # prometheus_client adds +Inf the same way
        self._lock = threading.Lock()  # counts come from every app's loop thread in a process
        self._requests: dict[tuple[str, str, str, str], int] = {}
        self._routes: dict[str, _Latencies] = {}
        self._actions: dict[tuple[str, str], _Latencies] = {}
        self._tool_calls: dict[tuple[str, str, str], int] = {}

    def count(
        self,
        labels: tuple[str, str, str, str],
        seconds: float,
        action: tuple[str, str] | None,
    ) -> None:
        """One answered request: ``labels`` as REQUESTS', ``action`` for execute requests."""
        bucket = bisect.bisect_left(self._bounds, seconds)  # the first bound >= seconds
        with self._lock:
            self._requests[labels] = self._requests.get(labels, 0) + 1
            route = self._routes.get(labels[0])
            if route is None:
                route = self._routes[labels[0]] = _Latencies(len(self._bounds))
            route.counts[bucket] += 1
            route.total += seconds
            if action is not None:
                timed = self._actions.get(action)
                if timed is None:
                    timed = self._actions[action] = _Latencies(len(self._bounds))
                timed.counts[bucket] += 1
                timed.total += seconds

    def count_tool_call(self, labels: tuple[str, str, str]) -> None:
        """One MCP tool call: ``labels`` as MCP_CALLS' (integration, action, outcome)."""
        with self._lock:
            self._tool_calls[labels] = self._tool_calls.get(labels, 0) + 1

    def flush(self) -> None:
        """Add what was counted since the last flush to the Prometheus metrics."""
        with self._lock:
            requests, self._requests = self._requests, {}
            routes, self._routes = self._routes, {}
            actions, self._actions = self._actions, {}
            tool_calls, self._tool_calls = self._tool_calls, {}
        for labels, n in requests.items():
            REQUESTS.labels(*labels).inc(n)
        for tool_labels, n in tool_calls.items():
            MCP_CALLS.labels(*tool_labels).inc(n)
        for route, latencies in routes.items():
            _add_observations(REQUEST_SECONDS.labels(route), latencies)
        for action, latencies in actions.items():
            _add_observations(ACTION_SECONDS.labels(*action), latencies)


def _add_observations(child: Any, latencies: _Latencies) -> None:
    """What ``child.observe(v)`` for each tallied ``v`` would have done, in one go. Uses the
    histogram child's ``_sum`` and per-bucket ``_buckets`` values (prometheus_client has no
    public call for this); tests/test_observability.py checks the result against observe()."""
    child._sum.inc(latencies.total)
    for bucket, n in enumerate(latencies.counts):
        if n:
            child._buckets[bucket].inc(n)


REQUEST_TALLY = RequestTally(_LATENCY_BUCKETS)
