"""``/api/v1/integrations``: the catalog of integrations and their actions' props; and
``/logos/{name}.svg``, the logo each catalog entry's ``logoUrl`` points to (no API key: it is
meant for ``<img>`` tags)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cubby.api.endpoint import Call, Endpoint, QueryParam
from cubby.api.paging import bool_param
from cubby.api.wire import CatalogList, CatalogOne, CatalogSummaryList
from cubby.core.registry import LOGO_PATH
from cubby.errors import IntegrationNotFound, NotFound
from cubby.services import Services


async def catalog(call: Call) -> dict[str, Any]:
    registry = call.services.registry
    base = call.services.settings.base_url
    name = call.request.query_params.get("name")
    if name is not None:
        integration = registry.get(name)
        if integration is None:
            raise IntegrationNotFound(
                f"no integration named {name!r}", details={"registered": registry.names()}
            )
        return {"integration": integration.describe(base)}
    if bool_param(call, "summary"):
        summaries = [i.summary(base) for i in registry.all()]
        return {"integrations": summaries, "total": len(summaries)}
    items = [i.describe(base) for i in registry.all()]
    return {"integrations": items, "total": len(items), "registered": registry.names()}


_DEFAULT_LOGO = (resources.files("cubby.integrations") / "logos" / "default.svg").read_text()


async def logo(request: Request) -> Response:
    """The SVG logo of a registered integration (each catalog entry's ``logoUrl``); no key."""
    services: Services = request.app.state.services
    integration = services.registry.get(request.path_params["name"])
    if integration is None:
        raise NotFound("no such integration logo", details={"name": request.path_params["name"]})
    return Response(
        integration.logo_svg or _DEFAULT_LOGO,
        media_type="image/svg+xml",
        headers={
            "cache-control": "public, max-age=86400",
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
            "x-content-type-options": "nosniff",
        },
    )


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/integrations",
        catalog,
        "The integration catalog",
        "Integrations",
        response=[CatalogList, CatalogOne, CatalogSummaryList],
        errors=(400, 401, "INTEGRATION_NOT_FOUND"),
        query=[
            QueryParam("name", {"type": "string"}, "return just this integration"),
            QueryParam("summary", {"type": "boolean"}, "return IntegrationSummary entries"),
        ],
    ),
]

ROUTES = [Route(LOGO_PATH, logo, methods=["GET"])]
