"""Fixtures. `api` is an in-process client on a fresh data dir.

Tests (or modules, via ``pytestmark``) marked ``conformance`` run once per backend combination
(tests/backends.py); all others run on the embedded default. Those also marked
``metadata_only`` (they never touch a file body) run once per metadata database, on its
``+file`` combination (the ``+s3`` run would repeat them exactly), PgBouncer's included. The
run ends with one line of conformance counts per combination.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.backends.url import open_meta_store
from cubby.core import keys
from cubby.services import Services
from cubby.settings import Settings
from cubby.wiring import build_services
from tests import backends
from tests.backends import COMBOS, DEFAULT_COMBO, enabled_combos, settings_for, unavailable
from tests.helpers import Api, LiveServer, live_server


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("conformance"):
        combos = enabled_combos()
        if metafunc.definition.get_closest_marker("metadata_only"):  # and through PgBouncer
            combos = [combo for combo in COMBOS if combo.endswith("+file")]
        metafunc.parametrize("backend", combos, indirect=True)


@pytest.fixture(scope="session", autouse=True)
def _backend_run() -> Iterator[None]:
    """The run's PostgreSQL database and S3 server (started on first use) go at the end."""
    yield
    backends.shutdown()


@pytest.fixture(autouse=True)
def _backend_test_scope() -> Iterator[None]:
    """Schemas and buckets a test provisioned are dropped after everything else it used."""
    with backends.test_scope():
        yield


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", DEFAULT_COMBO))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file with every migration applied, made once per test process."""
    path = tmp_path_factory.mktemp("migrated-sqlite") / "cubby.db"
    open_meta_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def settings(backend: str, tmp_path: Path, migrated_sqlite: Path) -> Settings:
    config = settings_for(backend, tmp_path)
    if not config.database_url:
        # A copy of the migrated file instead of migrating a new one: a third of a test's
        # setup time (0.28 -> 0.05 s per build_services here); the migrations themselves are
        # tested where a data dir is made from nothing (the CLI and server tests).
        config.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_sqlite, config.data_dir / "cubby.db")
    return config


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = build_services(settings)
    yield services
    services.close()


@pytest.fixture
def org_key(services: Services) -> str:
    _, plain = asyncio.run(keys.create_key(services.meta, "tests", None, None))
    return plain


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    app = create_app(settings, services)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


@pytest.fixture
def api(client: TestClient, org_key: str) -> Api:
    return Api(client, org_key)


_PARAMS = re.compile(r"\[(.*)\]$")


def _combo_of(nodeid: str) -> str | None:
    match = _PARAMS.search(nodeid)
    if match is None:
        return None
    return next((part for part in match.group(1).split("-") if part in COMBOS), None)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per distinct skip reason with its count (pytest's own ``-rs`` lists every
    test), then ``conformance: sqlite+file 40 passed, postgres+s3 40 passed, ...`` (xdist-safe:
    it reads the combination from the test id)."""
    reasons = Counter(_skip_reason(r) for r in terminalreporter.stats.get("skipped", []))
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"skipped {count}: {reason}")
    counts: dict[str, Counter[str]] = {combo: Counter() for combo in COMBOS}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if "conformance" not in getattr(report, "keywords", {}):
                continue
            combo = _combo_of(getattr(report, "nodeid", ""))
            if combo is not None:
                counts[combo][outcome] += 1
    if not any(counts.values()):
        return
    parts = []
    for combo, count in counts.items():
        shown = [f"{count[o]} {o}" for o in ("passed", "failed", "error", "skipped") if count[o]]
        parts.append(f"{combo} {', '.join(shown) or 'none run'}")
    terminalreporter.write_line("conformance: " + "; ".join(parts))


# -- the dashboard's browser modules share one server per test process ----------------------
@pytest.fixture(scope="session")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The `cubby serve` of every browser module (test_dashboard_*_browser.py import ``server``
    from test_dashboard_browser, which returns this); their workspaces have distinct slugs."""
    from tests.test_dashboard_browser import MAX_FILE_BYTES

    env = {"CUBBY_STORAGE_MAX_FILE_BYTES": str(MAX_FILE_BYTES)}
    with live_server(tmp_path_factory.mktemp("dashboard"), env=env) as live:
        yield live


@pytest.fixture
def dashboard_browser() -> Iterator[Any]:
    """A headless Chromium per test; skips (or fails in CI) without it.

    Not shared across tests: while Playwright's sync API is open it leaves its event loop
    marked as running in this thread, so every later ``asyncio.run`` of the same test process
    (fixtures, backends) would fail with "cannot be called from a running event loop"."""
    from tests.test_dashboard_browser import CHROMIUM, FLAGS, SHOTS, sync_playwright

    if sync_playwright is None:
        unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield launched
        launched.close()
