"""List semantics: append order, JSON equality on remove, put/get of whole lists."""

from __future__ import annotations

import pytest

from tests.helpers import Api

pytestmark = pytest.mark.conformance


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("lists")
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    return ws


def get(api: Api, ws: str, key: str) -> object:
    return api.output("kv-store", "get", ws, {"key": key})["value"]


def test_append_order_and_lengths(api: Api, ws: str) -> None:
    values = ["a", 1, None, {"x": [1, 2]}, [3], "a", True]
    for i, value in enumerate(values, 1):
        assert api.output("kv-store", "add_to_list", ws, {"key": "l", "value": value}) == {
            "key": "l",
            "length": i,
            "version": i,
        }
    assert get(api, ws, "l") == values


def test_remove_every_equal_element_by_json_equality(api: Api, ws: str) -> None:
    for value in [{"a": 1, "b": 2}, "x", {"b": 2, "a": 1}, "y", {"a": 1}]:
        api.output("kv-store", "add_to_list", ws, {"key": "l", "value": value})
    out = api.output("kv-store", "remove_from_list", ws, {"key": "l", "value": {"b": 2, "a": 1}})
    assert out == {"key": "l", "removed": 2, "length": 3}
    assert get(api, ws, "l") == ["x", "y", {"a": 1}]
    out = api.output("kv-store", "remove_from_list", ws, {"key": "l", "value": "zzz"})
    assert out == {"key": "l", "removed": 0, "length": 3}


def test_put_a_list_then_append_and_remove(api: Api, ws: str) -> None:
    api.output("kv-store", "put", ws, {"key": "l", "value": ["a", "b"]})
    assert api.output("kv-store", "add_to_list", ws, {"key": "l", "value": "c"})["length"] == 3
    assert api.output("kv-store", "remove_from_list", ws, {"key": "l", "value": "a"})["length"] == 2
    assert get(api, ws, "l") == ["b", "c"]


def test_put_replaces_a_list_and_a_list_replaces_a_value(api: Api, ws: str) -> None:
    api.output("kv-store", "add_to_list", ws, {"key": "k", "value": "a"})
    api.output("kv-store", "put", ws, {"key": "k", "value": "scalar"})
    assert get(api, ws, "k") == "scalar"
    api.output("kv-store", "put", ws, {"key": "k", "value": []})
    assert get(api, ws, "k") == []
    assert api.output("kv-store", "add_to_list", ws, {"key": "k", "value": 1})["length"] == 1
    assert get(api, ws, "k") == [1]


def test_delete_a_list(api: Api, ws: str) -> None:
    api.output("kv-store", "add_to_list", ws, {"key": "l", "value": 1})
    assert api.output("kv-store", "delete", ws, {"key": "l"}) == {"key": "l", "deleted": True}
    assert get(api, ws, "l") is None
    assert api.output("kv-store", "add_to_list", ws, {"key": "l", "value": 2})["length"] == 1
    assert get(api, ws, "l") == [2]


def test_removing_every_item_leaves_an_empty_list(api: Api, ws: str) -> None:
    api.output("kv-store", "add_to_list", ws, {"key": "l", "value": "only"})
    api.output("kv-store", "remove_from_list", ws, {"key": "l", "value": "only"})
    assert get(api, ws, "l") == []


def test_unicode_keys(api: Api, ws: str) -> None:
    for key in ["ключ", "キー", "emoji 🎉", "a/b:c?d#e", " spaced "]:
        api.output("kv-store", "put", ws, {"key": key, "value": key})
        assert get(api, ws, key) == key
