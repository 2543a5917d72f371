"""Backend combinations for the conformance suite.

Tests marked ``conformance`` run once per combination of metadata database and file store:
``sqlite+file``, ``sqlite+s3``, ``postgres+file`` and ``postgres+s3``. Those also marked
``metadata_only`` run on the ``+file`` ones and on ``pgbouncer+file``: the same PostgreSQL
reached through PgBouncer in transaction mode (issue 26), cubby's URL with
``prepared_statements=false``.

- PostgreSQL: ``CUBBY_TEST_POSTGRES_URL`` names a server and a database to connect to for
  admin work; unset, the default local URL (``postgresql://postgres@127.0.0.1:5432/postgres``)
  is used whenever a server answers there. The run creates its own database (random name,
  dropped at the end); each test gets a fresh schema in it (``?search_path=...`` in the URL),
  dropped after the test.
- PgBouncer: Debian's ``pgbouncer``, started once per run as user ``postgres`` (it refuses root)
  on a free loopback port, ``pool_mode = transaction``, config in a temp dir. Each test's schema
  gets its own pooler database alias whose ``connect_query`` sets the ``search_path`` (a
  transaction pooler cannot pass ``?search_path=`` through: it is a session setting).
- S3: moto's standalone server, started once per run on a free loopback port as a subprocess;
  each test gets a fresh bucket, emptied and deleted after the test. Dummy AWS credentials are
  put in the environment so nothing ever looks for real ones.

A combination whose service is missing is skipped with the reason, or fails when
``CUBBY_TEST_REQUIRE_ALL=1`` (CI sets it).

``settings_for(combo, tmp_path)`` provisions and returns Settings; what it creates is cleaned
up when the current test ends (conftest opens a :func:`test_scope` around every test).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
import msgspec
import pytest

from cubby.backends.base import MetaStore
from cubby.core.kv_values import ListItem, list_item
from cubby.core.models import Workspace, new_id, utc_now
from cubby.core.scopes import Namespace
from cubby.settings import Settings
from tests.helpers import free_port

DEFAULT_COMBO = "sqlite+file"
COMBOS = ("sqlite+file", "sqlite+s3", "postgres+file", "postgres+s3", "pgbouncer+file")
POOLER_COMBO = "pgbouncer+file"  # metadata_only conformance tests, and tests that ask for it
POSTGRES_ENV = "CUBBY_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REQUIRE_ALL_ENV = "CUBBY_TEST_REQUIRE_ALL"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "cubby-test",
    "AWS_SECRET_ACCESS_KEY": "cubby-test-secret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def enabled_combos() -> list[str]:
    """Every combination of the full conformance runs (all but the pooler's); one whose service
    is missing skips (or fails) in settings_for."""
    return [combo for combo in COMBOS if combo != POOLER_COMBO]


def require_all() -> bool:
    return os.environ.get(REQUIRE_ALL_ENV, "") not in ("", "0")


def unavailable(reason: str) -> NoReturn:
    if require_all():
        pytest.fail(f"{reason} ({REQUIRE_ALL_ENV}=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


# -- cleanup scopes -------------------------------------------------------------------------
_session_stack = contextlib.ExitStack()
_test_stacks: list[contextlib.ExitStack] = []


def on_cleanup(fn: Callable[[], Any]) -> None:
    """Run ``fn`` when the current test ends (or at session end outside a test)."""
    stack = _test_stacks[-1] if _test_stacks else _session_stack
    stack.callback(fn)


@contextlib.contextmanager
def test_scope() -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        _test_stacks.append(stack)
        try:
            yield
        finally:
            _test_stacks.pop()


def shutdown() -> None:
    """End of session: drop the run's database, stop the S3 server."""
    _session_stack.close()


# -- PostgreSQL ------------------------------------------------------------------------------
def _run(coro_fn: Callable[[], Any]) -> Any:
    async def main() -> Any:
        return await coro_fn()

    return asyncio.run(main())


def _with_db(url: str, database: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, query, ""))


class PostgresRun:
    """A database of this test run; tests get schemas in it."""

    def __init__(self, admin_url: str) -> None:
        import asyncpg

        self._asyncpg = asyncpg
        self.admin_url = admin_url
        self.database = f"cubby_test_{secrets.token_hex(4)}"
        self._clean: list[str] = []
        _run(lambda: self._admin(f'CREATE DATABASE "{self.database}"'))
        _session_stack.callback(self._drop_database)

    async def _admin(self, sql: str, url: str | None = None) -> None:
        conn = await self._asyncpg.connect(url or self.admin_url, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def _drop_database(self) -> None:
        _run(lambda: self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))

    def new_schema(self, fresh: bool = False) -> str:
        """A cubby database URL on an empty schema, for the current test.

        Migrating a schema costs more than the average test, so after a test its schema's tables
        (all but schema_migrations) are emptied and the schema goes to the next test;
        ``fresh`` asks for a brand-new, unmigrated one (dropped after the test instead).
        """
        db_url = _with_db(self.admin_url, self.database)
        if self._clean and not fresh:
            schema = self._clean.pop()
        else:
            schema = f"t_{secrets.token_hex(6)}"
            _run(lambda: self._admin(f'CREATE SCHEMA "{schema}"', db_url))
        on_cleanup(lambda: self._recycle(schema, db_url, reuse=not fresh))
        return _with_db(self.admin_url, self.database, f"search_path={schema}")

    def _recycle(self, schema: str, db_url: str, reuse: bool) -> None:
        async def empty() -> bool:
            conn = await self._asyncpg.connect(db_url, timeout=10)
            try:
                await conn.execute("SET lock_timeout = '10s'")
                # the usage triggers (migrations/0018) name their tables unqualified
                await conn.execute(f'SET search_path = "{schema}"')
                tables = [
                    f'"{schema}"."{r[0]}"'
                    for r in await conn.fetch(
                        "SELECT tablename FROM pg_tables WHERE schemaname = $1 "
                        "AND tablename <> 'schema_migrations'",
                        schema,
                    )
                ]
                migrated = await conn.fetchval(
                    "SELECT to_regclass($1) IS NOT NULL", f'"{schema}".schema_migrations'
                )
                if reuse and migrated:
                    await conn.execute("".join(f"DELETE FROM {t};" for t in tables))
                    return True
                await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                return False
            finally:
                await conn.close()

        if _run(empty):
            self._clean.append(schema)


_postgres: PostgresRun | None = None
_postgres_error: str | None = None


def postgres() -> PostgresRun:
    """The run's PostgreSQL: at ``CUBBY_TEST_POSTGRES_URL``, else at the default local URL
    whenever a server answers there (so ``make test`` runs these tests on a machine that has
    PostgreSQL without any setting)."""
    global _postgres, _postgres_error
    if _postgres is None and _postgres_error is None:
        url = os.environ.get(POSTGRES_ENV, "")
        try:
            _postgres = PostgresRun(url or DEFAULT_POSTGRES_URL)
        except ImportError:
            _postgres_error = "asyncpg is not installed (pip install -e '.[dev]')"
        except Exception as exc:
            if url:
                _postgres_error = f"cannot use PostgreSQL at {POSTGRES_ENV}: {exc}"
            else:
                _postgres_error = (
                    f"no PostgreSQL server answers at {DEFAULT_POSTGRES_URL} (start one there, "
                    f"or set {POSTGRES_ENV})"
                )
    if _postgres is None:
        unavailable(_postgres_error or "PostgreSQL unavailable")
    return _postgres


def postgres_url(fresh: bool = False) -> str:
    """An empty PostgreSQL database (a schema) for the current test; see new_schema."""
    return postgres().new_schema(fresh)


# -- PgBouncer (transaction mode) -----------------------------------------------------------------
class PgBouncer:
    """Debian's pgbouncer in front of the run's PostgreSQL, as user postgres, in a temp dir."""

    BINARY = "/usr/sbin/pgbouncer"

    def __init__(self, run: PostgresRun) -> None:
        import pwd

        self.run = run
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="cubby-pgbouncer-"))
        self._aliases: dict[str, str] = {}  # schema -> pooler database alias
        target = urlsplit(run.admin_url)
        self._server = f"host={target.hostname or '127.0.0.1'} port={target.port or 5432}"
        self._user = target.username or "postgres"
        (self.dir / "users.txt").write_text(f'"{self._user}" ""\n')
        self._write_config()
        owner = pwd.getpwnam("postgres")
        os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        for child in self.dir.iterdir():
            os.chown(child, owner.pw_uid, owner.pw_gid)
        command = [self.BINARY, str(self.dir / "pgbouncer.ini")]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        self._log = open(self.dir / "stdout.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        _session_stack.callback(self.stop)
        self._wait_ready("probe")

    def _write_config(self) -> None:
        lines = ["[databases]"]
        for schema, alias in self._aliases.items():
            lines.append(
                f"{alias} = {self._server} dbname={self.run.database} user={self._user} "
                f"connect_query='SET search_path = {schema}'"
            )
        lines.append(f"probe = {self._server} dbname={self.run.database} user={self._user}")
        lines += [
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {self.dir / 'users.txt'}",
            "pool_mode = transaction",
            "max_client_conn = 1000",
            "default_pool_size = 20",
            f"logfile = {self.dir / 'pgbouncer.log'}",
            f"pidfile = {self.dir / 'pgbouncer.pid'}",
            f"admin_users = {self._user}",
        ]
        path = self.dir / "pgbouncer.ini"
        path.write_text("\n".join(lines) + "\n")
        if path.stat().st_uid == 0 and os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam("postgres")
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def _url(self, alias: str) -> str:
        return f"postgresql://{self._user}@127.0.0.1:{self.port}/{alias}"

    def _wait_ready(self, alias: str) -> None:
        import asyncpg

        async def probe() -> None:
            conn = await asyncpg.connect(self._url(alias), timeout=2, statement_cache_size=0)
            await conn.close()

        deadline = time.monotonic() + 20
        while True:
            try:
                _run(probe)
                return
            except Exception as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = "".join(
                        (self.dir / name).read_text(errors="replace")[-2000:]
                        for name in ("stdout.log", "pgbouncer.log")
                        if (self.dir / name).exists()
                    )
                    raise RuntimeError(f"pgbouncer not ready ({exc}): {log}") from None
                time.sleep(0.1)

    def url_for(self, postgres_url: str) -> str:
        """The pooler's cubby URL for a test schema URL (``...?search_path=SCHEMA``)."""
        schema = dict(parse_qsl(urlsplit(postgres_url).query))["search_path"]
        alias = self._aliases.get(schema)
        if alias is None:
            alias = self._aliases[schema] = f"c_{schema}"
            self._write_config()
            pid = int((self.dir / "pgbouncer.pid").read_text().strip())
            os.kill(pid, signal.SIGHUP)  # reload: the new alias
            self._wait_ready(alias)
        return self._url(alias) + "?prepared_statements=false"

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            pid = int((self.dir / "pgbouncer.pid").read_text().strip())
            os.kill(pid, signal.SIGTERM)
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


_pgbouncer: PgBouncer | None = None
_pgbouncer_error: str | None = None


def pgbouncer_url() -> str:
    """An empty schema of the run's PostgreSQL, reached through PgBouncer (transaction mode)."""
    global _pgbouncer, _pgbouncer_error
    direct = postgres_url()
    if _pgbouncer is None and _pgbouncer_error is None:
        if not os.path.exists(PgBouncer.BINARY):
            _pgbouncer_error = "pgbouncer is not installed (apt-get install pgbouncer)"
        else:
            try:
                _pgbouncer = PgBouncer(postgres())
            except Exception as exc:
                _pgbouncer_error = f"cannot start pgbouncer: {exc}"
    if _pgbouncer is None:
        unavailable(_pgbouncer_error or "pgbouncer unavailable")
    return _pgbouncer.url_for(direct)


# -- S3 (moto) ----------------------------------------------------------------------------------
class MotoServer:
    """moto's standalone S3 server as a subprocess on a free loopback port."""

    def __init__(self, log_dir: Path) -> None:
        import boto3  # type: ignore[import-untyped]

        os.environ.update(S3_ENV)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = open(log_dir / "moto.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **S3_ENV},
        )
        _session_stack.callback(self.stop)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.endpoint + "/moto-api/", timeout=1)
                break
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "moto server did not start: " + (log_dir / "moto.log").read_text()
                    ) from None
                time.sleep(0.1)
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=S3_ENV["AWS_REGION"],
            aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def new_bucket(self) -> str:
        """A fresh bucket; returns its cubby files URL. Emptied and deleted after the test."""
        bucket = f"cubby-test-{secrets.token_hex(6)}"
        self.client.create_bucket(Bucket=bucket)
        on_cleanup(lambda: self.drop_bucket(bucket))
        return f"s3://{bucket}/files?endpoint={self.endpoint}&region={S3_ENV['AWS_REGION']}"

    def drop_bucket(self, bucket: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": objects})
        self.client.delete_bucket(Bucket=bucket)


_moto: MotoServer | None = None
_moto_error: str | None = None


def moto(log_dir: Path | None = None) -> MotoServer:
    global _moto, _moto_error
    if _moto is None and _moto_error is None:
        try:
            import moto.server  # noqa: F401

            folder = log_dir or Path(tempfile.gettempdir())
            _moto = MotoServer(folder)
        except ImportError:
            _moto_error = "moto[server] is not installed (pip install -e '.[dev]')"
        except Exception as exc:
            _moto_error = f"cannot start moto's S3 server: {exc}"
    if _moto is None:
        unavailable(_moto_error or "S3 (moto) unavailable")
    return _moto


def s3_url() -> str:
    """A fresh bucket on the run's moto server, as a CUBBY_FILES_URL."""
    return moto().new_bucket()


# -- combinations ---------------------------------------------------------------------------
def settings_for(combo: str, tmp_path: Path) -> Settings:
    if combo not in COMBOS:
        raise ValueError(f"unknown backend combination {combo!r}")
    database, files = combo.split("+")
    database_url = {"postgres": postgres_url, "pgbouncer": pgbouncer_url}.get(
        database, lambda: ""
    )()
    files_url = s3_url() if files == "s3" else ""
    return Settings(data_dir=tmp_path / "data", database_url=database_url, files_url=files_url)


def server_env(settings: Settings) -> dict[str, str]:
    """Environment for a `cubby serve` subprocess on the same backends as ``settings``."""
    env = {"CUBBY_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["CUBBY_DATABASE_URL"] = settings.database_url
    if settings.files_url:
        env["CUBBY_FILES_URL"] = settings.files_url
        env.update(S3_ENV)
    return env


async def new_namespace(meta: MetaStore) -> Namespace:
    """A fresh workspace in ``meta`` and its workspace-scope namespace (backend-level tests)."""
    now = utc_now()
    ws = Workspace(
        id=new_id(), org_id=meta.org_id, name="W", slug=f"w-{new_id()[:8]}",
        created_at=now, updated_at=now,
    )  # fmt: skip
    await meta.workspaces.create(ws)
    return Namespace(ws.id, "w")


def item(value: Any) -> ListItem:
    """A list item as the KV action makes it from a JSON value."""
    return list_item(msgspec.json.encode(value))
