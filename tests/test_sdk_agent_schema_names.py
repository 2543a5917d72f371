"""Every component of /openapi.json has a plain identifier as its name.

Two msgspec Structs with one class name make msgspec qualify both with their module path
(``cubby.integrations.agent_memory.Added``): API users would see those names, and the TypeScript
SDK's generator (sdk/typescript/scripts/gen-types.mjs) refuses them, so no SDK types could be
made. Rename one of the classes when this fails.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "sdk/typescript/scripts/openapi_document.py"
IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def test_component_names_are_identifiers() -> None:
    spec = importlib.util.spec_from_file_location("openapi_document", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = asyncio.run(module.document())["components"]["schemas"]
    # Execute.<integration>.<action> are the generator's own per-action variants
    bad = [n for n in names if not IDENTIFIER.match(n) and not n.startswith("Execute.")]
    assert bad == [], f"qualified schema names (two Structs share a class name): {bad}"
