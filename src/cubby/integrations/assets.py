"""Files the built-ins ship beside their code."""

from __future__ import annotations

from importlib import resources


def logo(name: str) -> str:
    """The SVG logo a built-in ships in ``integrations/logos/``."""
    return (resources.files("cubby.integrations") / "logos" / f"{name}.svg").read_text("utf-8")
