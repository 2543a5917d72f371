"""`cubby backup`, `cubby backup --verify` and `cubby restore` (issue 24, acceptance 5): a
backup restores byte-for-byte; a truncated or tampered archive, a manifest that lies and a
target that holds data are one-line errors, and nothing is half-restored."""

from __future__ import annotations

import asyncio
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from cubby.backends.blobs import open_blob_store
from cubby.backends.snapshot import TABLES
from cubby.core.archive import Archive, ArchiveError
from cubby.core.backup import restore, verify
from cubby.settings import Settings
from tests.backends import server_env, settings_for
from tests.backup_data import dump_folder, dump_sqlite, seed
from tests.helpers import cubby_cli


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("source") / "data")
    seed(settings, n_keys=60, n_files=24, big_bytes=300_000)
    return settings


@pytest.fixture(scope="module")
def archives(source: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("archives")
    made = {}
    for name in ("backup", "backup.tar"):
        done = cubby_cli("backup", str(root / name), "--data-dir", str(source.data_dir))
        assert done.returncode == 0, done.stderr
        assert "backed up" in done.stdout
        made[name] = root / name
    return made


def one_error_line(done: object, *words: str) -> str:
    stderr = str(getattr(done, "stderr", ""))
    assert getattr(done, "returncode", None) == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cubby: error: "), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("name", ["backup", "backup.tar"])
def test_backup_restores_byte_for_byte(
    name: str, source: Settings, archives: dict[str, Path], tmp_path: Path
) -> None:
    verified = cubby_cli("backup", "--verify", str(archives[name]))
    assert verified.returncode == 0 and "is good" in verified.stdout, verified.stderr
    target = tmp_path / "restored"
    done = cubby_cli("restore", str(archives[name]), "--data-dir", str(target))
    assert done.returncode == 0, done.stderr
    assert dump_sqlite(target / "cubby.db") == dump_sqlite(source.data_dir / "cubby.db")
    assert dump_folder(target / "files") == dump_folder(source.data_dir / "files")
    assert (target / "secret_key").read_bytes() == (source.data_dir / "secret_key").read_bytes()


def test_restore_into_postgres_s3(
    archives: dict[str, Path], source: Settings, tmp_path: Path
) -> None:
    target = settings_for("postgres+s3", tmp_path)
    done = cubby_cli(
        "restore", str(archives["backup.tar"]), "--data-dir", str(target.data_dir),
        "--database-url", target.database_url, "--files-url", target.files_url,
        env=server_env(target),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    again = Settings(data_dir=tmp_path / "back")
    (tmp_path / "back").mkdir()
    copied = cubby_cli(
        "copy", "--data-dir", str(target.data_dir), "--database-url", target.database_url,
        "--files-url", target.files_url, "--to-database", again.resolved_database_url,
        "--to-files", again.resolved_files_url, env=server_env(target), timeout=120,
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    assert dump_sqlite(again.data_dir / "cubby.db") == dump_sqlite(source.data_dir / "cubby.db")


def test_restore_refuses_a_target_that_holds_data(
    source: Settings, archives: dict[str, Path]
) -> None:
    before = dump_sqlite(source.data_dir / "cubby.db")
    done = cubby_cli("restore", str(archives["backup"]), "--data-dir", str(source.data_dir))
    one_error_line(done, "holds data", "empty")
    assert dump_sqlite(source.data_dir / "cubby.db") == before


def test_backup_refuses_a_destination_that_exists(source: Settings, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    done = cubby_cli("backup", str(tmp_path / "taken"), "--data-dir", str(source.data_dir))
    one_error_line(done, "not empty")


def _copy(archive: Path, tmp_path: Path) -> Path:
    dest = tmp_path / archive.name
    if archive.is_dir():
        shutil.copytree(archive, dest)
    else:
        shutil.copy(archive, dest)
    return dest


def _assert_nothing_restored(src: Path, tmp_path: Path, *words: str, cli: bool = False) -> None:
    """Verify and restore both refuse ``src`` naming ``words``; the target stays empty."""
    target = Settings(data_dir=tmp_path / "target")
    if cli:
        one_error_line(cubby_cli("backup", "--verify", str(src)), *words)
        done = cubby_cli("restore", str(src), "--data-dir", str(target.data_dir))
        one_error_line(done, *words)
    else:
        with pytest.raises(ArchiveError) as refused:
            Archive(src).close() if not src.exists() else verify(Archive(src))
        assert all(word in str(refused.value) for word in words), refused.value
        blobs = open_blob_store(target.resolved_files_url)
        try:
            with pytest.raises(ArchiveError) as refused:
                asyncio.run(restore(Archive(src), target.resolved_database_url, blobs))
        finally:
            blobs.close()
        assert all(word in str(refused.value) for word in words), refused.value
    if (target.data_dir / "cubby.db").exists():
        rows = dump_sqlite(target.data_dir / "cubby.db")
        seeded = {t.name for t in TABLES if t.singleton or t.seeded}
        assert [name for name, r in rows.items() if r and name not in seeded] == []
    files = target.data_dir / "files"
    assert not files.exists() or dump_folder(files) == {}


def test_truncated_tar(archives: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(archives["backup.tar"], tmp_path)
    size = src.stat().st_size
    with open(src, "r+b") as f:
        f.truncate(size // 2)
    _assert_nothing_restored(src, tmp_path, str(src), cli=True)


def test_tampered_body(archives: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(archives["backup"], tmp_path)
    body = next(p for p in (src / "files").rglob("*") if p.is_file())
    data = bytearray(body.read_bytes())
    data[len(data) // 2] ^= 0xFF
    body.write_bytes(bytes(data))
    _assert_nothing_restored(src, tmp_path, "does not match")


def test_tampered_rows(archives: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(archives["backup"], tmp_path)
    table = src / "tables" / "kv_entries.jsonl"
    table.write_text(table.read_text().replace('\\"i\\":1', '\\"i\\":2', 1))
    _assert_nothing_restored(src, tmp_path, "kv_entries", "SHA-256")


def test_manifest_that_lies_about_rows(archives: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(archives["backup"], tmp_path)
    manifest = json.loads((src / "manifest.json").read_text())
    for table in manifest["tables"]:
        if table["name"] == "files":
            table["rows"] += 1
    (src / "manifest.json").write_text(json.dumps(manifest))
    _assert_nothing_restored(src, tmp_path, "files", "rows")


def test_manifest_that_hides_a_body(archives: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(archives["backup"], tmp_path)
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["bodies"] = manifest["bodies"][1:]
    (src / "manifest.json").write_text(json.dumps(manifest))
    _assert_nothing_restored(src, tmp_path, "names the body")


def test_body_key_that_escapes(archives: dict[str, Path], tmp_path: Path) -> None:
    src = _copy(archives["backup"], tmp_path)
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["bodies"][0]["key"] = "../../etc/passwd"
    (src / "manifest.json").write_text(json.dumps(manifest))
    _assert_nothing_restored(src, tmp_path, "bad body key")


def test_not_a_backup(tmp_path: Path) -> None:
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    _assert_nothing_restored(tmp_path / "junk.tar", tmp_path, "junk.tar", cli=True)
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    _assert_nothing_restored(tmp_path / "empty.tar", tmp_path, "manifest.json")
    one_error_line(cubby_cli("backup", "--verify", str(tmp_path / "missing")), "no backup")


def test_every_table_is_covered(tmp_path: Path) -> None:
    """A new kind of data is one more entry in backends/snapshot.py's TABLES: this fails
    until it is there, on both backends (derived search tables and the machinery aside)."""
    from cubby.backends.snapshots import open_snapshot
    from cubby.core.dataset import uncovered_tables
    from tests.backends import postgres_url

    async def uncovered(url: str) -> list[str]:
        snapshot = await open_snapshot(url)
        try:
            return await uncovered_tables(snapshot)
        finally:
            await snapshot.close()

    sqlite_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert asyncio.run(uncovered(sqlite_url)) == []
    assert asyncio.run(uncovered(postgres_url())) == []
