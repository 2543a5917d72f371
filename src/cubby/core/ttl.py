"""Time to live for stored data (``expiresInSeconds`` on writes): one declaration, one rule.

Expiry instants are epoch seconds from :func:`cubby.core.clock.now`, so tests move time there.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from cubby.core import clock

MAX_TTL_SECONDS = 10 * 365 * 24 * 3600  # ten years

ExpiresInSeconds = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=MAX_TTL_SECONDS,
        title="Expires in (seconds)",
        description="Delete it this many seconds after this write (1 to 10 years); "
        "until then it reads normally, afterwards as missing. Default: never",
    ),
]


def expires_at(seconds: int | None) -> float | None:
    """The expiry instant of a write made now, or None for no expiry."""
    return None if seconds is None else clock.now() + seconds


def iso_or_none(at: float | None) -> str | None:
    return None if at is None else clock.iso(at)
