"""The docs must keep up with the code: every setting and command is documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from click.testing import CliRunner

from cubby.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    sources = (ROOT / "src/cubby/settings.py").read_text() + (
        ROOT / "src/cubby/cli/root.py"
    ).read_text()
    variables = set(re.findall(r'"(CUBBY_[A-Z_]+)"', sources))
    assert len(variables) > 10
    documented = (ROOT / "docs/configuration.md").read_text()
    missing = sorted(v for v in variables if f"`{v}`" not in documented)
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_every_serve_option_is_documented() -> None:
    documented = (ROOT / "docs/configuration.md").read_text()
    serve = main.commands["serve"]  # type: ignore[attr-defined]
    options = [opt for p in serve.params for opt in p.opts if opt.startswith("--")]
    missing = [o for o in options if f"`{o}`" not in documented and o != "--help"]
    assert not missing, f"add these serve options to docs/configuration.md: {missing}"


def test_readme_quickstart_has_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quickstart, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_help_explains_environment_variables() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for variable in ("CUBBY_HOST", "CUBBY_PORT", "CUBBY_DATA_DIR", "CUBBY_DATABASE_URL"):
        assert variable in result.output


def test_the_readme_steps_leave_no_untracked_files() -> None:
    """Issue 27, defect 11: `npm pack` (the TypeScript README's own step) makes a tarball."""
    readme = (ROOT / "sdk" / "typescript" / "README.md").read_text()
    tarball = re.search(r"npm pack\s+#\s*->\s*(\S+\.tgz)", readme)
    assert tarball, "the README's npm pack step names its tarball"
    for path in (f"sdk/typescript/{tarball.group(1)}", ".schemathesis/report.json"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{path} is not ignored"


def _first_slug(path: Path, pattern: str) -> str:
    found = re.search(pattern, path.read_text())
    assert found, f"{path.name}: no workspace created"
    return found.group(1)


def test_the_quick_starts_create_workspaces_the_readme_did_not() -> None:
    """Issue 27, defect 10: followed in order (the README's curl walk-through, then each SDK's
    quick start), every first workspace create must succeed: no slug is made twice."""
    slugs = [
        _first_slug(ROOT / "README.md", r'"slug": "([a-z0-9-]+)"'),
        _first_slug(ROOT / "sdk" / "python" / "README.md", r'slug="([a-z0-9-]+)"'),
        _first_slug(ROOT / "sdk" / "typescript" / "README.md", r"slug: '([a-z0-9-]+)'"),
    ]
    assert len(set(slugs)) == 3, slugs
