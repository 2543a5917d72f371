"""Print cubby's OpenAPI document as JSON, exactly as ``create_app`` serves it at /openapi.json.

Run with the repo's venv (``.venv/bin/python sdk/typescript/scripts/openapi_document.py``);
``gen-types.mjs`` calls it. The app is built on a throwaway data dir and asked over ASGI.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from typing import Any

import httpx

from cubby.app import create_app
from cubby.settings import Settings


async def document() -> Any:
    with tempfile.TemporaryDirectory(prefix="cubby-openapi-") as data_dir:
        app = create_app(Settings.from_env({"CUBBY_DATA_DIR": data_dir}))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cubby") as client:
            response = await client.get("/openapi.json")
            response.raise_for_status()
            return response.json()


def main() -> None:
    json.dump(asyncio.run(document()), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
