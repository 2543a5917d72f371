"""Data files are private to the account cubby runs as (issue 16: they were world-readable).

Every process that opens a data dir first sets its umask to 077 (as PostgreSQL does), so each
file it creates (the SQLite database with its WAL and SHM files, file bodies, the secret) is
0600 and each folder 0700, whatever umask it was started with: SQLite, obstore and Python
create files in several places, and the umask is the one rule all of them follow. A data dir
(or files folder) that already exists with a looser mode is tightened at start, with a warning,
and so are the database files inside it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("cubby")

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def restrict_umask() -> None:
    """New files 0600, new folders 0700, from here on (process-wide)."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path, what: str = "data dir") -> None:
    """Make ``path`` (mode 0700) or tighten an existing one that others can enter."""
    restrict_umask()
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE, what)


def private_file(path: Path, what: str = "data file") -> None:
    """Tighten an existing file that others can read (a missing one is left alone)."""
    _tighten(path, FILE_MODE, what)


def _tighten(path: Path, mode: int, what: str) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & 0o077 == 0:
        return
    try:
        os.chmod(path, mode)
    except OSError as exc:
        log.warning(
            "the %s %s is open to other users (mode %o) and could not be made %o: %s",
            what,
            path,
            current,
            mode,
            exc.strerror or exc,
        )
        return
    log.warning(
        "the %s %s was open to other users (mode %o); changed it to %o", what, path, current, mode
    )
