"""``GET /metrics``: Prometheus text format, when ``CUBBY_METRICS`` says who may read it.

``off`` (default): 404 naming the setting. ``anyone``: no authentication (bind to a private
interface or put it behind the proxy's rules). ``api-key``: an organisation-wide API key as
``Authorization: Bearer`` (Prometheus: ``authorization: {credentials: <key>}``).
"""

from __future__ import annotations

from starlette.responses import Response

from cubby import metrics
from cubby.api.endpoint import Call, Endpoint
from cubby.core import clock, limits
from cubby.errors import Forbidden, NotFound


async def read_metrics(call: Call) -> Response:
    services = call.services
    mode = services.settings.metrics
    if mode == "off":
        raise NotFound(
            "metrics are off; set CUBBY_METRICS=api-key (organisation-wide key) or "
            "CUBBY_METRICS=anyone, or serve with --metrics",
            details={"setting": "CUBBY_METRICS"},
        )
    if mode == "api-key":
        principal = await services.auth.authenticate(call.request.headers.get("authorization"))
        if not principal.org_wide:
            raise Forbidden("reading /metrics needs an organisation-wide API key")
    metrics.DASHBOARD_SESSIONS.set(await services.meta.sessions.count_open(clock.iso(clock.now())))
    usage = await limits.usage_metrics(services)  # issue 25: top workspaces' live usage
    return Response(metrics.exposition() + usage, media_type=metrics.CONTENT_TYPE)


ENDPOINTS = [
    Endpoint(
        "GET",
        "/metrics",
        read_metrics,
        "Prometheus metrics",
        "Service",
        auth=False,
        media_type="text/plain",
        errors=(401, "FORBIDDEN", 404),
        description="Request counts by route, status and error code; latency histograms per "
        "route and per action; the SQLite writer's queue depth and commit batch sizes; blob "
        "store errors; limit refusals by kind and resource, and the live usage of the ten "
        "workspaces using the most bytes. Who may read it is the `CUBBY_METRICS` setting: "
        "`off` (default, 404), `api-key` (an organisation-wide key) or `anyone`.",
    ),
]
