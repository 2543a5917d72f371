"""What every ``cubby`` command shares: the one error style, settings, and opening a data dir.

Errors a user can fix are one line on stderr, ``cubby: error: <what> ; <the fix>``, exit 2, and
never a traceback. A *data dir* is a folder cubby made: it holds the marker file
:data:`MARKER` (or, from before the marker, ``cubby.db``). ``serve`` and ``init`` make one in a
missing or empty folder; every command refuses a folder that is not one, so a command run in
the wrong place says so instead of quietly starting a new, empty installation there.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
import msgspec

from cubby.backends.config_error import BackendConfigError
from cubby.private_files import private_dir, restrict_umask
from cubby.settings import Settings, SettingsError

if TYPE_CHECKING:
    from cubby.auth import Principal
    from cubby.backends.base import MetaStore
    from cubby.core.models import Workspace
    from cubby.errors import CubbyError
    from cubby.services import Services

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

MARKER = ".cubby-data-dir"
_MARKER_TEXT = "This folder is a cubby data dir (database, file bodies, server secret).\n"


def fail(message: str) -> NoReturn:
    click.echo(f"cubby: error: {message}", err=True)
    sys.exit(2)


def settings(data_dir: Path | None = None, database_url: str | None = None) -> Settings:
    env = dict(os.environ)
    if data_dir is not None:
        env["CUBBY_DATA_DIR"] = str(data_dir)
    if database_url:
        env["CUBBY_DATABASE_URL"] = database_url
    try:
        return Settings.from_env(env)
    except SettingsError as exc:
        fail(str(exc))


def is_data_dir(folder: Path) -> bool:
    return (folder / MARKER).is_file() or (folder / "cubby.db").is_file()


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def ensure_data_dir(folder: Path, create: bool = False, adopt: bool = False) -> None:
    """Check ``folder`` as a usable data dir, or fail with the fix. ``create``: make it when
    it is missing or empty (``serve``, ``init``); ``adopt``: make any folder one
    (``--create-data-dir``)."""
    shown = folder.resolve() if folder.exists() else folder.absolute()
    restrict_umask()  # before the first file of the data dir is made
    if not folder.exists():
        if not (create or adopt):
            fail(
                f"no cubby data dir at {shown}; run this where `cubby serve` ran, pass "
                "--data-dir (or CUBBY_DATA_DIR), or add --create-data-dir to make one"
            )
        try:
            folder.mkdir(parents=True)
        except OSError as exc:
            fail(
                f"cannot create the data dir {shown}: {_reason(exc)}; "
                "pass --data-dir with a folder you can write"
            )
    elif not folder.is_dir():
        fail(f"the data dir {shown} is a file, not a folder; pass --data-dir with a folder")
    elif not is_data_dir(folder) and not adopt and not (create and not any(folder.iterdir())):
        fail(
            f"{shown} is not a cubby data dir (no {MARKER}); pass --data-dir with the right "
            "folder, or add --create-data-dir to make this one a data dir"
        )
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
        if not (folder / MARKER).exists():
            (folder / MARKER).write_text(_MARKER_TEXT)
        private_dir(folder)
    except OSError as exc:
        fail(
            f"the data dir {shown} is not writable: {_reason(exc)}; fix its permissions or "
            "pass --data-dir with a folder you can write"
        )


def open_meta(config: Settings, create: bool = False, adopt: bool = False) -> Any:
    """The metadata store of ``config``; the data dir is checked first when it holds it."""
    from cubby.backends.url import open_meta_store

    if not config.database_url:
        ensure_data_dir(config.data_dir, create, adopt)
    try:
        return open_meta_store(config.resolved_database_url)
    except BackendConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open the database {config.resolved_database_url}: {_reason(exc)}")


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CUBBY_DATA_DIR",
    default=None,
    help="Folder for the SQLite database, file bodies and the server secret "
    "[env CUBBY_DATA_DIR; default ./.cubby].",
)
database_option = click.option(
    "--database-url",
    envvar="CUBBY_DATABASE_URL",
    default=None,
    help="Metadata database: sqlite:///path or postgresql://user@host:port/db "
    "[env CUBBY_DATABASE_URL; default: a SQLite file in the data dir].",
)
create_data_dir_option = click.option(
    "--create-data-dir",
    "adopt",
    is_flag=True,
    help="Make the data dir if it is missing, or make a folder that is not one a data dir.",
)


def run_admin(
    config: Settings,
    work: Callable[[Services], Awaitable[T]],
    create: bool = False,
    adopt: bool = False,
) -> T:
    """Run ``work`` with the server's own services (database and blob store of ``config``),
    as the operator: cubby errors become one ``cubby: error:`` line."""
    from cubby.errors import CubbyError
    from cubby.wiring import build_services

    if not config.database_url:
        ensure_data_dir(config.data_dir, create, adopt)
    try:
        services = build_services(config)
    except BackendConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open the data dir or database: {_reason(exc)}")

    async def main() -> T:
        await services.meta.start()
        try:
            return await work(services)
        finally:
            await services.meta.stop()

    try:
        return asyncio.run(main())
    except CubbyError as exc:
        fail(_with_details(exc))
    finally:
        services.close()


def _with_details(exc: CubbyError) -> str:
    field = (exc.details or {}).get("field")
    return f"{exc.message} ({field})" if field and field not in exc.message else exc.message


def operator() -> Principal:
    """The person at the server's console: organisation-wide, like the first API key."""
    from cubby.auth import Principal
    from cubby.core.models import ApiKey

    key = ApiKey(
        id="cli",
        org_id="",
        name="cli",
        key_prefix="",
        permissions=None,
        last_used_at=None,
        expires_at=None,
        created_at="",
    )
    return Principal(key)


def workspace_option(envvar: str | None) -> Callable[[F], F]:
    """``-w/--workspace ID|SLUG`` (into ``workspace_option``), read from ``envvar`` too; pair
    it with an ``args`` argument (``nargs=-1``) and :func:`with_workspace`."""
    return click.option(
        "--workspace",
        "-w",
        "workspace_option",
        envvar=envvar,
        default=None,
        metavar="ID|SLUG",
        help="The workspace, id or slug"
        + (f" [env {envvar}]" if envvar else "")
        + "; a first WORKSPACE argument (the older form) works too.",
    )


def with_workspace(given: str | None, args: tuple[str, ...], names: list[str]) -> list[str]:
    """``-w WORKSPACE NAMES...`` or the older ``WORKSPACE NAMES...``: the workspace first."""
    if len(args) == len(names) + 1:
        return list(args)
    if len(args) == len(names) and given:
        return [given, *args]
    usage = " ".join(names)
    raise click.UsageError(
        f"expected -w WORKSPACE {usage} (or WORKSPACE {usage}); got {len(args)} argument(s)"
    )


async def find_workspace(meta: MetaStore, ref: str) -> Workspace:
    """A workspace by id or slug, or fail naming `cubby workspaces ls`."""
    from cubby.core.models import is_uuid

    if is_uuid(ref):
        ws = await meta.workspaces.get(ref)
        if ws is not None:
            return ws
    offset = 0
    while True:
        page, total = await meta.workspaces.page(100, offset, None)
        for ws in page:
            if ws.slug == ref:
                return ws
        offset += len(page)
        if not page or offset >= total:
            fail(f"no workspace with id or slug {ref!r}; see `cubby workspaces ls`")


def echo_json(value: Any) -> None:
    """One record as one line of JSON (the ``--json`` output of the admin commands)."""
    click.echo(msgspec.json.encode(value).decode())
