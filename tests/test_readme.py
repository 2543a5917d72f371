"""The README stands on its own: its links resolve inside the repo, and its curl walk-through
runs, twice in a row, against one live server."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import live_server

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def documents() -> list[Path]:
    """The README, docs/ and the SDKs' READMEs (issue 27, defect 2: one linked outside)."""
    sdks = sorted((ROOT / "sdk").glob("*/README.md"))
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sdks]


def anchors(markdown: str) -> set[str]:
    """GitHub's heading ids: lowercase, punctuation dropped, spaces to dashes."""
    out = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", FENCE.sub("", markdown), re.M):
        text = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", ""))
        out.add(text.replace(" ", "-"))
    return out


def test_every_link_resolves_inside_the_repo() -> None:
    checked = 0
    for doc in documents():
        text = FENCE.sub("", doc.read_text())
        text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
        for target in LINK.findall(text):
            where = f"{doc.relative_to(ROOT)}: ({target})"
            assert not re.match(r"^[a-z][a-z0-9+.-]*:", target), f"{where} leaves the repo"
            path, _, anchor = target.partition("#")
            resolved = (doc.parent / path).resolve() if path else doc
            assert resolved.is_relative_to(ROOT), f"{where} points outside the repo"
            assert resolved.exists(), f"{where} does not exist"
            if anchor:
                assert resolved.suffix == ".md", where
                assert anchor in anchors(resolved.read_text()), f"{where}: no such heading"
            checked += 1
        # the HTTP reference is docs/api.md; no document names one that is not in the repo
        assert "API.md" not in doc.read_text(), f"{doc.relative_to(ROOT)} names API.md"
    assert checked >= 8


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A walk through", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    lines = block.group(1).splitlines()
    assert lines[0].startswith("export CUBBY=") and "KEY=cby_..." in lines[0]
    return "\n".join(lines[1:])  # the server and key come from the test


@pytest.mark.slow
def test_walkthrough_runs_twice_against_one_server(tmp_path: Path) -> None:
    script = "set -eu\n" + walkthrough()
    with live_server(tmp_path / "data") as server:
        env = {**os.environ, "CUBBY": server.base_url, "KEY": server.key}
        outputs = []
        for _ in range(2):
            result = subprocess.run(
                ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60
            )
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout)
    answers = [
        [json.loads(line) for line in re.sub(r"}\s*{", "}\n{", out).splitlines() if line.strip()]
        for out in outputs
    ]
    for run, got in enumerate(answers):
        executed = [a for a in got if "success" in a]
        assert len(executed) == 4 and all(a["success"] for a in executed), got
        errors = {a["code"] for a in got if "code" in a}
        assert errors == (set() if run == 0 else {"SLUG_EXISTS", "ALIAS_CONFLICT"}), got
        listed = next(a["output"]["files"] for a in executed if "files" in a["output"])
        assert [f["path"] for f in listed] == ["reports/monthly.json"]
    lengths = [
        next(a["output"]["length"] for a in got if "length" in a.get("output", {}))
        for got in answers
    ]
    assert lengths == [1, 2]  # the list grew by one; nothing else changed
