"""Backend combinations for the conformance suite.

Tests marked ``conformance`` run once per enabled combination of metadata database and file
store. ``sqlite+file`` always runs; the others need their services (see ``enabled_combos``).
"""

from __future__ import annotations

from pathlib import Path

from cubby.settings import Settings

DEFAULT_COMBO = "sqlite+file"


def enabled_combos() -> list[str]:
    return [DEFAULT_COMBO]


def settings_for(combo: str, tmp_path: Path) -> Settings:
    if combo == DEFAULT_COMBO:
        return Settings(data_dir=tmp_path / "data")
    raise ValueError(f"unknown backend combination {combo!r}")
