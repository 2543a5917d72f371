"""``cubby backup``, ``cubby restore`` and ``cubby copy`` (API.md, "Backup, restore, moving and
exporting data"); the work is in :mod:`cubby.core.backup` and :mod:`cubby.core.copy`."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click

from cubby.cli.support import (
    data_dir_option,
    database_option,
    ensure_data_dir,
    fail,
    settings,
    with_workspace,
    workspace_option,
)

if TYPE_CHECKING:
    from cubby.backends.blobs import BlobStore

T = TypeVar("T")
MIB = 1024 * 1024

files_option = click.option(
    "--files-url",
    envvar="CUBBY_FILES_URL",
    default=None,
    help="Where file bodies live [env CUBBY_FILES_URL; default: <data dir>/files].",
)


class BarProgress:
    """A progress bar on a terminal (items, bytes, rate, time left), plain lines otherwise."""

    def __init__(self, tty: bool | None = None, every: float | None = None) -> None:
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.every = every if every is not None else (0.2 if self.tty else 5.0)
        self.phase = ""
        self.total = self.items = self.bytes = 0
        self.started = self.shown = 0.0

    def start(self, phase: str, items: int, size: int) -> None:
        self._line(force=True)
        self.phase, self.total, self.items, self.bytes = phase, items, 0, 0
        self.started = time.monotonic()
        self.shown = 0.0

    def advance(self, items: int, size: int = 0) -> None:
        self.items += items
        self.bytes += size
        self._line()

    def finish(self) -> None:
        self._line(force=True)
        if self.tty and self.phase:
            click.echo("", err=True)
        self.phase = ""

    def _line(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.phase or (not force and now - self.shown < self.every):
            return
        if not self.tty and now - self.started < self.every:
            return  # plain lines only for phases long enough to need them
        self.shown = now
        took = max(now - self.started, 1e-6)
        rate = self.items / took
        left = (self.total - self.items) / rate if rate > 0 and self.total > self.items else 0
        text = (
            f"{self.phase}: {self.items}/{self.total} items, {self.bytes / MIB:.1f} MiB, "
            f"{rate:.0f} items/s, {self.bytes / MIB / took:.1f} MiB/s, {left:.0f} s left"
        )
        if self.tty:
            width = 30
            done = int(width * self.items / self.total) if self.total else width
            click.echo(f"\r[{'#' * done}{'.' * (width - done)}] {text}\x1b[K", nl=False, err=True)
        else:
            click.echo(text, err=True)


def cast_mode(mode: str) -> Literal["merge", "replace"]:
    return "replace" if mode == "replace" else "merge"


def redact(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work``; every error a user can act on becomes one ``cubby: error:`` line."""
    from cubby.backends.config_error import BackendConfigError
    from cubby.backends.snapshot import SnapshotError
    from cubby.core.archive import ArchiveError
    from cubby.core.backup import BackupError
    from cubby.core.copy import CopyError
    from cubby.errors import CubbyError

    async def main() -> T:
        return await work()

    try:
        return asyncio.run(main())
    except (BackupError, ArchiveError, CopyError, SnapshotError, BackendConfigError) as exc:
        fail(str(exc))
    except CubbyError as exc:  # a limit of the target refused the rows (QUOTA_EXCEEDED)
        fail(f"{exc.message} {exc.details or ''}".strip())
    except OSError as exc:
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except Exception as exc:
        import asyncpg

        if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
            fail(f"PostgreSQL: {' '.join(str(exc).split())[:300]}")
        raise


def _blobs(url: str) -> BlobStore:
    from cubby.backends.blobs import open_blob_store
    from cubby.backends.config_error import BackendConfigError

    try:
        return open_blob_store(url)
    except BackendConfigError as exc:
        fail(str(exc))


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--verify", is_flag=True, help="Check the backup at DEST without restoring it.")
@data_dir_option
@database_option
@files_option
def backup(
    dest: Path,
    verify: bool,
    data_dir: Path | None,
    database_url: str | None,
    files_url: str | None,
) -> None:
    """Back up the installation to DEST (a folder, or a file ending in .tar) while it runs.

    One consistent point in time: rows from one database snapshot, and the file bodies those
    rows name. With --verify, check the backup at DEST instead (every row count and SHA-256).
    """
    from cubby.core import backup as core

    if verify:
        from cubby.core.archive import Archive

        def check() -> None:
            archive = Archive(dest)
            try:
                manifest = core.verify(archive, BarProgress())
            finally:
                archive.close()
            rows = sum(int(t["rows"]) for t in manifest["tables"])
            click.echo(
                f"backup {dest} is good: {rows} rows in {len(manifest['tables'])} tables, "
                f"{len(manifest['bodies'])} bodies, made {manifest.get('createdAt')}"
            )

        async def run_check() -> None:
            check()

        _run(run_check)
        return
    config = settings(data_dir, database_url)
    if files_url:
        config = config.with_overrides(files_url=files_url)
    if not config.database_url:
        ensure_data_dir(config.data_dir)
    blobs = _blobs(config.resolved_files_url)
    started = time.monotonic()
    try:
        summary = _run(
            lambda: core.backup(
                config.resolved_database_url,
                blobs,
                dest,
                secret_file=config.data_dir / "secret_key",
                progress=BarProgress(),
            )
        )
    finally:
        blobs.close()
    rows = sum(summary.tables.values())
    click.echo(
        f"backed up {rows} rows and {summary.bodies} bodies "
        f"({summary.body_bytes / MIB:.1f} MiB) to {dest} in {time.monotonic() - started:.1f} s"
    )
    if summary.skipped_tables:
        click.echo(
            f"warning: tables not in the backup (unknown to this cubby): "
            f"{', '.join(summary.skipped_tables)}",
            err=True,
        )


@click.command()
@click.argument("src", type=click.Path(path_type=Path))
@data_dir_option
@database_option
@files_option
def restore(
    src: Path, data_dir: Path | None, database_url: str | None, files_url: str | None
) -> None:
    """Restore the backup SRC into an empty data dir or database (and file store).

    Checks the whole backup first; refuses a target that holds data; all or nothing.
    """
    from cubby.core import backup as core
    from cubby.core.archive import Archive

    config = settings(data_dir, database_url)
    if files_url:
        config = config.with_overrides(files_url=files_url)
    ensure_data_dir(config.data_dir, create=True)
    blobs = _blobs(config.resolved_files_url)

    async def work() -> dict[str, Any]:
        archive = Archive(src)
        try:
            manifest = await core.restore(
                archive, config.resolved_database_url, blobs, progress=BarProgress()
            )
            core.restore_secret(archive, config.data_dir / "secret_key")
            return manifest
        finally:
            archive.close()

    try:
        manifest = _run(work)
    finally:
        blobs.close()
    click.echo(
        f"restored {sum(int(t['rows']) for t in manifest['tables'])} rows and "
        f"{len(manifest['bodies'])} bodies (backup made {manifest.get('createdAt')})"
    )


@click.command()
@click.option("--to-database", required=True, help="The target database URL (empty).")
@click.option("--to-files", required=True, help="The target file store URL.")
@data_dir_option
@database_option
@files_option
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Rows per target transaction.",
)
def copy(
    to_database: str,
    to_files: str,
    data_dir: Path | None,
    database_url: str | None,
    files_url: str | None,
    batch: int,
) -> None:
    """Copy the whole installation to another database and file store (SQLite + folder <->
    PostgreSQL + S3), while it runs. Resumable: run it again after an interrupt and it goes on.
    Verified at the end. Prints the steps to switch over."""
    from cubby.core.copy import copy as run_copy

    config = settings(data_dir, database_url)
    if files_url:
        config = config.with_overrides(files_url=files_url)
    if not config.database_url:
        ensure_data_dir(config.data_dir)
    source_url = config.resolved_database_url
    if source_url == to_database or config.resolved_files_url == to_files:
        fail("the target is the source; name another database and file store")
    source = _blobs(config.resolved_files_url)
    target = _blobs(to_files)
    started = time.monotonic()
    try:
        report = _run(
            lambda: run_copy(
                source_url, source, to_database, target, progress=BarProgress(), batch=batch
            )
        )
    finally:
        source.close()
        target.close()
    took = time.monotonic() - started
    click.echo(
        f"copied {report.rows} rows and {report.bodies} bodies "
        f"({report.body_bytes / MIB:.1f} MiB) in {took:.1f} s"
        + (" (continued an interrupted copy)" if report.resumed else "")
        + (f"; removed {report.deleted} rows the source no longer has" if report.deleted else "")
    )
    if report.skipped_tables:
        click.echo(
            f"warning: tables not copied (unknown to this cubby): "
            f"{', '.join(report.skipped_tables)}",
            err=True,
        )
    if report.mismatches:
        for line in report.mismatches[:20]:
            click.echo(f"  differs: {line}", err=True)
        fail(
            f"the target differs from the source in {len(report.mismatches)} places (the "
            "source changed during the copy?); stop the server and run the same command again"
        )
    secret = (config.data_dir / "secret_key").resolve()
    click.echo(
        f"verified: every table equal, every body checked in {report.namespaces} namespaces.\n"
        "To switch over:\n"
        "  1. stop every `cubby serve` using the source\n"
        "  2. run this same `cubby copy` command again: it copies what changed meanwhile and "
        "verifies again\n"
        f"  3. keep signed download URLs working: use the same server secret (copy {secret} "
        "into the new data dir, or set CUBBY_SECRET_KEY to the same value everywhere)\n"
        f"  4. start: cubby serve --database-url '{redact(to_database)}' "
        f"--files-url '{to_files}'"
    )


@click.command("export")
@click.argument("args", nargs=-1, metavar="[WORKSPACE] OUT")
@workspace_option("CUBBY_WORKSPACE")
@click.option("--end-user", "end_user", default=None, help="Only this endUserId's data.")
@click.option("--integration", "alias", default=None, help="Only this integration alias's data.")
@data_dir_option
@database_option
@files_option
def export_command(
    args: tuple[str, ...],
    workspace_option: str | None,
    end_user: str | None,
    alias: str | None,
    data_dir: Path | None,
    database_url: str | None,
    files_url: str | None,
) -> None:
    """Export one end user's, one integration's or a whole WORKSPACE's data (id or slug) to
    the .tar file OUT: the archive `POST /api/v1/workspaces/{wsId}/export` answers."""
    from cubby.cli.support import find_workspace, operator, run_admin
    from cubby.core import export

    workspace, out_name = with_workspace(workspace_option, args, ["OUT"])
    out = Path(out_name)
    if out.exists():
        fail(f"{out} exists; name a new file")
    config = settings(data_dir, database_url)
    if files_url:
        config = config.with_overrides(files_url=files_url)

    async def work(services: Any) -> dict[str, Any]:
        ws = await find_workspace(services.meta, workspace)
        selection = await export.selection_for(services, operator(), ws.id, end_user, alias)
        with open(out, "xb") as file:
            return await export.write_export(
                config.resolved_database_url, services.blobs, selection, file
            )

    manifest = run_admin(config, work)
    rows = sum(int(t["rows"]) for t in manifest["tables"])
    click.echo(f"exported {rows} rows and {len(manifest['bodies'])} bodies to {out}")


@click.command("import")
@click.argument("args", nargs=-1, metavar="[WORKSPACE] SRC")
@workspace_option("CUBBY_WORKSPACE")
@click.option(
    "--mode",
    type=click.Choice(["merge", "replace"]),
    default="merge",
    show_default=True,
    help="merge: upsert over what is there; replace: first delete the scope's data.",
)
@data_dir_option
@database_option
@files_option
def import_command(
    args: tuple[str, ...],
    workspace_option: str | None,
    mode: str,
    data_dir: Path | None,
    database_url: str | None,
    files_url: str | None,
) -> None:
    """Import the export SRC (a .tar from `cubby export` or the export API) into WORKSPACE;
    each kind of data loads whole or not at all."""
    from cubby.cli.support import find_workspace, run_admin
    from cubby.core import export
    from cubby.core.archive import Archive, ArchiveError

    workspace, src_name = with_workspace(workspace_option, args, ["SRC"])
    src = Path(src_name)
    if src.is_dir():
        fail(f"{src} is a folder; name the .tar file `cubby export` wrote")
    config = settings(data_dir, database_url)
    if files_url:
        config = config.with_overrides(files_url=files_url)

    async def work(services: Any) -> Any:
        ws = await find_workspace(services.meta, workspace)
        try:
            archive = Archive(src)
            try:
                return await export.read_import(
                    config.resolved_database_url, services.blobs, ws.id, archive, cast_mode(mode)
                )
            finally:
                archive.close()
        except ArchiveError as exc:
            fail(str(exc))

    done = run_admin(config, work)
    click.echo(f"imported {sum(done.rows.values())} rows and {done.bodies} bodies ({mode})")
