"""SQLite access for an asyncio server.

Reads run inline on the event loop thread: in WAL mode a read never waits for a writer and a
point query costs microseconds, far less than a thread hop. Writes go to one writer thread that
batches whatever is queued into a single transaction (group commit): each job runs inside its own
SAVEPOINT, so one failing job rolls back only itself, and every job's future resolves only after
the shared COMMIT is durable (``synchronous=FULL``). Several processes may share the file; the
writer waits for the file lock (``busy_timeout``) on its own thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from cubby import metrics
from cubby.backends.sqlite import quota
from cubby.backends.sqlite.list_rehash import rehash_list_items
from cubby.private_files import private_file, restrict_umask

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
MAX_BATCH = 256
# A job that writes this many rows or more (a big list put) is heavy: it commits in a
# transaction of its own, and the writer alternates between a batch of the light jobs queued
# and one heavy job, so one tenant's big writes hold another's small write for at most about
# one heavy job, never for a queue of them (issue 16, item 9).
HEAVY_WEIGHT = 64


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    quota.register(conn)  # the usage triggers' refusal (migrations/0018)
    return conn


# Migrations whose work is code (what SQLite's SQL cannot compute), run in the migration's
# transaction right after its file.
MIGRATION_STEPS: dict[int, Callable[[sqlite3.Connection], object]] = {22: rehash_list_items}


def apply_migrations(conn: sqlite3.Connection) -> list[int]:
    """Apply pending ``migrations/NNNN_name.sql`` files in order; safe to race other processes."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    done: list[int] = []
    folder = resources.files("cubby.backends.sqlite") / "migrations"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        version = int(entry.name.split("_", 1)[0])
        if version in applied:
            continue
        sql = entry.read_text(encoding="utf-8")
        # The version row goes in first: a process racing us fails on its primary key and
        # rolls back the whole script, so each migration runs exactly once.
        script = (
            "BEGIN IMMEDIATE;\n"
            f"INSERT INTO schema_migrations (version, name) VALUES ({version}, '{entry.name}');\n"
            f"{sql}\n"
        )
        try:
            conn.executescript(script)  # leaves its transaction open for the step and COMMIT
            step = MIGRATION_STEPS.get(version)
            if step is not None:
                step(conn)
            conn.execute("COMMIT")
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK") if conn.in_transaction else None
            continue
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        done.append(version)
    return done


# Set by an exactly-once execute (idempotency.py): its writes join that one open transaction.
write_session: ContextVar[Any] = ContextVar("cubby_sqlite_write_session", default=None)


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[Any] | None
    done: threading.Event | None = None
    result: Any = None
    error: BaseException | None = None
    weight: int = 1  # about how many rows the job writes (see HEAVY_WEIGHT)


class SqliteDatabase:
    """One SQLite file: an inline read connection plus a group-committing writer thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        restrict_umask()  # the database, its WAL and SHM files: 0600
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-writelock"):
            private_file(Path(f"{path}{suffix}"), "database file")
        migrate_conn = connect(path)
        try:
            apply_migrations(migrate_conn)
        finally:
            migrate_conn.close()
        self._reader = connect(path)
        self._writer_conn = connect(path)
        self._write_lock = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT, 0o600)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._writer_loop, name="cubby-sqlite-writer")
        self._thread.daemon = True
        self._thread.start()
        self._closed = False

    # -- reads --------------------------------------------------------------------------
    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the read connection, on the calling thread (the event loop)."""
        return fn(self._reader)

    def read_snapshot(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Like :meth:`read`, inside one read transaction so several queries agree."""
        conn = self._reader
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")

    # -- writes -------------------------------------------------------------------------
    async def write(self, fn: Callable[[sqlite3.Connection], T], weight: int = 1) -> T:
        """Run ``fn`` in the writer thread; resolves after its transaction has committed
        (inside an idempotency session: in that session's transaction, see idempotency.py).
        ``weight``: about how many rows ``fn`` writes (heavy jobs are scheduled apart)."""
        self._check_open()
        fn = quota.translated(fn)
        session = write_session.get()
        if session is not None and session.db is self:
            return await session.write(fn)  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(fn, loop, future, weight=weight))
        return await future

    def submit(self, job: _Job) -> None:
        """Queue a prepared job (idempotency.py's session job)."""
        self._check_open()
        self._jobs.put(job)

    def write_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Blocking twin of :meth:`write` for the CLI and start-up code."""
        self._check_open()
        job = _Job(quota.translated(fn), None, None, done=threading.Event())
        self._jobs.put(job)
        assert job.done is not None
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    def _check_open(self) -> None:
        # After close() the writer thread is gone: a queued job would wait forever.
        if self._closed:
            raise RuntimeError(f"the SQLite database {self.path} is closed")

    def _writer_loop(self) -> None:
        conn = self._writer_conn
        pending: list[_Job] = []  # taken from the queue, not run yet, in arrival order
        stop = False
        heavy_turn = False
        while True:
            if not pending and not stop:
                first = self._jobs.get()
                if first is None:
                    break
                pending.append(first)
            while not stop:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                else:
                    pending.append(nxt)
            if not pending:
                break
            batch, pending, heavy_turn = _next_batch(pending, heavy_turn)
            metrics.WRITER_BATCH.observe(len(batch))
            metrics.WRITER_QUEUE.set(len(batch) + len(pending) + self._jobs.qsize())
            self._run_batch(conn, batch)
            metrics.WRITER_QUEUE.set(len(pending) + self._jobs.qsize())
        conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        # Writers of other processes queue on an OS file lock, which wakes the next one the
        # moment it is released; SQLite's own busy handler polls with sleeps of up to 100 ms,
        # which gave multi-worker writes p99 latencies of over half a second.
        fcntl.flock(self._write_lock, fcntl.LOCK_EX)
        try:
            self._run_locked(conn, batch)
        finally:
            fcntl.flock(self._write_lock, fcntl.LOCK_UN)
        for job in batch:
            self._finish(job)

    def _run_locked(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT job")
                try:
                    job.result = job.fn(conn)
                except BaseException as exc:  # the job's own failure, reported to its caller
                    job.error = exc
                    conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except BaseException as exc:  # the transaction itself failed: nothing was committed
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in batch:
                job.error = exc
                job.result = None

    @staticmethod
    def _finish(job: _Job) -> None:
        if job.done is not None:
            job.done.set()
            return
        assert job.loop is not None and job.future is not None
        future = job.future
        try:
            if job.error is not None:
                job.loop.call_soon_threadsafe(_set_exception, future, job.error)
            else:
                job.loop.call_soon_threadsafe(_set_result, future, job.result)
        except RuntimeError:  # the caller's loop is closed: nobody is waiting any more
            pass

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._thread.join(timeout=30)
        self._reader.close()
        os.close(self._write_lock)


def _next_batch(pending: list[_Job], heavy_turn: bool) -> tuple[list[_Job], list[_Job], bool]:
    """(the jobs to commit together, the rest in order, whether a heavy job goes next): light
    jobs in one batch (up to MAX_BATCH), or one heavy job on its own; after a light batch a
    waiting heavy job has its turn, so neither kind can starve the other."""
    heavy = next((j for j in pending if j.weight >= HEAVY_WEIGHT), None)
    if heavy is not None and (heavy_turn or all(j.weight >= HEAVY_WEIGHT for j in pending)):
        return [heavy], [j for j in pending if j is not heavy], False
    batch: list[_Job] = []
    rest: list[_Job] = []
    for job in pending:
        (batch if job.weight < HEAVY_WEIGHT and len(batch) < MAX_BATCH else rest).append(job)
    return batch, rest, heavy is not None


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


WriteJob = _Job
set_future_result = _set_result
set_future_exception = _set_exception
