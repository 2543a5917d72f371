"""The per-write size limit (CUBBY_STORAGE_MAX_FILE_BYTES): 413 PAYLOAD_TOO_LARGE, nothing
written. This module runs with a 1000-byte limit; one test checks the 25 MiB default."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cubby.settings import MIB, Settings
from tests.helpers import Api

pytestmark = pytest.mark.conformance

LIMIT = 1000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(storage_max_file_bytes=LIMIT)


@pytest.fixture
def ws(api: Api) -> str:
    return api.create_workspace("limits")


def too_large(api: Api, ws: str, content: str, **input: str) -> dict[str, Any]:
    resp = api.execute(
        "storage", "write_file", ws, {"path": "f.txt", "content": content, **input}, endUserId="u"
    )
    assert resp.status_code == 413, resp.text
    body = resp.json()
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert body["details"]["limit"] == LIMIT
    assert body["details"]["field"] == "input.content"
    return dict(body)


def test_limit_applies_to_stored_bytes(api: Api, ws: str) -> None:
    api.output(
        "storage", "write_file", ws, {"path": "f.txt", "content": "a" * LIMIT}, endUserId="u"
    )
    assert too_large(api, ws, "b" * (LIMIT + 1))["details"] == {
        "field": "input.content",
        "limit": LIMIT,
        "size": LIMIT + 1,
    }
    # 500 characters, 1000 bytes: fits. 501 characters, 1002 bytes: does not.
    api.output("storage", "write_file", ws, {"path": "g.txt", "content": "é" * 500}, endUserId="u")
    too_large(api, ws, "é" * 501)
    # base64 counts decoded bytes.
    ok = base64.b64encode(b"\x00" * LIMIT).decode()
    api.output(
        "storage",
        "write_file",
        ws,
        {"path": "h.bin", "content": ok, "contentEncoding": "base64"},
        endUserId="u",
    )
    too_large(api, ws, base64.b64encode(b"\x00" * (LIMIT + 1)).decode(), contentEncoding="base64")
    # The refused writes changed nothing.
    got = api.output("storage", "read_file", ws, {"path": "f.txt"}, endUserId="u")
    assert got["content"] == "a" * LIMIT


def test_limit_setting() -> None:
    assert Settings().storage_max_file_bytes == 25 * MIB
    env = {"CUBBY_STORAGE_MAX_FILE_BYTES": "123"}
    assert Settings.from_env(env).storage_max_file_bytes == 123
