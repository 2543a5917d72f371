"""The execute examples /docs shows are answers of a real run, not made-up values (issue 27,
defect 8: a 35-byte ``write_file`` answered ``"size": 1500``).

:func:`record` runs every action's /docs request, in the catalog's order, against a fresh
in-process server (SQLite and a folder in a temporary directory) and keeps each request with
the status and body it got. What changes from run to run is made stable: ids become fixed
placeholders in order of appearance, times keep their distance from the earliest time of the
same answer (so an ``expiresAt`` an hour after ``updatedAt`` stays an hour after it), a download
URL's token becomes ``<token>`` and ``duration`` is fixed. The result is committed as
``docs_assets/action_examples.json``; tests/test_api_docs.py records again and fails when it
differs (write it anew with ``python -m cubby.api.record_examples``, which holds the recorder:
it builds an app, and the app imports this module for /docs).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from cubby.api.examples import example

PATH = resources.files("cubby.api") / "docs_assets" / "action_examples.json"
EXECUTE = "/api/v1/actions/execute"
WORKSPACE = "3f2b8c1e-4a5d-4e6f-9a0b-1c2d3e4f5a6b"  # the workspace id /docs shows
_ALIASES = {"storage": "files", "kv-store": "state"}  # what `cubby init` names them
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
_T0 = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
_DOWNLOAD = re.compile(r"^https?://[^/]+(/downloads/)[^\s\"]+$")


def alias(integration: str) -> str:
    return _ALIASES.get(integration, integration)


def request_for(variant: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The execute body /docs shows for one action (its required input fields)."""
    body: dict[str, Any] = example(variant, components, all_fields=False)
    integration = variant["properties"]["integrationName"]["const"]
    body["workspaceId"] = WORKSPACE
    body["integrationAlias"] = alias(integration)
    return body


def load() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(PATH.read_text())
    except FileNotFoundError:
        return {}
    return data


def changes_paths(variant: dict[str, Any]) -> int:
    """Actions that move, then those that remove what the others read run after them (a
    stable sort keeps the catalog's order otherwise): read_file finds what write_file wrote."""
    name = str(variant["properties"]["actionName"]["const"])
    return 2 if name.startswith(("delete", "clear", "remove")) else int(name.startswith("move"))


def stable(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with run-dependent parts replaced (see the module docstring)."""
    times = [_parse(t) for t in _TIME.findall(json.dumps(value))]
    base = min(times) if times else _T0

    def walk(item: Any, key: str = "") -> Any:
        if isinstance(item, dict):
            return {k: walk(v, k) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, key) for v in item]
        if key == "duration" and isinstance(item, int | float):
            return 1.8
        if not isinstance(item, str):
            return item
        if _DOWNLOAD.match(item):
            return _DOWNLOAD.sub(r"http://127.0.0.1:8080\1<token>", item)
        item = _TIME.sub(lambda m: _iso(_T0 + (_parse(m.group(0)) - base)), item)
        return _UUID.sub(lambda m: ids.setdefault(m.group(0), _placeholder(len(ids))), item)

    return walk(value)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    whole = moment - timedelta(microseconds=moment.microsecond)
    if moment.microsecond >= 500_000:
        whole += timedelta(seconds=1)
    return whole.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _placeholder(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"
