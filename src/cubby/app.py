"""The composition root: ``create_app(settings)`` builds one fully wired Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Match, Route

from cubby import metrics
from cubby.api import (
    api_keys,
    catalog,
    downloads,
    end_users,
    execute,
    favicon,
    health,
    metrics_route,
    workspace_integrations,
    workspaces,
)
from cubby.api import docs as docs_page
from cubby.api import export as export_api
from cubby.api import limits as limits_api
from cubby.api.answer_errors import AnswerErrors
from cubby.api.docs import render_docs
from cubby.api.endpoint import Endpoint, json_response
from cubby.api.fast_execute import PATH as EXECUTE_PATH
from cubby.api.fast_execute import ExecuteFastPath
from cubby.api.observe import Observe, log_path
from cubby.api.openapi import build_openapi
from cubby.core import files, idempotency, kv_expiry, limits, signing
from cubby.core.disk_full import insufficient_storage, is_disk_full
from cubby.errors import (
    CubbyError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    framework_error,
)
from cubby.mcp import servers as mcp_servers
from cubby.mcp.endpoint import McpEndpoint
from cubby.services import Services
from cubby.settings import Settings
from cubby.web.routes import web_routes
from cubby.wiring import build_services

log = logging.getLogger("cubby")


def api_endpoints() -> list[Endpoint]:
    return [
        *health.ENDPOINTS,
        *api_keys.ENDPOINTS,
        *workspaces.ENDPOINTS,
        *limits_api.ENDPOINTS,
        *workspace_integrations.ENDPOINTS,
        *catalog.ENDPOINTS,
        *execute.ENDPOINTS,
        *metrics_route.ENDPOINTS,
        *mcp_servers.ENDPOINTS,
        *end_users.ENDPOINTS,
        *export_api.ENDPOINTS,
    ]


async def _error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ClientDisconnect):  # gone mid-body (or cut off by a timeout): no answer
        return Response(status_code=400)
    if isinstance(exc, CubbyError):
        error = exc
    elif is_disk_full(exc):
        log.warning("storage full on %s %s: %s", request.method, log_path(request.scope), exc)
        error = insufficient_storage()
    elif isinstance(exc, HTTPException):
        if exc.status_code == 404:
            error = NotFound(f"no route {request.method} {request.url.path}")
        elif exc.status_code == 405:
            allowed = _allowed_methods(request)
            error = MethodNotAllowed(
                f"{request.method} is not allowed on {request.url.path}",
                details={"allowed": allowed},
                headers={"Allow": ", ".join(allowed)},
            )
        else:  # e.g. a malformed multipart form: answered with a documented code
            error = framework_error(exc.status_code, str(exc.detail))
    else:
        # log_path: never a download URL's token (a bearer credential) in the log
        log.exception("unhandled error on %s %s", request.method, log_path(request.scope))
        error = InternalError("internal error; the server log has the details")
    headers = dict(error.headers or {})
    if error.status in (429, 503):
        headers.setdefault("Retry-After", "1")
    return json_response(error.to_body(), error.status, headers or None)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's own Allow names only one)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "\0"})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    freeze_startup_heap: bool = False,
) -> Starlette:
    """Build the app. Pass ``services`` to share backends (tests), else they are opened here.
    ``freeze_startup_heap`` is for serving processes (see :func:`_freeze_startup_heap`)."""
    settings = settings or Settings.from_env()
    services = services or build_services(settings)
    endpoints = api_endpoints()
    built: dict[str, Any] = {}

    def openapi_doc() -> dict[str, Any]:
        # Made on first use (about a second of CPU): an app that never serves /docs or
        # /openapi.json (each test's app) never pays it; serving processes make both at start.
        if "openapi" not in built:
            built["openapi"] = build_openapi(endpoints, services.registry, downloads.OPENAPI)
        return built["openapi"]  # type: ignore[no-any-return]

    def docs_html() -> str:
        if "docs" not in built:
            built["docs"] = render_docs(openapi_doc(), routes)  # the non-Endpoint routes too
        return str(built["docs"])

    async def openapi(request: Request) -> Response:
        """The OpenAPI 3.1 document of every API route, made from their declarations."""
        return json_response(openapi_doc())

    async def docs(request: Request) -> Response:
        """This page: the API reference, made from the OpenAPI document and the route table."""
        return HTMLResponse(docs_html(), headers={"content-security-policy": docs_page.CSP})

    routes: list[BaseRoute] = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        *docs_page.ROUTES,
        *(ep.route() for ep in endpoints),
        *downloads.ROUTES,
        *catalog.ROUTES,
        *favicon.ROUTES,
        *web_routes(),  # the dashboard: `/` and /ui/...
    ]
    mcp = McpEndpoint(services)
    routes[:0] = mcp.routes()  # first: a hot path, and the router tries routes in order
    signing.signing_key(settings)  # fail at start, not on the first download, if it is unusable

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.meta.start()  # PostgreSQL: the pool lives on the serving loop
        await limits.apply_defaults(services)  # CUBBY_LIMIT_*, where the quota checks read them
        flusher = asyncio.create_task(_flush_last_used(services))
        metrics_flusher = asyncio.create_task(_flush_request_metrics())
        sweepers = [
            asyncio.create_task(files.sweep_forever(services)),
            asyncio.create_task(files.sweep_expired_forever(services)),
            asyncio.create_task(kv_expiry.sweep_forever(services)),
            asyncio.create_task(idempotency.sweep_forever(services.meta)),
        ]
        try:
            async with mcp.run():
                if freeze_startup_heap:
                    docs_html()  # a serving process: the first visitor of /docs never waits
                    _freeze_startup_heap()
                yield
        finally:
            flusher.cancel()
            metrics_flusher.cancel()
            metrics.REQUEST_TALLY.flush()
            for sweeper in sweepers:
                sweeper.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await services.auth.flush_last_used(force=True)
            await services.meta.stop()

    handlers: dict[Any, Any] = {Exception: _error, HTTPException: _error, CubbyError: _error}
    actions = [(i.name, a) for i in services.registry.all() for a in i.actions]
    app = Starlette(
        routes=routes,
        exception_handlers=handlers,
        lifespan=lifespan,
        middleware=[  # outermost first: the request log and metrics see the fast path too
            Middleware(Observe, actions=actions, answered_directly=[("POST", EXECUTE_PATH)]),
            Middleware(AnswerErrors, handler=_error),  # answers, never re-raises (item 2)
            Middleware(ExecuteFastPath, services=services, mcp=mcp),  # and POST /mcp/srv_*
        ],
    )
    app.state.services = services
    app.state.endpoints = endpoints
    return app


async def _flush_last_used(services: Services) -> None:
    while True:
        await asyncio.sleep(5)
        try:
            await services.auth.flush_last_used()
        except Exception:  # pragma: no cover - next round retries
            log.warning("could not record lastUsedAt", exc_info=True)


async def _flush_request_metrics() -> None:
    """Once a second: what another worker's /metrics scrape reads (see metrics.RequestTally)."""
    while True:
        await asyncio.sleep(1)
        try:
            metrics.REQUEST_TALLY.flush()
        except Exception:  # pragma: no cover - a bug; the next scrape's flush tries again
            log.exception("could not add the request metrics to Prometheus")


def _freeze_startup_heap() -> None:
    """Move everything alive after start-up (modules, schemas, the catalog, the MCP server:
    ~100,000 objects) out of the collector's sight. A full collection scans every tracked
    object and holds the event loop meanwhile: over the start-up heap that was 20-70 ms on
    this 2-core machine, a p99 stall no request had caused."""
    gc.collect()
    gc.freeze()


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` (each worker process builds its own services)."""
    return create_app(Settings.from_env(), freeze_startup_heap=True)
