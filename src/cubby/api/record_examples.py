"""``python -m cubby.api.record_examples``: run every action's /docs request against a fresh
in-process server and write the answers to ``docs_assets/action_examples.json`` (see
:mod:`cubby.api.action_examples`). A development tool: the server never imports it."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from cubby.api.action_examples import (
    EXECUTE,
    PATH,
    WORKSPACE,
    alias,
    changes_paths,
    request_for,
    stable,
)
from cubby.app import create_app
from cubby.core import keys
from cubby.settings import Settings
from cubby.wiring import build_services


def record() -> dict[str, Any]:
    """Run every action's /docs request once, in order; the stable answers by
    ``"<integration>/<action>"``."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        services = build_services(settings)
        try:
            app = create_app(settings, services)
            _, key = asyncio.run(keys.create_key(services.meta, "examples", None, None))
            auth = {"Authorization": f"Bearer {key}"}
            with TestClient(app) as client:
                doc = client.get("/openapi.json").json()
                components = doc["components"]["schemas"]
                made = client.post(
                    "/api/v1/workspaces", json={"name": "Acme", "slug": "acme"}, headers=auth
                ).json()["workspace"]["id"]
                shared = {"persistence": {"scope": "workspace"}}
                for integration in services.registry.names():
                    client.post(
                        f"/api/v1/workspaces/{made}/integrations",
                        json={
                            "integrationName": integration,
                            "alias": alias(integration),
                            "settings": shared,
                        },
                        headers=auth,
                    ).raise_for_status()
                out: dict[str, Any] = {}
                variants = [v for n, v in components.items() if n.startswith("Execute.")]
                for variant in sorted(variants, key=changes_paths):
                    body = request_for(variant, components)
                    sent = {**body, "workspaceId": made}
                    resp = client.post(EXECUTE, json=sent, headers=auth)
                    integration = body["integrationName"]
                    out[f"{integration}/{body['actionName']}"] = {
                        "request": body,
                        "status": resp.status_code,
                        "response": stable(resp.json(), {made: WORKSPACE}),
                    }
                return dict(sorted(out.items()))
        finally:
            services.close()


def write() -> None:
    path = Path(str(PATH))
    path.write_text(json.dumps(record(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    write()
