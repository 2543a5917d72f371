"""``pip install ./sdk/python`` in a fresh virtualenv pulls only httpx and its dependencies.

A normal pip install from the local path (the build backend and httpx come from the package
index as usual), then the client is imported and used where the server package is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SDK = Path(__file__).resolve().parent.parent / "sdk" / "python"

# httpx and everything it may pull in on some Python version, by normalized name
HTTPX_CLOSURE = {
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "idna",
    "certifi",
    "sniffio",
    "typing-extensions",
    "exceptiongroup",
}

PROBE = textwrap.dedent(
    """
    import importlib.metadata as md
    import importlib.resources
    import importlib.util
    import json
    import httpx
    import cubby_client
    from cubby_client import Cubby, NotFoundError

    def handler(request):
        return httpx.Response(404, json={"error": "gone", "code": "NOT_FOUND"})

    client = Cubby(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    try:
        client.workspaces.get("w")
    except NotFoundError as exc:
        code = exc.code
    print(json.dumps({
        "dists": sorted(d.metadata["Name"] for d in md.distributions()),
        "requires": md.requires("cubby-client"),
        "server_importable": importlib.util.find_spec("cubby") is not None,
        "typed": (importlib.resources.files("cubby_client") / "py.typed").is_file(),
        "code": code,
    }))
    """
)


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def test_pip_install_pulls_only_httpx(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(SDK)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert install.returncode == 0, install.stderr
    probe = subprocess.run(
        [str(python), "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # not the repo: nothing importable from the working directory
    )
    assert probe.returncode == 0, probe.stderr
    facts = json.loads(probe.stdout)

    installed = {_normalize(name) for name in facts["dists"]}
    assert {"cubby-client", "httpx"} <= installed
    assert installed - {"cubby-client"} <= HTTPX_CLOSURE, installed
    assert "cubby" not in installed and not facts["server_importable"]
    (requirement,) = facts["requires"]
    assert requirement.replace(" ", "").startswith("httpx")
    assert facts["typed"] is True
    assert facts["code"] == "NOT_FOUND"
