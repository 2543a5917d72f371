"""Bad KV input gets a clear 4xx with the documented code, and leaves stored data untouched."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from cubby.settings import Settings
from tests.helpers import Api

pytestmark = pytest.mark.conformance

LIMIT = 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(kv_max_value_bytes=LIMIT)


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("bad-input")
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    api.output("kv-store", "put", ws, {"key": "scalar", "value": "keep me"})
    api.output("kv-store", "add_to_list", ws, {"key": "list", "value": "a"})
    api.output("kv-store", "add_to_list", ws, {"key": "list", "value": "b"})
    return ws


def snapshot(api: Api, ws: str, settings: Settings) -> Any:
    """Everything observable: the known keys through the API, plus the raw SQLite tables."""
    seen = {
        k: api.output("kv-store", "get", ws, {"key": k})["value"]
        for k in ("scalar", "list", "new", "x" * 512)
    }
    tables: Any = None
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            tables = [
                conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()
                for t in ("kv_entries", "kv_list_items")
            ]
            tables[0] = [row[:-1] for row in tables[0]]  # without updated_at
    return seen, tables


CASES: list[tuple[str, str, Any, int, str, str | None]] = [
    # (name, action, input, status, code, details.field or reason)
    ("missing key", "put", {"value": 1}, 400, "VALIDATION_ERROR", "input.key"),
    ("missing key (get)", "get", {}, 400, "VALIDATION_ERROR", "input.key"),
    ("missing value", "add_to_list", {"key": "list"}, 400, "VALIDATION_ERROR", "input.value"),
    ("empty key", "put", {"key": "", "value": 1}, 400, "VALIDATION_ERROR", "input.key"),
    ("key too long", "put", {"key": "x" * 513, "value": 1}, 400, "VALIDATION_ERROR", "input.key"),
    (
        "key too long (multibyte)",
        "put",
        {"key": "é" * 257, "value": 1},
        400,
        "VALIDATION_ERROR",
        "input.key",
    ),
    ("control character", "put", {"key": "a\nb", "value": 1}, 400, "VALIDATION_ERROR", "input.key"),
    ("NUL", "add_to_list", {"key": "list\x00", "value": 1}, 400, "VALIDATION_ERROR", "input.key"),
    ("DEL", "put", {"key": "a\x7f", "value": 1}, 400, "VALIDATION_ERROR", "input.key"),
    ("key not a string", "put", {"key": 5, "value": 1}, 400, "VALIDATION_ERROR", "input.key"),
    (
        "value over limit",
        "put",
        {"key": "scalar", "value": "x" * LIMIT},
        413,
        "PAYLOAD_TOO_LARGE",
        "input.value",
    ),
    (
        "list item over limit",
        "add_to_list",
        {"key": "list", "value": ["x" * LIMIT]},
        413,
        "PAYLOAD_TOO_LARGE",
        "input.value",
    ),
    (
        "list over limit",
        "put",
        {"key": "list", "value": ["x" * 100] * 20},
        413,
        "PAYLOAD_TOO_LARGE",
        "input.value",
    ),
    (
        "append to non-list",
        "add_to_list",
        {"key": "scalar", "value": "x"},
        400,
        "ACTION_FAILED",
        "NOT_A_LIST",
    ),
    (
        "remove from non-list",
        "remove_from_list",
        {"key": "scalar", "value": "keep me"},
        400,
        "ACTION_FAILED",
        "NOT_A_LIST",
    ),
    (
        "unknown input field",
        "put",
        {"key": "new", "value": 1, "ttl": 5},
        400,
        "VALIDATION_ERROR",
        "input.ttl",
    ),
    (
        "unknown input field (get)",
        "get",
        {"key": "scalar", "extra": True},
        400,
        "VALIDATION_ERROR",
        "input.extra",
    ),
    ("input not an object", "put", ["key", "value"], 400, "VALIDATION_ERROR", "input"),
]


@pytest.mark.parametrize(
    ("name", "action", "input", "status", "code", "where"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_rejected_and_changes_nothing(
    api: Api,
    ws: str,
    settings: Settings,
    name: str,
    action: str,
    input: Any,
    status: int,
    code: str,
    where: str | None,
) -> None:
    before = snapshot(api, ws, settings)
    resp = api.execute("kv-store", action, ws, input)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code
    assert body["error"]
    if code == "ACTION_FAILED":
        assert body["details"]["reason"] == where
    else:
        assert body["details"]["field"] == where
    if code == "PAYLOAD_TOO_LARGE":
        assert body["details"]["limit"] == LIMIT
    assert snapshot(api, ws, settings) == before


def test_value_at_the_limit_is_accepted(api: Api, ws: str) -> None:
    value = "x" * (LIMIT - 2)  # the quotes make it exactly LIMIT bytes of JSON
    assert api.output("kv-store", "put", ws, {"key": "big", "value": value})["value"] == value


def test_missing_keys_are_not_errors(api: Api, ws: str) -> None:
    assert api.output("kv-store", "get", ws, {"key": "nope"}) == {
        "key": "nope",
        "value": None,
        "version": 0,
        "expiresAt": None,
    }
    assert api.output("kv-store", "delete", ws, {"key": "nope"}) == {
        "key": "nope",
        "deleted": False,
    }
    assert api.output("kv-store", "remove_from_list", ws, {"key": "nope", "value": 1}) == {
        "key": "nope",
        "removed": 0,
        "length": 0,
    }
