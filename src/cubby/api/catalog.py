"""``/api/v1/integrations``: the catalog of integrations and their actions' props."""

from __future__ import annotations

from typing import Any

from cubby.api.endpoint import Call, Endpoint, QueryParam
from cubby.api.wire import CatalogList, CatalogOne
from cubby.errors import IntegrationNotFound


async def catalog(call: Call) -> dict[str, Any]:
    registry = call.services.registry
    name = call.request.query_params.get("name")
    if name is not None:
        integration = registry.get(name)
        if integration is None:
            raise IntegrationNotFound(
                f"no integration named {name!r}", details={"registered": registry.names()}
            )
        return {"integration": integration.describe()}
    items = [i.describe() for i in registry.all()]
    return {"integrations": items, "total": len(items), "registered": registry.names()}


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/integrations",
        catalog,
        "The integration catalog",
        "Integrations",
        response=[CatalogList, CatalogOne],
        errors=(401, 404),
        query=[QueryParam("name", {"type": "string"}, "return just this integration")],
    ),
]
