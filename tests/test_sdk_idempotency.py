"""The SDK and exactly-once execute: an execute carrying an idempotency key is retried on 5xx,
network errors and IDEMPOTENCY_IN_PROGRESS with the same key; the friendly layer sends a fresh
key with every write (none with reads); files.move and files.delete_folder on the wire."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cubby_client import BadRequestError, Cubby, ServerError

from tests import test_sdk_transport as transport
from tests.test_sdk_transport import WS, Scripted, error, ok, outputs

mode, script = transport.mode, transport.script  # the scripted-server fixtures

EXECUTED = {"success": True, "output": {"key": "l", "length": 1}, "duration": 1.0}


def append(c: Any, key: str | None) -> Any:
    return c.actions.execute(
        "kv-store", "add_to_list", workspace_id=WS, input={"key": "l", "value": 1},
        idempotency_key=key,
    )  # fmt: skip


def test_execute_with_a_key_is_retried_on_5xx(script: Callable[..., Scripted]) -> None:
    s = script([error(503, "UNAVAILABLE"), error(500, "INTERNAL_ERROR"), ok(EXECUTED)])
    assert s.run(lambda c: append(c, "k-1")) == EXECUTED
    assert [b["idempotencyKey"] for b in s.bodies()] == ["k-1"] * 3
    assert len(s.sleeps) == 2


def test_execute_without_a_key_is_not_retried(script: Callable[..., Scripted]) -> None:
    s = script([error(503, "UNAVAILABLE"), ok(EXECUTED)])
    with pytest.raises(ServerError):
        s.run(lambda c: append(c, None))
    assert len(s.requests) == 1


def test_execute_with_a_key_is_retried_after_a_lost_connection(
    script: Callable[..., Scripted],
) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadError("connection reset", request=request)
        return ok(EXECUTED)

    s = script(handler)
    assert s.run(lambda c: append(c, "k-2")) == EXECUTED
    assert len(calls) == 2


def test_in_progress_is_retried_other_409s_are_not(script: Callable[..., Scripted]) -> None:
    s = script([error(409, "IDEMPOTENCY_IN_PROGRESS"), ok(EXECUTED)])
    assert s.run(lambda c: append(c, "k-3")) == EXECUTED
    s = script([error(409, "IDEMPOTENCY_CONFLICT")])
    with pytest.raises(Exception) as info:
        s.run(lambda c: append(c, "k-3"))
    assert getattr(info.value, "code", None) == "IDEMPOTENCY_CONFLICT"
    assert len(s.requests) == 1


def test_friendly_layer_keys_writes_not_reads(script: Callable[..., Scripted]) -> None:
    info = {"path": "a", "size": 1, "contentType": "x", "etag": "e", "updatedAt": "t",
            "expiresAt": None}  # fmt: skip
    s = script(
        [
            error(502, "BAD_GATEWAY"),
            *outputs(
                info,  # write (after one retry)
                {"path": "a", "content": "x", "encoding": "utf8"},
                {"key": "k", "value": 1},
                {"key": "k", "value": 1, "version": 1, "expiresAt": None},
                {"from": "a", "to": "b", "etag": "e"},
                {"prefix": "d/", "deleted": 3},
                {"path": "b", "deleted": True},
            ),
        ]
    )
    files, kv = s.client.storage(WS), s.client.kv(WS)
    s.run(lambda c: files.write("a", "x", expires_in=60, if_none_match=True))
    s.run(lambda c: files.read_text("a"))
    s.run(lambda c: kv.get("k"))
    s.run(lambda c: kv.put("k", 1))
    assert s.run(lambda c: files.move("a", "b", overwrite=True)) == {
        "from": "a", "to": "b", "etag": "e",
    }  # fmt: skip
    assert s.run(lambda c: files.delete_folder("d/")) == 3
    assert s.run(lambda c: files.delete("b", if_match="e")) is True
    bodies = s.bodies()
    keys = [b.get("idempotencyKey") for b in bodies]
    assert keys[0] == keys[1] and keys[0] is not None  # the retry reused the key
    assert keys[2] is None and keys[3] is None  # read_file, get
    fresh = [keys[1], *keys[4:]]
    assert all(k and re.fullmatch(r"[0-9a-f]{32}", k) for k in fresh)
    assert len(set(fresh)) == len(fresh)
    assert [(b["actionName"], b["input"]) for b in bodies[1:]] == [
        ("write_file", {"path": "a", "content": "x", "expiresInSeconds": 60,
                        "ifNoneMatch": "*"}),
        ("read_file", {"path": "a", "outputEncoding": "utf8"}),
        ("get", {"key": "k"}),
        ("put", {"key": "k", "value": 1}),
        ("move_file", {"from": "a", "to": "b", "overwrite": True}),
        ("delete_folder", {"prefix": "d/"}),
        ("delete_file", {"path": "b", "ifMatch": "e"}),
    ]  # fmt: skip


def test_sdk_against_a_real_server(api: Any, client: Any) -> None:
    """files.move / delete_folder / conditional writes through the SDK on an in-process app."""
    ws = api.create_workspace("sdk-once")
    api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    with Cubby(api_key=api.key, base_url="http://testserver", http_client=client) as cubby:
        files = cubby.storage(ws)
        first = files.write("d/a.txt", "one", if_none_match=True)
        with pytest.raises(BadRequestError) as info:
            files.write("d/a.txt", "two", if_none_match=True)
        assert info.value.reason == "CONFLICT"
        files.write("d/a.txt", "two", if_match=first["etag"])
        assert files.move("d/a.txt", "d/b.txt")["to"] == "d/b.txt"
        files.write("d/c.txt", "three", expires_in=3600)
        assert [f["path"] for f in files.list("d/")] == ["d/b.txt", "d/c.txt"]
        assert files.delete_folder("d/") == 2
        assert list(files.list()) == []
