"""The one error a backend raises when its URL or settings cannot be used.

Its own module at the bottom of ``backends/`` so that ``url.py`` (which picks the backends)
and the backends it picks can all raise it without importing each other.
"""

from __future__ import annotations


class BackendConfigError(RuntimeError):
    """A backend URL cannot be used; the message is one line meant for a human."""
