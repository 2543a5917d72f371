"""A download URL's token is a bearer credential: no log line carries it, not even the one of
an unhandled error on the download route (issue 16, "Also")."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.core import files
from cubby.services import Services
from cubby.settings import Settings
from tests.helpers import Api


def test_download_token_never_reaches_the_log(
    settings: Settings,
    services: Services,
    org_key: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        run(Api(client, org_key), monkeypatch, caplog)


def run(api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    ws = api.create_workspace("logs")
    api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    api.output("storage", "write_file", ws, {"path": "a.txt", "content": "secret stuff"})
    url = api.output("storage", "get_download_url", ws, {"path": "a.txt"})["url"]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    token = path.rsplit("/", 1)[1].split("?", 1)[0]
    assert len(token) > 20

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the blob store fell over")

    monkeypatch.setattr(files, "open_file", broken)
    with caplog.at_level(logging.DEBUG):
        resp = api.client.get(path)
        assert resp.status_code == 500 and resp.json()["code"] == "INTERNAL_ERROR"
        monkeypatch.undo()
        assert api.client.get(path).status_code == 200
        assert api.client.get(path[:-3] + "xyz").status_code in (403, 404)
    # The server's loggers (the test client's own httpx logger prints the URL it fetched).
    text = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if r.name.startswith(("cubby", "uvicorn", "starlette"))
    )
    assert "unhandled error on GET /downloads/<token>" in text
    assert token not in text and token[:16] not in text
