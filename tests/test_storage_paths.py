"""Path containment: hostile paths are rejected (or NFC-normalised) and never touch anything
outside their namespace; a property checks accepted paths stay inside and never share a body."""

from __future__ import annotations

import asyncio
import posixpath
import re
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cubby.core.paths import MAX_PATH_BYTES, normalize_path, normalize_prefix
from cubby.errors import ValidationError
from cubby.services import Services
from tests.helpers import Api

HOSTILE = {
    "parent": "../x",
    "parent inside": "a/../../x",
    "parent at end": "a/..",
    "absolute": "/etc/passwd",
    "empty segment": "a//b",
    "trailing slash": "a/",
    "backslash": "a\\b",
    "backslash parent": "..\\x",
    "dot": ".",
    "dot dot": "..",
    "dot segment": "a/./b",
    "leading dot segment": "./a",
    "empty": "",
    "NUL": "a\x00b",
    "NUL at end": "a.txt\x00.png",
    "newline": "a\nb",
    "carriage return": "a\rb",
    "tab": "a\tb",
    "escape": "a\x1bb",
    "DEL": "a\x7fb",
    "C1 control": "a\x85b",
    "encoded dot dot": "%2e%2e/x",
    "encoded dot dot upper": "%2E%2E/x",
    "half encoded dot dot": ".%2e/x",
    "encoded dot": "a/%2e/b",
    "double encoded dot dot": "%252e%252e/x",
    "encoded slash": "a%2f..%2fb",
    "encoded backslash": "..%5cx",
    "encoded NUL": "a%00b",
    "full-width dot dot": "\uff0e\uff0e/x",
    "full-width dot": "a/\uff0e/b",
    "full-width slash": "a\uff0f..\uff0fb",
    "full-width slash parent": "..\uff0fx",
    "full-width backslash": "..\uff3cx",
    "small full stop": "\ufe52\ufe52/x",
    "one dot leader": "\u2024/x",
    "two dot leader": "\u2025/x",
    "full-width percent escape": "\uff05\uff12\uff45\uff05\uff12\uff45/x",
    "encoded full-width dot": "%EF%BC%8E%EF%BC%8E/x",
    "too long": "x" * (MAX_PATH_BYTES + 1),
    "too long multibyte": "é" * 512 + "x",
}


@pytest.mark.parametrize("raw", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_path_is_rejected(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_path(raw)
    assert info.value.details == {"field": "input.path"} or (
        info.value.details is not None and info.value.details["field"] == "input.path"
    )


@pytest.mark.parametrize(
    "raw",
    [
        "a",
        "reports/monthly.json",
        "x" * MAX_PATH_BYTES,
        "é" * 512,
        "...",
        "a/.../b",
        ".hidden/.env",
        "a..b/c..",
        "100%.txt",
        "%41%42",
        "file%2e.txt",
        "a b/ c /d ",
        "\u2026",
        "\uff41\uff42",  # full-width letters: not structural, kept as written
        "emoji/\U0001f600.png",
        "C:/windows",
        "a:b/c?d#e",
    ],
)
def test_ordinary_path_is_kept(raw: str) -> None:
    assert normalize_path(raw) == raw


def test_nfc_normalisation() -> None:
    decomposed = "cafe\u0301/re\u0301sume\u0301.txt"
    assert normalize_path(decomposed) == "caf\u00e9/r\u00e9sum\u00e9.txt"
    assert normalize_prefix("cafe\u0301/") == "caf\u00e9/"


def test_size_limit_counts_nfc_bytes() -> None:
    # 1024 bytes once composed (512 x 2-byte é), 1536 bytes as written.
    assert normalize_path("e\u0301" * 512) == "\u00e9" * 512


def test_field_name_is_configurable() -> None:
    with pytest.raises(ValidationError) as info:
        normalize_path("../x", field="input.other")
    assert info.value.details == {"field": "input.other"}


def test_prefix_rules() -> None:
    assert normalize_prefix("") == ""
    assert normalize_prefix("reports/") == "reports/"
    assert normalize_prefix("rep") == "rep"
    for bad in ("a\x00", "a\nb", "x" * (MAX_PATH_BYTES + 1)):
        with pytest.raises(ValidationError):
            normalize_prefix(bad)


ALPHABET = st.sampled_from(
    [
        *"ab./\\%25eE0fF",
        "\x00",
        "\x1f",
        "\x7f",
        "\x85",
        "\uff0e",
        "\uff0f",
        "\uff3c",
        "\u2024",
        "\u2025",
        "\ufe52",
        "\uff05",
        "e\u0301",
        "\u00e9",
        "\u212b",
        " ",
    ]
)
PIECES = st.lists(ALPHABET, max_size=24).map("".join)
SEGMENTS = st.lists(st.lists(ALPHABET, max_size=6).map("".join), min_size=1, max_size=5)
PATHS = st.one_of(PIECES, SEGMENTS.map("/".join), st.text(max_size=40))


@hypothesis_settings(max_examples=1000, deadline=None)
@given(PATHS)
def test_accepted_paths_stay_inside(raw: str) -> None:
    try:
        path = normalize_path(raw)
    except ValidationError:
        return
    root = "/namespace"
    joined = posixpath.join(root, path)
    # Joining never escapes or collapses: the path resolves to itself under the root.
    assert posixpath.normpath(joined) == joined
    assert joined.startswith(root + "/")
    assert unicodedata.normalize("NFC", path) == path
    assert len(path.encode("utf-8")) <= MAX_PATH_BYTES
    for segment in path.split("/"):
        assert segment not in ("", ".", "..")
        folded = unicodedata.normalize("NFKC", segment)
        assert folded not in (".", "..") and "/" not in folded and "\\" not in folded
    # Idempotent: a stored path is accepted unchanged when sent again.
    assert normalize_path(path) == path


# -- through the API ------------------------------------------------------------------------


def _tree(root: Path, skip: tuple[str, ...]) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(skip)
    }


@pytest.mark.conformance
@pytest.mark.parametrize("action", ["write_file", "read_file", "delete_file", "get_download_url"])
def test_hostile_paths_touch_nothing(api: Api, tmp_path: Path, action: str) -> None:
    ws = api.create_workspace("contain")
    # Something that a '../' escape from the blob folder or the data dir could reach.
    (tmp_path / "x").write_text("outside")
    (tmp_path / "passwd").write_text("outside")
    before = _tree(tmp_path, ("cubby.db",))
    for name, raw in HOSTILE.items():
        body: dict[str, Any] = {"path": raw}
        if action == "write_file":
            body["content"] = "pwned"
        resp = api.execute("storage", action, ws, body, endUserId="u1")
        assert resp.status_code == 400, (name, resp.text)
        error = resp.json()
        assert error["code"] == "VALIDATION_ERROR", name
        assert error["details"]["field"] == "input.path", name
    assert _tree(tmp_path, ("cubby.db",)) == before
    assert (tmp_path / "x").read_text() == "outside"
    listed = api.output("storage", "list_files", ws, {}, endUserId="u1")
    assert listed == {"files": [], "nextCursor": None}


@pytest.mark.conformance
def test_nfc_variants_name_one_file(api: Api) -> None:
    ws = api.create_workspace("nfc")
    first = api.output(
        "storage", "write_file", ws, {"path": "cafe\u0301.txt", "content": "one"}, endUserId="u"
    )
    second = api.output(
        "storage", "write_file", ws, {"path": "caf\u00e9.txt", "content": "two"}, endUserId="u"
    )
    assert first["path"] == second["path"] == "caf\u00e9.txt"
    read = api.output("storage", "read_file", ws, {"path": "cafe\u0301.txt"}, endUserId="u")
    assert read["content"] == "two"
    listed = api.output("storage", "list_files", ws, {}, endUserId="u")
    assert [f["path"] for f in listed["files"]] == ["caf\u00e9.txt"]


@pytest.mark.conformance
@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(paths=st.lists(PATHS, min_size=1, max_size=6))
def test_accepted_paths_never_share_a_body(api: Api, services: Services, paths: list[str]) -> None:
    """Write a distinct body to each accepted path (in a fresh namespace), then read every
    distinct stored path back: each holds exactly the last body written to it, the namespace
    lists exactly those paths, and every body in the blob store sits under its workspace."""
    ws = api.create_workspace(f"prop-{uuid.uuid4().hex[:12]}")
    user = "u"
    expected: dict[str, str] = {}
    for i, raw in enumerate(paths):
        # Every other body is large enough to live in the blob store rather than inline.
        content = f"body {i} " + ("x" * 70_000 if i % 2 else "")
        resp = api.execute(
            "storage", "write_file", ws, {"path": raw, "content": content}, endUserId=user
        )
        if resp.status_code == 400:
            assert resp.json()["details"]["field"] == "input.path"
            continue
        assert resp.status_code == 200, resp.text
        expected[resp.json()["output"]["path"]] = content
    assume(expected)
    for path, content in expected.items():
        got = api.output("storage", "read_file", ws, {"path": path}, endUserId=user)
        assert got["content"] == content
    listed = api.output("storage", "list_files", ws, {}, endUserId=user)["files"]
    assert [f["path"] for f in listed] == sorted(expected)
    # Another end user of the same workspace sees none of it.
    other = api.output("storage", "list_files", ws, {}, endUserId=user + "-other")
    assert other["files"] == []
    keys = asyncio.run(_blob_keys(services, ws))
    large = sum(1 for content in expected.values() if len(content) > 65536)
    assert len(keys) == large
    assert all(re.fullmatch(f"{ws}/[0-9a-f-]{{36}}", key) for key in keys), keys


async def _blob_keys(services: Services, ws: str) -> list[str]:
    return [key async for key, _ in services.blobs.list_keys(ws + "/")]
