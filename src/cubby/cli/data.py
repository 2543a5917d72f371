"""``cubby files`` and ``cubby kv``: read and write data on a running server, through the SDK.

They talk HTTP to ``$CUBBY_BASE_URL`` (default ``http://127.0.0.1:8080``) with ``$CUBBY_API_KEY``
like any other client, so they work against a remote server too. The SDK (``cubby_client``,
in ``sdk/python``) is imported only when one of these commands runs: the server itself never
needs it.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import click

from cubby.cli import running
from cubby.command import shell_command

if TYPE_CHECKING:
    from cubby_client import Cubby

__all__ = ["files", "kv"]

F = TypeVar("F", bound=Callable[..., Any])

_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_INSTALL_HINT = "the cubby_client package is not installed; run: pip install ./sdk/python"


_BASE_URL = "cubby.base_url"
_API_KEY = "cubby.api_key"
DEFAULT_BASE_URL = "http://127.0.0.1:8080"


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            ctx.meta[name] = value

    return store


def connection_options(command: F) -> F:
    """``--base-url`` and ``--api-key``, next to their variables, for a command that talks to
    a server (read by :func:`_client`)."""
    command = click.option(
        "--api-key",
        envvar="CUBBY_API_KEY",
        metavar="KEY",
        expose_value=False,
        callback=_remember(_API_KEY),
        help="API key [env CUBBY_API_KEY].",
    )(command)
    return click.option(
        "--base-url",
        envvar="CUBBY_BASE_URL",
        metavar="URL",
        expose_value=False,
        callback=_remember(_BASE_URL),
        help="The server [env CUBBY_BASE_URL; default: the server running on the data dir "
        f"(CUBBY_DATA_DIR or ./.cubby), else {DEFAULT_BASE_URL}].",
    )(command)


def _init_hint() -> str:
    return f'`eval "$({shell_command("init")})"` on the server sets up a workspace and these'


def _connection() -> tuple[str, str]:
    """The base URL and API key of this command (options, variables, the recorded server)."""
    meta = click.get_current_context().meta
    api_key = str(meta.get(_API_KEY) or "").strip()
    if not api_key:
        click.echo(
            "cubby: error: no API key: pass --api-key KEY or set CUBBY_API_KEY; "
            f"{_init_hint()} variables",
            err=True,
        )
        sys.exit(2)
    data_dir = Path(os.environ.get("CUBBY_DATA_DIR") or ".cubby")
    return running.server_url(data_dir, DEFAULT_BASE_URL, meta.get(_BASE_URL)), api_key


@contextmanager
def _client() -> Iterator[Cubby]:
    """A client for this command's server; API errors become one line on stderr and exit 1."""
    try:
        import cubby_client
    except ImportError:
        raise click.ClickException(_INSTALL_HINT) from None
    base_url, api_key = _connection()
    try:
        with cubby_client.Cubby(api_key=api_key, base_url=base_url) as client:
            yield client
    except cubby_client.APIConnectionError as exc:
        click.echo(f"cubby: error: {_unreachable(base_url, exc)}", err=True)
        sys.exit(1)
    except cubby_client.CubbyError as exc:
        click.echo(f"cubby: error: {exc}{_fix_for(exc)}", err=True)
        if exc.details:
            click.echo(f"cubby: details: {json.dumps(exc.details)}", err=True)
        sys.exit(1)


def _unreachable(base_url: str, exc: Exception) -> str:
    import cubby_client

    what = (
        "did not answer in time"
        if isinstance(exc, cubby_client.APITimeoutError)
        else ("cannot be reached")
    )
    reason = str(getattr(exc, "__cause__", None) or exc)
    return (
        f"no cubby server at {base_url}: it {what} ({reason}); start one with "
        f"`{shell_command('serve')}`, or point --base-url / CUBBY_BASE_URL at yours"
    )


def _fix_for(exc: Any) -> str:
    """What to do about the errors a first-time user meets."""
    code = getattr(exc, "code", None)
    if code == "INTEGRATION_NOT_FOUND":
        return (
            "; add it with `cubby integrations add WORKSPACE storage --alias files` "
            f"(or kv-store --alias state), or: {_init_hint()} variables"
        )
    if code == "UNAUTHENTICATED":
        return f"; check --api-key / CUBBY_API_KEY, or: {_init_hint()} variables"
    return ""


def _workspace_id(client: Cubby, workspace: str) -> str:
    """``workspace`` is an id or a slug; slugs are looked up (a page of 100 at a time)."""
    if _UUID.fullmatch(workspace):
        return workspace
    offset = 0
    seen: list[str] = []
    while True:
        page = client.workspaces.list(limit=100, offset=offset)
        for ws in page["workspaces"]:
            if ws["slug"] == workspace:
                return ws["id"]
            seen.append(ws["slug"])
        offset += len(page["workspaces"])
        if not page["workspaces"] or offset >= page["total"]:
            break
    if _restricted(client, workspace):
        reach = ", ".join(seen[:10]) or "no workspace"
        click.echo(
            f"cubby: error: this API key may not use workspace {workspace!r} (the API answers "
            f"403 SCOPE_DENIED); it is restricted to: {reach}. Pass -w with one of those, or "
            "use a key for that workspace (CUBBY_API_KEY); `cubby workspaces ls` on the server "
            "lists them all",
            err=True,
        )
        sys.exit(2)
    click.echo(
        f"cubby: error: no workspace with id or slug {workspace!r}; see "
        f"`cubby workspaces ls`, or: {_init_hint()} variables",
        err=True,
    )
    sys.exit(2)


def _restricted(client: Cubby, workspace: str) -> bool:
    """Whether the API refuses ``workspace`` to this key (403 SCOPE_DENIED) rather than not
    knowing it: a restricted key lists only its own workspaces."""
    import cubby_client

    try:
        client.workspaces.get(workspace)
    except cubby_client.CubbyError as exc:
        return getattr(exc, "code", None) == "SCOPE_DENIED"
    return False


def _target_options(default_alias: str, kind: str) -> Callable[[F], F]:
    """``--workspace``, ``--alias`` and ``--end-user`` on a data command."""

    def decorate(command: F) -> F:
        command = click.option(
            "--end-user",
            "end_user",
            envvar="CUBBY_END_USER",
            default=None,
            metavar="ID",
            help="End user whose data to use (needed when the integration's persistence "
            "scope is end_user) [env CUBBY_END_USER].",
        )(command)
        command = click.option(
            "--alias",
            default=default_alias,
            show_default=True,
            help=f"Alias of the {kind} integration in the workspace.",
        )(command)
        command = click.option(
            "--workspace",
            "-w",
            envvar="CUBBY_WORKSPACE",
            required=True,
            metavar="ID|SLUG",
            help="Workspace id or slug [env CUBBY_WORKSPACE].",
        )(command)
        return connection_options(command)

    return decorate


PROGRESS_MIN_BYTES = 1024 * 1024  # smaller work finishes before a progress line helps
_CHUNK = 256 * 1024


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _shows_progress(size: int | None) -> bool:
    return sys.stderr.isatty() and (size is None or size >= PROGRESS_MIN_BYTES)


def _read_with_progress(source: BinaryIO) -> bytes:
    """All of ``source``; a progress bar on a terminal when it is a large regular file."""
    try:
        size: int | None = os.fstat(source.fileno()).st_size or None
    except (OSError, ValueError, io.UnsupportedOperation):
        size = None
    if size is None or not _shows_progress(size):
        return source.read()
    chunks: list[bytes] = []
    with click.progressbar(length=size, label=f"reading {_mib(size)}", file=sys.stderr) as bar:
        while chunk := source.read(_CHUNK):
            chunks.append(chunk)
            bar.update(len(chunk))
    return b"".join(chunks)


class _Progress:
    """``<label>... 3s`` on stderr while a long call runs (terminal only), then ``done``."""

    def __init__(self, label: str, size: int) -> None:
        self.label = label
        self.active = _shows_progress(size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def _tick(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(0.5):
            click.echo(f"\r{self.label}... {time.monotonic() - start:.0f}s", err=True, nl=False)

    def __enter__(self) -> _Progress:
        if self.active:
            self._started = time.monotonic()
            click.echo(f"{self.label}...", err=True, nl=False)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active:
            self._stop.set()
            self._thread.join()
            took = time.monotonic() - self._started
            click.echo(f"\r{self.label}... done in {took:.1f}s", err=True)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False))


@click.group()
def files() -> None:
    """Files in a workspace's storage integration (server from $CUBBY_BASE_URL, $CUBBY_API_KEY).

    \b
    cubby files put -w acme reports/jan.csv ./jan.csv
    cubby files get -w acme reports/jan.csv > jan.csv
    cubby files ls -w acme reports/
    cubby files mv -w acme reports/jan.csv archive/jan.csv
    cubby files rm -w acme -r archive/
    """


@files.command("put")
@click.argument("path")
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--content-type", default=None, help="MIME type (default: guessed by the server).")
@click.option(
    "--expires-in",
    type=click.IntRange(1, 10 * 365 * 24 * 3600),
    default=None,
    metavar="SECONDS",
    help="Delete the file this many seconds after the write (default: never).",
)
@click.option(
    "--if-match", default=None, metavar="ETAG", help="Only replace the file with this etag."
)
@click.option("--no-clobber", is_flag=True, help="Only write if no file exists at PATH.")
@_target_options("files", "storage")
def files_put(
    path: str,
    source: BinaryIO,
    content_type: str | None,
    expires_in: int | None,
    if_match: str | None,
    no_clobber: bool,
    workspace: str,
    alias: str,
    end_user: str | None,
) -> None:
    """Write SOURCE (a local file, or - for stdin) to PATH; prints the stored file as JSON.

    On a terminal, large files show reading progress and the upload's elapsed time (on
    stderr); piped or redirected, nothing but the JSON answer is printed."""
    data = _read_with_progress(source)
    with _client() as client:
        store = client.storage(_workspace_id(client, workspace), alias, end_user)
        with _Progress(f"uploading {_mib(len(data))}", len(data)):
            written = store.write(
                path,
                data,
                content_type=content_type,
                expires_in=expires_in,
                if_match=if_match,
                if_none_match=no_clobber,
            )
    _echo_json(written)


@files.command("get")
@click.argument("path")
@click.option(
    "--output", "-o", type=click.File("wb"), default="-", help="Write here instead of stdout."
)
@_target_options("files", "storage")
def files_get(
    path: str, output: BinaryIO, workspace: str, alias: str, end_user: str | None
) -> None:
    """Print the bytes of PATH (or write them to --output)."""
    with _client() as client:
        data = client.storage(_workspace_id(client, workspace), alias, end_user).read(path)
    output.write(data)
    output.flush()


def human_size(size: int) -> str:
    """``size`` bytes as ``512 B``, ``1.5 KiB``, ``3.0 MiB`` ... (powers of 1024)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


_bytes_option = click.option(
    "--bytes", "in_bytes", is_flag=True, help="Sizes in bytes (default: KiB, MiB...)."
)


def _size(size: int, in_bytes: bool) -> str:
    return str(size) if in_bytes else human_size(size)


@files.command("ls")
@click.argument("prefix", default="")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_bytes_option
@_target_options("files", "storage")
def files_ls(
    prefix: str, as_json: bool, in_bytes: bool, workspace: str, alias: str, end_user: str | None
) -> None:
    """List files under PREFIX: size, last update and path, sorted by path."""
    with _client() as client:
        store = client.storage(_workspace_id(client, workspace), alias, end_user)
        for info in store.list(prefix):
            if as_json:
                _echo_json(info)
            else:
                size = _size(info["size"], in_bytes)
                click.echo(f"{size:>10}  {info['updatedAt']}  {info['path']}")


@files.command("mv")
@click.argument("source")
@click.argument("target")
@click.option("--overwrite", "-f", is_flag=True, help="Replace a file already at TARGET.")
@_target_options("files", "storage")
def files_mv(
    source: str, target: str, overwrite: bool, workspace: str, alias: str, end_user: str | None
) -> None:
    """Rename SOURCE to TARGET atomically (the content is not copied)."""
    with _client() as client:
        store = client.storage(_workspace_id(client, workspace), alias, end_user)
        moved = store.move(source, target, overwrite=overwrite)
    click.echo(f"moved {moved['from']} -> {moved['to']}")


@files.command("rm")
@click.argument("path")
@click.option(
    "--recursive",
    "-r",
    is_flag=True,
    help="PATH is a folder (ending in '/'): delete every file under it.",
)
@_target_options("files", "storage")
def files_rm(path: str, recursive: bool, workspace: str, alias: str, end_user: str | None) -> None:
    """Delete PATH; exits 1 if there was no such file. With -r, delete the folder PATH/."""
    with _client() as client:
        store = client.storage(_workspace_id(client, workspace), alias, end_user)
        if recursive:
            folder = path if path.endswith("/") else path + "/"
            count = store.delete_folder(folder)
            click.echo(f"deleted {count} file{'' if count == 1 else 's'} under {folder}")
            return
        deleted = store.delete(path)
    if not deleted:
        click.echo(f"cubby: no such file: {path}", err=True)
        sys.exit(1)
    click.echo(f"deleted {path}")


@files.command("url")
@click.argument("path")
@click.option(
    "--expires-in",
    type=click.IntRange(60, 3600),
    default=900,
    show_default=True,
    help="Seconds the URL works.",
)
@_target_options("files", "storage")
def files_url(path: str, expires_in: int, workspace: str, alias: str, end_user: str | None) -> None:
    """Print a download URL for PATH that works without an API key until it expires."""
    with _client() as client:
        store = client.storage(_workspace_id(client, workspace), alias, end_user)
        click.echo(store.download_url(path, expires_in=expires_in))


def _parse_value(value: str, as_string: bool) -> Any:
    """VALUE as JSON when it parses (``42``, ``[1,2]``, ``"x"``), else as a plain string."""
    if as_string:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


_string_option = click.option(
    "--string", "as_string", is_flag=True, help="Store VALUE as a string even if it is JSON."
)


@click.group()
def kv() -> None:
    """Keys in a workspace's kv-store integration (server from $CUBBY_BASE_URL, $CUBBY_API_KEY).

    VALUE arguments are JSON when they parse as JSON (42, true, [1,2], {"a":1}, "quoted"),
    otherwise plain strings.

    \b
    cubby kv put -w acme sync:status in_progress
    cubby kv put -w acme session:abc '{"user": 1}' --expires-in 3600
    cubby kv get -w acme sync:status --raw
    cubby kv ls -w acme sync: --long
    cubby kv incr -w acme visits
    cubby kv append -w acme processed_orders order_123
    """


_kv_expires_option = click.option(
    "--expires-in",
    type=click.IntRange(1, 10 * 365 * 24 * 3600),
    default=None,
    metavar="SECONDS",
    help="Delete the key this many seconds from now (1 to ten years).",
)


@kv.command("ls")
@click.argument("prefix", default="")
@click.option(
    "--long",
    "-l",
    "long",
    is_flag=True,
    help="Also size, kind (value or list of N), version, update and expiry.",
)
@_bytes_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@_target_options("state", "kv-store")
def kv_ls(
    prefix: str,
    long: bool,
    in_bytes: bool,
    as_json: bool,
    workspace: str,
    alias: str,
    end_user: str | None,
) -> None:
    """List the keys starting with PREFIX, in order (UTF-8 byte order)."""
    with _client() as client:
        store = client.kv(_workspace_id(client, workspace), alias, end_user)
        for info in store.keys(prefix):
            if as_json:
                _echo_json(info)
            elif long:
                kind = f"list[{info['length']}]" if info["isList"] else "value"
                size = _size(info["size"], in_bytes)
                click.echo(
                    f"{size:>10}  {kind:<12} v{info['version']:<6} {info['updatedAt']}  "
                    f"{info['expiresAt'] or '-':<24}  {info['key']}"
                )
            else:
                click.echo(info["key"])


@kv.command("incr")
@click.argument("key")
@click.option(
    "--by",
    default="1",
    show_default=True,
    metavar="NUMBER",
    help="The number to add (integer or float; negative subtracts).",
)
@_target_options("state", "kv-store")
def kv_incr(key: str, by: str, workspace: str, alias: str, end_user: str | None) -> None:
    """Add a number to the number at KEY atomically (missing: 0); prints the new value."""
    try:
        amount: int | float = int(by)
    except ValueError:
        try:
            amount = float(by)
        except ValueError:
            raise click.BadParameter(f"{by!r} is not a number", param_hint="--by") from None
    with _client() as client:
        store = client.kv(_workspace_id(client, workspace), alias, end_user)
        _echo_json(store.increment(key, amount))


@kv.command("get")
@click.argument("key")
@click.option("--raw", is_flag=True, help="Print a string value without JSON quotes.")
@_target_options("state", "kv-store")
def kv_get(key: str, raw: bool, workspace: str, alias: str, end_user: str | None) -> None:
    """Print the value at KEY as JSON (null when there is none)."""
    with _client() as client:
        value = client.kv(_workspace_id(client, workspace), alias, end_user).get(key)
    if raw and isinstance(value, str):
        click.echo(value)
    else:
        _echo_json(value)


@kv.command("put")
@click.argument("key")
@click.argument("value")
@_string_option
@_kv_expires_option
@click.option(
    "--if-version",
    type=click.IntRange(0),
    default=None,
    metavar="N",
    help="Write only if KEY is at version N (0: only if it does not exist).",
)
@_target_options("state", "kv-store")
def kv_put(
    key: str,
    value: str,
    as_string: bool,
    expires_in: int | None,
    if_version: int | None,
    workspace: str,
    alias: str,
    end_user: str | None,
) -> None:
    """Set KEY to VALUE (without --expires-in a key never expires); prints the key and its
    new version as JSON."""
    with _client() as client:
        version = client.kv(_workspace_id(client, workspace), alias, end_user).put(
            key, _parse_value(value, as_string), expires_in=expires_in, if_version=if_version
        )
    _echo_json({"key": key, "version": version})


@kv.command("rm")
@click.argument("key")
@_target_options("state", "kv-store")
def kv_rm(key: str, workspace: str, alias: str, end_user: str | None) -> None:
    """Delete KEY; exits 1 if there was no such key."""
    with _client() as client:
        deleted = client.kv(_workspace_id(client, workspace), alias, end_user).delete(key)
    if not deleted:
        click.echo(f"cubby: no such key: {key}", err=True)
        sys.exit(1)
    click.echo(f"deleted {key}")


@kv.command("append")
@click.argument("key")
@click.argument("value")
@_string_option
@_kv_expires_option
@_target_options("state", "kv-store")
def kv_append(
    key: str,
    value: str,
    as_string: bool,
    expires_in: int | None,
    workspace: str,
    alias: str,
    end_user: str | None,
) -> None:
    """Append VALUE to the list at KEY (created if missing); prints the new length."""
    with _client() as client:
        store = client.kv(_workspace_id(client, workspace), alias, end_user)
        click.echo(store.append(key, _parse_value(value, as_string), expires_in=expires_in))


@kv.command("remove")
@click.argument("key")
@click.argument("value")
@_string_option
@_target_options("state", "kv-store")
def kv_remove(
    key: str, value: str, as_string: bool, workspace: str, alias: str, end_user: str | None
) -> None:
    """Remove every element equal to VALUE from the list at KEY; prints how many went."""
    with _client() as client:
        store = client.kv(_workspace_id(client, workspace), alias, end_user)
        click.echo(store.remove(key, _parse_value(value, as_string)))
