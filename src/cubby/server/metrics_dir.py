"""The folder several worker processes keep their Prometheus values in.

``cubby serve --workers N`` makes a fresh ``cubby-metrics-*`` folder in the temp dir and
removes it when it stops; a server killed with ``kill -9`` (or a lost machine's power) never
gets to, and each such run left one behind (issue 28, item 8). So each folder records the
serving process's id in :data:`OWNER_FILE`, and a start removes the folders whose owner is no
longer running. Folders of a live server, of another user, or without an owner file (made by an
older cubby, which cannot be told apart from a live one) are left alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger("cubby")

PREFIX = "cubby-metrics-"
OWNER_FILE = "owner.pid"


def fresh(temp_dir: str | None = None) -> str:
    """Remove stale metrics folders, then make a new one owned by this process."""
    root = Path(temp_dir or tempfile.gettempdir())
    removed = remove_stale(root)
    if removed:
        log.info("removed %d metrics folder(s) left by stopped servers", removed)
    folder = tempfile.mkdtemp(prefix=PREFIX, dir=root)
    (Path(folder) / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
    return folder


def remove_stale(root: Path) -> int:
    """Remove ``cubby-metrics-*`` folders in ``root`` whose owner process has exited."""
    removed = 0
    for folder in root.glob(PREFIX + "*"):
        try:
            if not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
            pid = int((folder / OWNER_FILE).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue  # no owner recorded (an older cubby), or not ours to judge
        if _running(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process has that id now: leave the folder
    return True
