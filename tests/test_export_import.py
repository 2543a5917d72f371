"""Export and import of one scope (issue 24, acceptance 4 and part of 5): export an end user,
erase them, import the archive: their data is back exactly and nobody else's changed; bad
archives are 400s that change nothing; a workspace-scoped key reaches only its workspace."""

from __future__ import annotations

import asyncio
import base64
import io
import sqlite3
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.backends import settings_for
from tests.backup_data import dump_folder, seed
from tests.helpers import Api, cubby_cli, error_body

ALICE = "u:alice"


@pytest.fixture(scope="module", params=["sqlite+file", "postgres+file"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, Settings, list[str]]]:
    settings = settings_for(request.param, tmp_path_factory.mktemp("export"))
    seeded = seed(settings, n_keys=120, n_files=30, big_bytes=200_000)
    services = build_services(settings)
    with TestClient(create_app(settings, services)) as client:
        yield Api(client, seeded.org_key), settings, [seeded.ws_key, *seeded.workspaces]
    services.close()


QUERIES = {
    "kv_entries": "SELECT * FROM kv_entries ORDER BY 1, 2, 3",
    "items": "SELECT workspace_id, ns, key, value, canon, value_hash FROM kv_list_items "
    "ORDER BY workspace_id, ns, key, id",
    "files": "SELECT workspace_id, ns, path, size, content_type, etag, inline_body, "
    "created_at, updated_at, expires_at, blob_key IS NULL FROM files ORDER BY 1, 2, 3",
    "others": f"SELECT workspace_id, ns, path, blob_key FROM files WHERE ns <> '{ALICE}' "
    "ORDER BY 1, 2, 3",
    # the agent tools' rows, their ids (fresh on import) replaced by what they name
    "entities": "SELECT workspace_id, ns, name, type, created_at, updated_at "
    "FROM memory_entities ORDER BY 1, 2, 3",
    "observations": "SELECT o.workspace_id, o.ns, e.name, o.text, o.digest, o.created_at "
    "FROM memory_observations o JOIN memory_entities e ON e.id = o.entity_id "
    "ORDER BY 1, 2, 3, 4",
    "relations": "SELECT r.workspace_id, r.ns, f.name, t.name, r.type, r.created_at "
    "FROM memory_relations r JOIN memory_entities f ON f.id = r.from_id "
    "JOIN memory_entities t ON t.id = r.to_id ORDER BY 1, 2, 3, 4, 5",
    "pages": "SELECT workspace_id, ns, name, content, size, created_at, updated_at "
    "FROM scratch_pages ORDER BY 1, 2, 3",
    "chains": "SELECT workspace_id, ns, chain_id, last_thought, main_length, created_at "
    "FROM thinking_chains ORDER BY 1, 2, 3",
    "thoughts": "SELECT t.workspace_id, t.ns, c.chain_id, t.thought_id, t.content, "
    "t.branch_name, t.branch_from, t.revisions, t.previous, t.created_at, t.updated_at "
    "FROM thoughts t JOIN thinking_chains c ON c.id = t.chain ORDER BY 1, 2, 3, 4",
}


def rows(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """The data rows as plain SQL reads them (either backend)."""
    if not settings.database_url:
        conn = sqlite3.connect(settings.data_dir / "cubby.db")
        try:
            return {name: conn.execute(sql).fetchall() for name, sql in QUERIES.items()}
        finally:
            conn.close()
    from cubby.backends.postgres.store import parse_url

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        pg = await asyncpg.connect(parse_url(settings.database_url)[0])
        try:
            return {name: [tuple(r) for r in await pg.fetch(sql)] for name, sql in QUERIES.items()}
        finally:
            await pg.close()

    return asyncio.run(read())


def export(api: Api, ws: str, body: dict[str, Any], key: str | None = None) -> bytes:
    resp = api.request("POST", f"/api/v1/workspaces/{ws}/export", body, key=key)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/x-tar"
    return resp.content


def import_(api: Api, ws: str, tar: bytes, mode: str = "merge") -> Any:
    return api.client.post(
        f"/api/v1/workspaces/{ws}/import?mode={mode}", content=tar,
        headers={**api.headers(), "Content-Type": "application/x-tar"},
    )  # fmt: skip


def test_export_erase_import_gives_alice_back_and_touches_no_one_else(
    world: tuple[Api, Settings, list[str]],
) -> None:
    api, settings, (_, ws, *_rest) = world
    before = rows(settings)
    bodies_before = dump_folder(settings.data_dir / "files")
    tar = export(api, ws, {"endUserId": "alice"})
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        names = archive.getnames()
    assert "manifest.json" in names and "tables/kv_entries.jsonl" in names
    assert any(n.startswith("files/") for n in names)

    erased = api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", {"endUserId": "alice"})
    assert erased["erased"]["keys"] > 0 and erased["erased"]["files"] > 0
    gone = rows(settings)
    assert all(r[1] != ALICE or r[0] != ws for r in gone["kv_entries"])

    done = import_(api, ws, tar)
    assert done.status_code == 200, done.text
    assert done.json()["rows"]["kv_entries"] > 0
    after = rows(settings)
    assert after["kv_entries"] == before["kv_entries"]  # JSON text, version, expiry, size
    assert after["items"] == before["items"]  # list items in order (fresh ids)
    assert after["files"] == before["files"]  # everything but the body's (fresh) blob key
    assert after["others"] == before["others"]  # no one else's row moved at all
    for agent in ("entities", "observations", "relations", "pages", "chains", "thoughts"):
        assert before[agent] and after[agent] == before[agent], agent
    alice = {"endUserId": "alice"}
    found = api.output("agent-memory", "search", ws, {"query": "cafe"},
                       integrationAlias="memory", **alice)  # fmt: skip
    assert [e["name"] for e in found["entities"]] == ["Alice"]  # search rebuilt for the scope
    pages = api.output("agent-scratchpad", "search_pages", ws, {"query": "resume"},
                       integrationAlias="pad", **alice)  # fmt: skip
    assert len(pages["results"]) == 3
    bodies_after = dump_folder(settings.data_dir / "files")
    others = {r[3] for r in before["others"] if r[3]}
    assert {k: bodies_after[k] for k in others} == {k: bodies_before[k] for k in others}
    assert sorted(bodies_after.values()) == sorted(bodies_before.values())
    got = api.output("storage", "read_file", ws, {"path": "d0/f-0.bin", "outputEncoding": "base64"},
                     integrationAlias="files", endUserId="alice")  # fmt: skip
    assert len(base64.b64decode(got["content"])) == 200_000

    again = import_(api, ws, tar, mode="replace")  # replace: the same state once more
    assert again.status_code == 200, again.text
    assert rows(settings) | {"files": [], "others": []} == before | {"files": [], "others": []}


def test_integration_and_workspace_exports(world: tuple[Api, Settings, list[str]]) -> None:
    api, _, (ws_key, ws, other, _) = world
    shared = export(api, ws, {"integrationAlias": "shared"})
    with tarfile.open(fileobj=io.BytesIO(shared)) as archive:
        assert "tables/files.jsonl" not in archive.getnames()  # a kv-store alias: kv only
        entries = archive.extractfile("tables/kv_entries.jsonl")
        assert entries is not None
        assert all(b'"w"' in line for line in entries.read().splitlines())
    whole = export(api, ws, {}, key=ws_key)
    assert len(whole) > len(shared)
    denied = api.request("POST", f"/api/v1/workspaces/{other}/export", {}, key=ws_key)
    error_body(denied, 403, "SCOPE_DENIED")
    missing = api.request("POST", f"/api/v1/workspaces/{ws}/export", {"integrationAlias": "nope"})
    error_body(missing, 404, "NOT_FOUND")


def test_bad_archives_are_400s_that_change_nothing(
    world: tuple[Api, Settings, list[str]],
) -> None:
    api, settings, (_, ws, *_rest) = world
    tar = export(api, ws, {"endUserId": "bob"})
    before = rows(settings)
    truncated = tar[: len(tar) // 3]
    error_body(import_(api, ws, truncated), 400, "VALIDATION_ERROR")
    error_body(import_(api, ws, b"junk" * 300), 400, "VALIDATION_ERROR")
    error_body(import_(api, ws, tar, mode="sideways"), 400, "VALIDATION_ERROR", "mode")
    # a row edited after export: the manifest's SHA-256 no longer matches
    tampered = tar.replace(b"true,null", b"null,true", 1)
    assert tampered != tar
    error_body(import_(api, ws, tampered), 400, "VALIDATION_ERROR")
    assert rows(settings) == before


def test_cli_export_and_import(world: tuple[Api, Settings, list[str]], tmp_path: Path) -> None:
    _api, settings, (_, ws, *_rest) = world
    before = rows(settings)
    out = tmp_path / "bob.tar"
    where = ("--data-dir", str(settings.data_dir), "--database-url", settings.resolved_database_url)
    made = cubby_cli("export", ws, str(out), "--end-user", "bob", *where)
    assert made.returncode == 0, made.stderr
    assert "exported" in made.stdout
    with tarfile.open(out) as archive:
        assert "manifest.json" in archive.getnames()
    back = cubby_cli("import", "seed-0", str(out), "--mode", "replace", *where)
    assert back.returncode == 0, back.stderr
    assert rows(settings) == before
    bad = cubby_cli("import", ws, str(tmp_path / "none.tar"), *where)
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.startswith("cubby: error: no backup or export archive at"), bad.stderr


def test_the_workspace_page_offers_export(world: tuple[Api, Settings, list[str]]) -> None:
    from tests.test_web_pages import sign_in

    api, _, (_, ws, *_rest) = world
    client = api.client
    csrf = sign_in(client, api.key)
    page = client.get(f"/ui/workspaces/{ws}")
    assert f'action="/ui/workspaces/{ws}/export"' in page.text
    resp = client.post(f"/ui/workspaces/{ws}/export", data={"csrf": csrf, "endUser": "bob"})
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(resp.content)) as got:
        names = got.getnames()
    with tarfile.open(fileobj=io.BytesIO(export(api, ws, {"endUserId": "bob"}))) as want:
        assert names == want.getnames()
    refused = client.post(f"/ui/workspaces/{ws}/export", data={"endUser": "bob"})
    assert refused.status_code == 403  # no CSRF token: no export
    client.cookies.clear()


def test_an_import_over_a_limit_is_refused_and_changes_nothing(
    world: tuple[Api, Settings, list[str]],
) -> None:
    api, settings, (_, ws, *_rest) = world
    tar = export(api, ws, {"endUserId": "alice"})
    api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", {"endUserId": "alice"})
    erased = rows(settings)
    api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {"perEndUser": {"maxKeys": 1}})
    try:
        refused = import_(api, ws, tar)
        error_body(refused, 403, "QUOTA_EXCEEDED")
        assert rows(settings) == erased  # the kind that hit the limit wrote nothing
    finally:
        api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {})
    assert import_(api, ws, tar).status_code == 200
