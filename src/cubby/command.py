"""How to run this cubby again: the command that hints and copied snippets should name.

After ``make run`` only ``.venv/bin/cubby`` exists (no ``cubby`` on PATH), so a hint that says
``cubby init`` fails when pasted. Hints name the executable that is running instead.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

__all__ = ["cubby_command", "shell_command"]


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def cubby_command() -> list[str]:
    """The running ``cubby`` script (absolute), else the one beside this Python (``python -m
    cubby`` in a virtualenv), else ``cubby`` on PATH, else this Python with ``-m cubby``."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is not None and started.name == "cubby" and _runnable(started):
        return [str(started.absolute())]
    beside = Path(sys.executable).parent / "cubby"
    if _runnable(beside):
        return [str(beside.absolute())]
    found = shutil.which("cubby")
    if found:
        return [str(Path(found).absolute())]
    return [sys.executable, "-m", "cubby"]


def shell_command(*args: str) -> str:
    """``cubby_command()`` and ``args`` as one line to paste into a shell."""
    return shlex.join([*cubby_command(), *args])
