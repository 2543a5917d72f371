"""The server package: builds without warnings, with the license in SPDX form, and ships no
dependency or package data that nothing uses."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "cubby"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# distribution -> what in src/cubby shows it is used (an import, or the feature that needs it)
USED_BY = {
    "starlette": r"^from starlette",
    "uvicorn": r"^\s*import uvicorn",
    "msgspec": r"^import msgspec",
    "obstore": r"^import obstore",
    "click": r"^import click",
    "jinja2": r"^import jinja2",
    "prometheus-client": r"^from prometheus_client",
    "markdown-it-py": r"^from markdown_it",
    "mcp": r"^from mcp",
    "python-multipart": r"await request\.form\(",  # Starlette's form parser imports it
}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def test_every_dependency_is_used() -> None:
    sources = "\n".join(p.read_text() for p in SRC.rglob("*.py"))
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = _name(requirement)
        assert name in USED_BY, f"{name}: say in USED_BY what uses it, or drop the dependency"
        assert re.search(USED_BY[name], sources, re.M), f"nothing in src/cubby uses {name}"


def test_every_package_data_pattern_ships_files_something_reads() -> None:
    sources = "\n".join(p.read_text() for p in SRC.rglob("*.py"))
    for pattern in PYPROJECT["tool"]["setuptools"]["package-data"]["cubby"]:
        matches = [p for p in SRC.glob(pattern) if p.is_file()]
        assert matches, f"package data {pattern!r} matches no file"
        folder = Path(pattern).parent.name
        if folder:
            assert f'"{folder}"' in sources or f"'{folder}'" in sources, (
                f"no code reads the {folder}/ files of {pattern!r}"
            )


def test_license_is_an_spdx_expression() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    requires = PYPROJECT["build-system"]["requires"]
    assert any(
        re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77 for r in requires
    ), requires  # the first setuptools that reads SPDX strings


@pytest.mark.slow
def test_the_wheel_builds_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "-q",
            "-v",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    warnings = [
        line
        for line in output.splitlines()
        if re.search(r"Warning|deprecated", line) and "byte-compiling" not in line
    ]
    assert not warnings, warnings
    wheel = next(tmp_path.glob("cubby-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "cubby/web/templates/base.html" in names and "cubby/py.typed" in names
