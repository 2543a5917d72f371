"""sdk/python/README.md stays true: its Python blocks run, in order, against `cubby serve`, and
it mentions every public method and exception class."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import cubby_client
import httpx
import pytest
from cubby_client import (
    _actions,
    _api_keys,
    _end_users,
    _integrations,
    _kv,
    _memory,
    _scratchpad,
    _storage,
    _thinking,
    _workspaces,
)

from tests.helpers import live_server

README = Path(__file__).resolve().parent.parent / "sdk" / "python" / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.slow
def test_readme_python_blocks_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 6
    with live_server(tmp_path) as server:
        monkeypatch.setenv("CUBBY_BASE_URL", server.base_url)
        monkeypatch.setenv("CUBBY_API_KEY", server.key)
        # the main README's curl walk-through ran first and made "acme" (issue 27, defect 10)
        made = httpx.post(
            server.base_url + "/api/v1/workspaces",
            json={"name": "Acme", "slug": "acme"},
            headers={"Authorization": f"Bearer {server.key}"},
        )
        assert made.status_code == 201, made.text
        namespace: dict[str, object] = {"__name__": "readme"}
        for number, block in enumerate(blocks, 1):
            try:
                exec(compile(block, f"README.md python block {number}", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the message is the point
                pytest.fail(f"README python block {number} failed: {exc!r}\n{block}")
    printed = capsys.readouterr().out
    assert '{"total": 1500}' in printed and "2025-01-15T10:00:00Z" in printed


def test_readme_mentions_every_public_method_and_error() -> None:
    text = README.read_text()
    classes = [
        _workspaces.Workspaces,
        _api_keys.ApiKeys,
        _integrations.Integrations,
        _end_users.EndUsers,
        _actions.Actions,
        _storage.Storage,
        _kv.KV,
        _memory.Memory,
        _scratchpad.Scratchpad,
        _thinking.Thinking,
        cubby_client.Cubby,
    ]
    missing = [
        f"{cls.__name__}.{name}"
        for cls in classes
        for name, _ in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and f".{name}(" not in text
    ]
    assert missing == []
    errors = [
        name
        for name in cubby_client.__all__
        if isinstance(getattr(cubby_client, name), type)
        and issubclass(getattr(cubby_client, name), Exception)
    ]
    assert len(errors) == 13
    assert [name for name in errors if name not in text] == []
    for option in ("api_key", "base_url", "timeout", "max_retries", "http_client"):
        assert f"`{option}`" in text
    for variable in ("CUBBY_API_KEY", "CUBBY_BASE_URL"):
        assert variable in text
