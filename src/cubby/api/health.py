"""``GET /health``: liveness, no authentication."""

from __future__ import annotations

from cubby.api.endpoint import Call, Endpoint
from cubby.api.wire import Health


async def health(call: Call) -> Health:
    return Health(status="healthy")


ENDPOINTS = [
    Endpoint("GET", "/health", health, "Health check", "Service", response=Health, auth=False),
]
