"""Hostile inputs of issue 16 that gave 500s or wrong answers, on both metadata backends:
deep JSON nesting (2), Unicode and huge digits in Range (4), a crafted list_files cursor (5),
format checks that took a trailing newline (7) and a prefix ending in U+10FFFF (8)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cubby.core.json_depth import MAX_JSON_DEPTH, depth_exceeds
from tests.helpers import Api, error_body

BACKENDS = pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
SCOPE = {"persistence": {"scope": "workspace"}}


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def deep_text(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture
def ws(api: Api) -> str:
    workspace = api.create_workspace("rel")
    api.add_integration(workspace, "storage", "files", SCOPE)
    api.add_integration(workspace, "kv-store", "kv", SCOPE)
    return workspace


# -- 2: deep nesting ----------------------------------------------------------------------------
def test_depth_scan_is_exact() -> None:
    assert not depth_exceeds(deep_text(MAX_JSON_DEPTH))
    assert depth_exceeds(deep_text(MAX_JSON_DEPTH + 1))
    assert not depth_exceeds(b'{"a":"' + b"[" * 5000 + b'"}')  # brackets inside a string
    assert depth_exceeds(b'["\\\\",' + deep_text(600) + b"]")  # an escaped backslash ends it
    assert not depth_exceeds(b'["\\",' + deep_text(600) + b'"]')  # an escaped quote does not
    tree = b"[]"
    for i in range(600):  # no long run of "[": found by the pair removal passes
        tree = b"[" + tree + b"," + (b"[[[1]]]" if i % 2 else b"[]") + b"]"
    assert depth_exceeds(tree)
    assert not depth_exceeds(b"[" + b"[1]," * 100_000 + b"[1]]")


@BACKENDS
def test_deep_nesting_is_a_400_on_every_json_route(api: Api, ws: str) -> None:
    deep = deep_text(1000)
    routes = [
        ("POST", "/api/v1/api-keys"),
        ("POST", "/api/v1/workspaces"),
        ("PATCH", f"/api/v1/workspaces/{ws}"),
        ("POST", f"/api/v1/workspaces/{ws}/integrations"),
        ("POST", "/api/v1/actions/execute"),
    ]
    for method, path in routes:
        for body in (deep, b'{"name":' + deep + b"}"):
            resp = api.client.request(
                method,
                path,
                content=body,
                headers={**api.headers(), "Content-Type": "application/json"},
            )
            out = error_body(resp, 400, "INVALID_JSON")
            assert out["details"] == {"maxDepth": MAX_JSON_DEPTH}
            assert str(MAX_JSON_DEPTH) in out["error"]


@BACKENDS
def test_nesting_up_to_the_limit_round_trips(api: Api, ws: str) -> None:
    # The execute body itself is two levels (the body, its input): the value gets the rest.
    value = nested(MAX_JSON_DEPTH - 2)
    api.output("kv-store", "put", ws, {"key": "deep", "value": value}, integrationAlias="kv")
    got = api.output("kv-store", "get", ws, {"key": "deep"}, integrationAlias="kv")
    assert got["value"] == value
    resp = api.execute(
        "kv-store",
        "put",
        ws,
        {"key": "deeper", "value": nested(MAX_JSON_DEPTH)},
        integrationAlias="kv",
    )
    error_body(resp, 400, "INVALID_JSON")
    resp = api.execute("kv-store", "get", ws, {"key": "deeper"}, integrationAlias="kv")
    assert resp.json()["output"]["version"] == 0  # changed nothing


# -- 4: Range digits ----------------------------------------------------------------------------
@BACKENDS
def test_range_with_unicode_or_huge_digits(api: Api, ws: str) -> None:
    api.output("storage", "write_file", ws, {"path": "r.txt", "content": "0123456789"})
    url = api.output("storage", "get_download_url", ws, {"path": "r.txt"})["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    huge = "9" * 5000
    cases = {
        "bytes=0-²": 200,
        "bytes=²-": 200,
        "bytes=-²": 200,
        "bytes=\u0663-\u0665": 200,
        f"bytes=0-{huge}": 206,
        f"bytes=-{huge}": 206,
        f"bytes={huge}-": 416,
        f"bytes={huge}-{huge}": 416,
        "bytes=0000000000000000000000002-3": 206,
    }
    for header, status in cases.items():
        resp = api.client.get("/" + path, headers={"Range": header.encode("utf-8")})
        assert resp.status_code == status, (header[:40], resp.status_code, resp.text[:200])
        if status == 200:
            assert resp.content == b"0123456789"
        elif status == 206:
            assert resp.content in (b"0123456789", b"23")


# -- 5: crafted cursors ---------------------------------------------------------------------------
@BACKENDS
def test_crafted_list_files_cursor_is_a_400(api: Api, ws: str) -> None:
    api.output("storage", "write_file", ws, {"path": "a.txt", "content": "a"})
    for raw in (b"\x00", b"a\x00b", b"\xff", b"\x1b[0m"):
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        resp = api.execute("storage", "list_files", ws, {"cursor": cursor})
        assert error_body(resp, 400, "VALIDATION_ERROR")["details"]["field"] == "input.cursor"


# -- 7: full matches ------------------------------------------------------------------------------
@BACKENDS
def test_trailing_newline_is_not_a_slug_or_alias(api: Api, ws: str) -> None:
    resp = api.request("POST", "/api/v1/workspaces", {"name": "N", "slug": "rel\n"})
    assert error_body(resp, 400, "VALIDATION_ERROR")["details"]["field"] == "slug"
    resp = api.request("PATCH", f"/api/v1/workspaces/{ws}", {"slug": "other\n"})
    error_body(resp, 400, "VALIDATION_ERROR")
    resp = api.request(
        "POST",
        f"/api/v1/workspaces/{ws}/integrations",
        {"integrationName": "kv-store", "alias": "kv\n"},
    )
    assert error_body(resp, 400, "VALIDATION_ERROR")["details"]["field"] == "alias"
    integrations = api.ok("GET", f"/api/v1/workspaces/{ws}/integrations")["integrations"]
    assert sorted(i["alias"] for i in integrations) == ["files", "kv"]
    assert api.ok("GET", f"/api/v1/workspaces/{ws}")["workspace"]["slug"] == "rel"


# -- 8: prefix ending in U+10FFFF -----------------------------------------------------------------
@BACKENDS
def test_prefix_ending_in_max_code_point(api: Api, ws: str) -> None:
    top = "\U0010ffff"
    paths = [f"a{top}", f"a{top}x", f"a{top}{top}", "a", "b", f"b{top}"]
    for path in paths:
        api.output("storage", "write_file", ws, {"path": path, "content": "x"})
    for prefix in (f"a{top}", top, f"a{top}{top}"):
        out = api.output("storage", "list_files", ws, {"prefix": prefix})
        got = [f["path"] for f in out["files"]]
        assert got == sorted(p for p in paths if p.startswith(prefix)), (prefix, got)


# -- 9: the cost one request can impose ------------------------------------------------------------
@BACKENDS
def test_list_over_the_item_cap_is_a_413_and_changes_nothing(
    api: Api, ws: str, services: Any
) -> None:
    limit = services.settings.kv_max_list_items
    kv = {"integrationAlias": "kv"}
    api.output("kv-store", "put", ws, {"key": "l", "value": [1, 2]}, **kv)
    assert api.output("kv-store", "put", ws, {"key": "full", "value": [0] * limit}, **kv)
    resp = api.execute("kv-store", "put", ws, {"key": "l", "value": [0] * (limit + 1)}, **kv)
    out = error_body(resp, 413, "PAYLOAD_TOO_LARGE")
    assert out["details"] == {"field": "input.value", "limit": limit, "items": limit + 1}
    assert api.output("kv-store", "get", ws, {"key": "l"}, **kv)["value"] == [1, 2]


def test_writer_alternates_light_batches_and_heavy_jobs() -> None:
    from cubby.backends.sqlite.db import HEAVY_WEIGHT, _Job, _next_batch

    def job(weight: int) -> _Job:
        return _Job(lambda conn: None, None, None, weight=weight)

    heavy1, heavy2 = job(HEAVY_WEIGHT * 10), job(HEAVY_WEIGHT)
    light = [job(1) for _ in range(3)]
    pending = [heavy1, light[0], heavy2, light[1], light[2]]
    batch, rest, heavy_turn = _next_batch(pending, False)
    assert batch == light and rest == [heavy1, heavy2] and heavy_turn
    late = job(1)
    batch, rest, heavy_turn = _next_batch([*rest, late], heavy_turn)
    assert batch == [heavy1] and rest == [heavy2, late] and not heavy_turn  # heavy's turn
    batch, rest, heavy_turn = _next_batch(rest, heavy_turn)
    assert batch == [late] and rest == [heavy2]  # then the light job that came meanwhile
    batch, rest, _ = _next_batch(rest, heavy_turn)
    assert batch == [heavy2] and rest == []
