"""Issue 16, items 3 and 6: list items come back exactly as the client sent them (compact JSON),
and numbers outside what msgspec represents (1e400, a 5,000-digit integer) never give a 500
in put, add_to_list or remove_from_list. Removes still compare by JSON equality (a canonical
form). The requests are written as literal JSON text: Python cannot write these numbers."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tests.helpers import Api

pytestmark = pytest.mark.conformance

BIG_INT = "1" + "0" * 4999  # 5,000 digits
REWRITTEN = '[0.1000000000000000000001,-0,1e-400,123456789012345678901234567890.5,{"a":1,"a":2}]'


class _Out(msgspec.Struct):
    output: dict[str, msgspec.Raw]


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("numbers")
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    return ws


def inp(key: str, value: str | None = None) -> str:
    """Input JSON text with ``value`` inserted verbatim."""
    return '{"key": "' + key + '"' + ("" if value is None else ', "value": ' + value) + "}"


def call(api: Api, ws: str, action: str, input_json: str) -> Any:
    """Execute with the input as literal JSON text (numbers Python cannot write, e.g. 1e400)."""
    body = (
        '{"integrationName": "kv-store", "actionName": "'
        + action
        + '", "workspaceId": "'
        + ws
        + '", "input": '
        + input_json
        + "}"
    )
    return api.client.post(
        "/api/v1/actions/execute",
        content=body.encode(),
        headers={**api.headers(), "content-type": "application/json"},
    )


def ok(api: Api, ws: str, action: str, input_json: str) -> dict[str, msgspec.Raw]:
    resp = call(api, ws, action, input_json)
    assert resp.status_code == 200, resp.text[:500]
    return msgspec.json.decode(resp.content, type=_Out).output


def value_text(api: Api, ws: str, key: str) -> bytes:
    return bytes(ok(api, ws, "get", inp(key))["value"])


def test_put_list_comes_back_as_sent(api: Api, ws: str) -> None:
    echoed = ok(api, ws, "put", inp("l", REWRITTEN))
    assert bytes(echoed["value"]) == REWRITTEN.encode()
    assert value_text(api, ws, "l") == REWRITTEN.encode()
    spaced = '[ 1.50 , {"b" : 2, "a" : [ ]} ]'
    ok(api, ws, "put", inp("s", spaced))
    assert value_text(api, ws, "s") == b'[1.50,{"b":2,"a":[]}]'  # compact, else untouched


def test_appends_come_back_as_sent(api: Api, ws: str) -> None:
    items = msgspec.json.decode(REWRITTEN, type=list[msgspec.Raw])
    for raw in items:
        ok(api, ws, "add_to_list", inp("a", bytes(raw).decode()))
    assert value_text(api, ws, "a") == REWRITTEN.encode()


def test_out_of_range_numbers_are_stored_as_sent(api: Api, ws: str) -> None:
    ok(api, ws, "put", inp("p", f"[1e400, {BIG_INT}, -1E+400, 2]"))
    assert value_text(api, ws, "p") == f"[1e400,{BIG_INT},-1E+400,2]".encode()
    assert bytes(ok(api, ws, "add_to_list", '{"key": "p", "value": 1e400}')["length"]) == b"5"
    ok(api, ws, "add_to_list", inp("p", f"[{BIG_INT}]"))
    ok(api, ws, "add_to_list", '{"key": "p", "value": {"n": 10e399}}')
    # JSON equality for removes: 1e400 == 10e399 == 1E400; the 5,000-digit integer is itself.
    out = ok(api, ws, "remove_from_list", '{"key": "p", "value": 1E400}')
    assert (bytes(out["removed"]), bytes(out["length"])) == (b"2", b"5")
    out = ok(api, ws, "remove_from_list", inp("p", BIG_INT))
    assert bytes(out["removed"]) == b"1"
    out = ok(api, ws, "remove_from_list", '{"key": "p", "value": {"n": 1e400}}')
    assert bytes(out["removed"]) == b"1"
    assert value_text(api, ws, "p") == f"[-1E+400,2,[{BIG_INT}]]".encode()
    out = ok(api, ws, "remove_from_list", '{"key": "p", "value": 1e401}')
    assert bytes(out["removed"]) == b"0"


def test_remove_uses_json_equality_storage_does_not(api: Api, ws: str) -> None:
    ok(api, ws, "put", '{"key": "l", "value": [1.0, 1, 1.00, 1e0, {"a":1,"a":2}, {"a":2}]}')
    assert value_text(api, ws, "l") == b'[1.0,1,1.00,1e0,{"a":1,"a":2},{"a":2}]'
    out = ok(api, ws, "remove_from_list", '{"key": "l", "value": 1.0}')
    assert bytes(out["removed"]) == b"4"  # numbers are equal by value: 1.0, 1, 1.00 and 1e0
    out = ok(api, ws, "remove_from_list", '{"key": "l", "value": {"a": 2}}')
    assert bytes(out["removed"]) == b"2"  # a duplicate member means its last value
    assert value_text(api, ws, "l") == b"[]"
