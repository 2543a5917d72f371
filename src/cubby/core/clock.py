"""The one clock seam: every expiry decision (TTLs, sessions, tokens) reads the time here.

Tests move time with :func:`set_offset` instead of sleeping; production never calls it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

_offset = 0.0


def now() -> float:
    """Seconds since the epoch, as the expiry rules see them."""
    return time.time() + _offset


def iso(at: float) -> str:
    """``at`` (epoch seconds) as cubby writes timestamps: ISO-8601 UTC, milliseconds, ``Z``."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def set_offset(seconds: float) -> None:
    """Move the clock ``seconds`` ahead of real time (tests only; 0 puts it back)."""
    global _offset
    _offset = seconds
