import pytest

from tests.helpers import Api

pytestmark = pytest.mark.conformance


def test_health(api: Api) -> None:
    resp = api.client.get("/health")
    assert resp.json() == {"status": "healthy"}


def test_kv_roundtrip(api: Api) -> None:
    ws = api.create_workspace("acme")
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    assert api.output(
        "kv-store", "put", ws, {"key": "k", "value": {"a": 1}}, integrationAlias="state"
    ) == {"key": "k", "value": {"a": 1}, "version": 1, "expiresAt": None}
    assert api.output("kv-store", "get", ws, {"key": "k"}) == {
        "key": "k",
        "value": {"a": 1},
        "version": 1,
        "expiresAt": None,
    }
