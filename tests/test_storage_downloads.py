"""Download URLs: no API key, streamed with the stored content type and Content-Length, and
403 JSON for expired, tampered or foreign-secret URLs. The server secret comes from
CUBBY_SECRET_KEY or is generated once into the data dir (0600)."""

from __future__ import annotations

import base64
import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.core import signing
from cubby.core.scopes import namespace_for
from cubby.errors import Forbidden
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.helpers import Api

pytestmark = pytest.mark.conformance

PUBLIC_URL = "https://files.cubby.test"
SCOPE = {"persistence": {"scope": "workspace"}}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(public_url=PUBLIC_URL)


@pytest.fixture
def ws(api: Api) -> str:
    workspace = api.create_workspace("downloads")
    api.add_integration(workspace, "storage", "files", SCOPE)
    return workspace


def put(api: Api, ws: str, path: str, data: bytes, **input: Any) -> dict[str, Any]:
    return dict(
        api.output(
            "storage",
            "write_file",
            ws,
            {
                "path": path,
                "content": base64.b64encode(data).decode(),
                "contentEncoding": "base64",
                **input,
            },
        )
    )


def url_for(api: Api, ws: str, path: str, **input: Any) -> str:
    return str(api.output("storage", "get_download_url", ws, {"path": path, **input})["url"])


def fetch(client: TestClient, url: str, **kw: Any) -> Any:
    """GET the URL's path with no Authorization header at all."""
    return client.get(urlsplit(url).path, **kw)


def forbidden(resp: Any, reason: str) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["code"] == "FORBIDDEN"
    assert body["details"]["reason"] == reason


@pytest.mark.parametrize("size", [10, 3 * 1024 * 1024 + 17], ids=["inline", "blob"])
def test_download_streams_exact_bytes_and_headers(
    api: Api, client: TestClient, ws: str, size: int
) -> None:
    data = os.urandom(size)
    written = put(api, ws, "exports/données 2025.csv", data)
    assert written["contentType"] == "text/csv"
    url = url_for(api, ws, "exports/données 2025.csv")
    assert url.startswith(PUBLIC_URL + "/downloads/")
    resp = fetch(client, url)
    assert resp.status_code == 200
    assert resp.content == data
    # Exactly the stored type: no charset appended to a text/* type.
    assert resp.headers["content-type"] == "text/csv"
    assert resp.headers["content-length"] == str(size)
    assert resp.headers["etag"] == f'"{written["etag"]}"'
    assert resp.headers["content-disposition"] == (
        "inline; filename*=UTF-8''donn%C3%A9es%202025.csv"
    )
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["content-security-policy"] == "sandbox"


def test_explicit_content_type_is_served(api: Api, client: TestClient, ws: str) -> None:
    put(
        api,
        ws,
        "page.html",
        b"<script>alert(1)</script>",
        contentType="text/html; charset=iso-8859-1",
    )
    resp = fetch(client, url_for(api, ws, "page.html"))
    assert resp.headers["content-type"] == "text/html; charset=iso-8859-1"
    assert "sandbox" in resp.headers["content-security-policy"]


def test_expiry_output(api: Api, ws: str) -> None:
    put(api, ws, "a.txt", b"a")
    for seconds, expected in ((None, 900), (60, 60), (3600, 3600)):
        before = time.time()
        extra = {} if seconds is None else {"expiresInSeconds": seconds}
        out = api.output("storage", "get_download_url", ws, {"path": "a.txt", **extra})
        assert set(out) == {"url", "expiresAt"}
        expires = datetime.fromisoformat(out["expiresAt"].replace("Z", "+00:00"))
        assert expires.tzinfo == UTC
        assert before + expected - 2 <= expires.timestamp() <= time.time() + expected + 1


def test_url_serves_current_content_of_its_path(api: Api, client: TestClient, ws: str) -> None:
    put(api, ws, "live.txt", b"first")
    url = url_for(api, ws, "live.txt")
    put(api, ws, "live.txt", b"second" * 20_000)
    assert fetch(client, url).content == b"second" * 20_000
    api.output("storage", "delete_file", ws, {"path": "live.txt"})
    resp = fetch(client, url)
    assert resp.status_code == 404
    assert resp.json()["code"] == "NOT_FOUND"


def test_expired_url_is_forbidden(
    api: Api, client: TestClient, settings: Settings, ws: str
) -> None:
    put(api, ws, "old.txt", b"old")
    ns = namespace_for(ws, SCOPE, None)
    key = signing.signing_key(settings)
    expired = signing.sign(
        key, signing.Grant(ns.workspace_id, ns.ns, "old.txt", int(time.time()) - 1)
    )
    resp = client.get(f"/downloads/{expired}")
    forbidden(resp, "EXPIRED")
    assert "expired" in resp.json()["error"]
    # The same grant, still valid, works: only the expiry was wrong.
    valid = signing.sign(
        key, signing.Grant(ns.workspace_id, ns.ns, "old.txt", int(time.time()) + 60)
    )
    assert client.get(f"/downloads/{valid}").content == b"old"


def test_url_stops_working_when_it_expires(api: Api, settings: Settings, ws: str) -> None:
    put(api, ws, "soon.txt", b"x")
    url = url_for(api, ws, "soon.txt", expiresInSeconds=60)
    token = urlsplit(url).path.rsplit("/", 1)[1]
    key = signing.signing_key(settings)
    assert signing.verify(key, token, time.time() + 58).path == "soon.txt"
    with pytest.raises(Forbidden):
        signing.verify(key, token, time.time() + 61)


def _flip(text: str, at: int) -> str:
    ch = "A" if text[at] != "A" else "B"
    return text[:at] + ch + text[at + 1 :]


def test_tampered_urls_are_forbidden(api: Api, client: TestClient, ws: str) -> None:
    put(api, ws, "secret.txt", b"top secret")
    token = urlsplit(url_for(api, ws, "secret.txt")).path.rsplit("/", 1)[1]
    payload, signature = token.split(".")
    fields = msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields[4] += 10**6
    longer = base64.urlsafe_b64encode(msgspec.json.encode(fields)).rstrip(b"=").decode()
    cases = {
        "payload byte": f"{_flip(payload, 5)}.{signature}",
        "signature byte": f"{payload}.{_flip(signature, 3)}",
        "longer expiry": f"{longer}.{signature}",
        "no signature": payload,
        "empty signature": f"{payload}.",
        "signature only": f".{signature}",
        "garbage": "not-a-token",
        "non-ascii": f"{payload}.{signature[:-1]}é",
        "swapped": f"{signature}.{payload}",
    }
    for name, bad in cases.items():
        resp = client.get(f"/downloads/{bad}")
        forbidden(resp, "BAD_SIGNATURE")
        assert b"top secret" not in resp.content, name
    assert client.get(f"/downloads/{token}").content == b"top secret"


def test_signed_but_malformed_payload_is_forbidden(client: TestClient, settings: Settings) -> None:
    import hashlib
    import hmac

    key = signing.signing_key(settings)
    for raw in (b"not json", b'[2, "w", "w", "p", 9999999999]', b"[1, 2, 3]"):
        payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        sig = (
            base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest())
            .rstrip(b"=")
            .decode()
        )
        forbidden(client.get(f"/downloads/{payload}.{sig}"), "BAD_SIGNATURE")


def test_no_api_key_needed_and_a_bad_one_is_ignored(api: Api, client: TestClient, ws: str) -> None:
    put(api, ws, "open.txt", b"open")
    url = url_for(api, ws, "open.txt")
    assert fetch(client, url, headers={"Authorization": "Bearer nonsense"}).content == b"open"


def test_head_and_conditional_get(api: Api, client: TestClient, ws: str) -> None:
    written = put(api, ws, "big.bin", b"z" * 200_000)
    url = url_for(api, ws, "big.bin")
    head = client.head(urlsplit(url).path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "200000"
    assert head.headers["content-type"] == "application/octet-stream"
    etag = f'"{written["etag"]}"'
    cached = fetch(client, url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    stale = fetch(client, url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    assert stale.content == b"z" * 200_000


@pytest.mark.parametrize("size", [1000, 200_000], ids=["inline", "blob"])
def test_byte_ranges(api: Api, client: TestClient, ws: str, size: int) -> None:
    data = os.urandom(size)
    written = put(api, ws, "media.bin", data)
    url = url_for(api, ws, "media.bin")
    assert fetch(client, url).headers["accept-ranges"] == "bytes"
    for header, first, last in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, size - 1),  # resume from byte 100
        ("bytes=-10", size - 10, size - 1),  # the last 10 bytes
        (f"bytes=5-{size * 2}", 5, size - 1),  # a last byte past the end is clamped
        (f"bytes=-{size * 2}", 0, size - 1),  # so is a suffix longer than the file
        ("bytes=7-7", 7, 7),
    ]:
        resp = fetch(client, url, headers={"Range": header})
        assert resp.status_code == 206, (header, resp.text)
        assert resp.content == data[first : last + 1], header
        assert resp.headers["content-range"] == f"bytes {first}-{last}/{size}", header
        assert resp.headers["content-length"] == str(last - first + 1), header
        assert resp.headers["etag"] == f'"{written["etag"]}"'
    # a resume guarded by If-Range: the same ETag gets the range, another one the whole file
    etag = f'"{written["etag"]}"'
    resp = fetch(client, url, headers={"Range": "bytes=10-", "If-Range": etag})
    assert resp.status_code == 206 and resp.content == data[10:]
    resp = fetch(client, url, headers={"Range": "bytes=10-", "If-Range": '"old"'})
    assert resp.status_code == 200 and resp.content == data


@pytest.mark.parametrize(
    "header", ["items=0-5", "bytes=0-5,10-15", "bytes=9-3", "bytes=abc", "bytes=-", "bytes"]
)
def test_ranges_we_do_not_serve_get_the_whole_file(
    api: Api, client: TestClient, ws: str, header: str
) -> None:
    put(api, ws, "a.bin", b"0123456789abcdef")
    resp = fetch(client, url_for(api, ws, "a.bin"), headers={"Range": header})
    assert resp.status_code == 200, resp.text
    assert resp.content == b"0123456789abcdef"
    assert "content-range" not in resp.headers


@pytest.mark.parametrize("size", [16, 0, 200_000], ids=["inline", "empty", "blob"])
def test_range_outside_the_file_is_416(api: Api, client: TestClient, ws: str, size: int) -> None:
    put(api, ws, "a.bin", b"x" * size)
    url = url_for(api, ws, "a.bin")
    for header in [f"bytes={size}-", f"bytes={size + 5}-{size + 9}", "bytes=-0"]:
        resp = fetch(client, url, headers={"Range": header})
        assert resp.status_code == 416, (header, resp.text)
        assert resp.headers["content-range"] == f"bytes */{size}"
        assert resp.json()["code"] == "RANGE_NOT_SATISFIABLE"
        assert resp.json()["details"] == {"size": size}


def test_only_get_and_head(api: Api, client: TestClient, ws: str) -> None:
    put(api, ws, "a.txt", b"a")
    path = urlsplit(url_for(api, ws, "a.txt")).path
    resp = client.post(path)
    assert resp.status_code == 405
    assert resp.json()["code"] == "METHOD_NOT_ALLOWED"
    resp = client.delete(path)
    assert resp.status_code == 405
    assert api.output("storage", "read_file", ws, {"path": "a.txt"})["content"] == "a"


# -- the server secret ------------------------------------------------------------------------


def test_generated_secret_is_private_and_survives_restarts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = signing.signing_key(settings)
    secret_file = tmp_path / "data" / signing.SECRET_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(bytes.fromhex(secret_file.read_text().strip())) == 32
    signing._secret.cache_clear()  # a fresh process
    assert signing.signing_key(settings) == key
    other = Settings(data_dir=tmp_path / "other")
    assert signing.signing_key(other) != key


def test_concurrent_first_starts_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "race" / signing.SECRET_FILE

    def load(_: int) -> bytes:
        return signing._load_or_create(path)

    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(load, range(16)))
    assert len(secrets) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [signing.SECRET_FILE]


def test_configured_secret_is_used_and_other_secrets_refuse(tmp_path: Path) -> None:
    a = Settings(data_dir=tmp_path / "a", secret_key="a" * 32)
    b = Settings(data_dir=tmp_path / "a", secret_key="b" * 32)
    grant = signing.Grant("w", "w", "p.txt", int(time.time()) + 60)
    token = signing.sign(signing.signing_key(a), grant)
    assert signing.verify(signing.signing_key(a), token, time.time()) == grant
    with pytest.raises(Forbidden):
        signing.verify(signing.signing_key(b), token, time.time())
    assert not (tmp_path / "a" / signing.SECRET_FILE).exists()


def test_too_short_configured_secret_fails_at_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="short")
    services = build_services(settings)
    try:
        with pytest.raises(signing.SecretError, match="at least 16"):
            create_app(settings, services)
    finally:
        services.close()


def test_corrupt_secret_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / signing.SECRET_FILE).write_text("not hex\n")
    with pytest.raises(signing.SecretError, match="corrupt"):
        signing.signing_key(Settings(data_dir=tmp_path / "data"))
