"""SDK behaviour that needs a scripted server: retries, error mapping, configuration, wire shapes.

Every test runs against ``httpx.MockTransport`` for both ``Cubby`` and ``AsyncCubby``; sleeps
are recorded instead of slept, so the retry tests take no time.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cubby_client import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncCubby,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Cubby,
    CubbyError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from cubby_client._retry import RetryPolicy, parse_retry_after

from tests.test_sdk_resources import aw, collect

Handler = Callable[[httpx.Request], httpx.Response]
WS = "6f1c2c2e-1a3b-4c5d-8e9f-0a1b2c3d4e5f"


@dataclass
class Scripted:
    """A client of one mode over a MockTransport, recording requests and sleeps."""

    client: Cubby | AsyncCubby
    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def run(self, make_call: Callable[[Cubby | AsyncCubby], Any]) -> Any:
        async def go() -> Any:
            return await aw(make_call(self.client))

        return asyncio.run(go())

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def script(mode: str) -> Callable[..., Scripted]:
    def build(handler: Handler | list[httpx.Response], **options: Any) -> Scripted:
        responses = list(handler) if isinstance(handler, list) else None
        scripted: Scripted

        def respond(request: httpx.Request) -> httpx.Response:
            request.read()
            scripted.requests.append(request)
            if responses is not None:
                return responses.pop(0)
            assert callable(handler)
            return handler(request)

        options.setdefault("api_key", "cby_test")
        options.setdefault("base_url", "http://cubby.test")
        transport = httpx.MockTransport(respond)
        if mode == "sync":
            client: Cubby | AsyncCubby = Cubby(
                http_client=httpx.Client(transport=transport), **options
            )
        else:
            client = AsyncCubby(http_client=httpx.AsyncClient(transport=transport), **options)
        scripted = Scripted(client)
        if mode == "sync":
            client._sleep = scripted.sleeps.append
        else:

            async def record(seconds: float) -> None:
                scripted.sleeps.append(seconds)

            client._sleep = record
        return scripted

    return build


def ok(body: Any = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {"ok": True})


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": f"{code.lower()} happened", "code": code, "details": {"reason": "WHY"}}
    return httpx.Response(status, json=body, headers=headers)


EXECUTED = {"success": True, "output": {"key": "k", "value": 1}, "duration": 1.0}


def execute(c: Cubby | AsyncCubby) -> Any:
    return c.actions.execute("kv-store", "get", workspace_id=WS, input={"key": "k"})


# -- retries -----------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_after_that_long(script: Callable[..., Scripted]) -> None:
    s = script([error(429, "RATE_LIMITED", {"Retry-After": "2"}), ok(EXECUTED)])
    assert s.run(execute)["output"] == {"key": "k", "value": 1}
    assert [r.method for r in s.requests] == ["POST", "POST"]
    assert s.sleeps == [2.0]
    assert s.bodies()[0] == s.bodies()[1]


def test_429_with_http_date_retry_after(script: Callable[..., Scripted]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    s = script([error(429, "RATE_LIMITED", {"Retry-After": when}), ok(EXECUTED)])
    s.run(execute)
    assert len(s.sleeps) == 1 and 25 <= s.sleeps[0] <= 31


def test_retry_after_is_capped(script: Callable[..., Scripted]) -> None:
    s = script([error(429, "RATE_LIMITED", {"Retry-After": "3600"}), ok(EXECUTED)])
    s.run(execute)
    assert s.sleeps == [60.0]


def test_429_gives_up_after_max_retries(script: Callable[..., Scripted]) -> None:
    s = script(lambda r: error(429, "RATE_LIMITED", {"Retry-After": "0"}), max_retries=3)
    with pytest.raises(RateLimitError) as info:
        s.run(execute)
    assert info.value.status == 429 and info.value.code == "RATE_LIMITED"
    assert len(s.requests) == 4 and s.sleeps == [0.0, 0.0, 0.0]


def test_503_on_get_is_retried_with_exponential_backoff(script: Callable[..., Scripted]) -> None:
    s = script([error(503, "UNAVAILABLE"), error(502, "BAD_GATEWAY"), ok({"workspaces": []})])
    assert s.run(lambda c: c.workspaces.list()) == {"workspaces": []}
    assert [r.method for r in s.requests] == ["GET"] * 3
    first, second = s.sleeps
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0


def test_5xx_on_get_honours_retry_after(script: Callable[..., Scripted]) -> None:
    s = script([error(503, "UNAVAILABLE", {"Retry-After": "1.5"}), ok()])
    s.run(lambda c: c.workspaces.get(WS))
    assert s.sleeps == [1.5]


def test_503_on_post_is_not_retried(script: Callable[..., Scripted]) -> None:
    s = script(lambda r: error(503, "UNAVAILABLE"))
    with pytest.raises(ServerError) as info:
        s.run(execute)
    assert info.value.status == 503 and len(s.requests) == 1 and s.sleeps == []


def test_500_on_delete_is_retried_then_raised(script: Callable[..., Scripted]) -> None:
    s = script(lambda r: error(500, "INTERNAL_ERROR"), max_retries=1)
    with pytest.raises(ServerError) as info:
        s.run(lambda c: c.workspaces.delete(WS))
    assert info.value.code == "INTERNAL_ERROR" and len(s.requests) == 2


def test_max_retries_zero_never_retries(script: Callable[..., Scripted]) -> None:
    s = script(lambda r: error(429, "RATE_LIMITED", {"Retry-After": "1"}), max_retries=0)
    with pytest.raises(RateLimitError):
        s.run(execute)
    assert len(s.requests) == 1 and s.sleeps == []


def test_with_options_changes_retries_and_shares_the_connection(
    script: Callable[..., Scripted],
) -> None:
    s = script(lambda r: error(503, "UNAVAILABLE"), max_retries=5)
    fewer = s.client.with_options(max_retries=1)
    assert fewer._http is s.client._http and fewer.max_retries == 1
    assert s.client.max_retries == 5
    fewer._sleep = s.client._sleep
    with pytest.raises(ServerError):
        s.run(lambda c: fewer.workspaces.list())
    assert len(s.requests) == 2


def test_connect_error_is_retried_even_for_post(script: Callable[..., Scripted]) -> None:
    calls = iter([httpx.ConnectError("refused"), None])

    def handler(request: httpx.Request) -> httpx.Response:
        failure = next(calls)
        if failure is not None:
            raise failure
        return ok(EXECUTED)

    s = script(handler)
    assert s.run(execute)["success"] is True
    assert len(s.requests) == 2 and len(s.sleeps) == 1


def test_read_timeout_on_post_is_not_retried(script: Callable[..., Scripted]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    s = script(handler)
    with pytest.raises(APITimeoutError) as info:
        s.run(execute)
    assert info.value.status is None and isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert isinstance(info.value, APIConnectionError) and len(s.requests) == 1


def test_network_error_on_get_is_retried_then_raised(script: Callable[..., Scripted]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset", request=request)

    s = script(handler, max_retries=2)
    with pytest.raises(APIConnectionError) as info:
        s.run(lambda c: c.workspaces.list())
    assert not isinstance(info.value, APITimeoutError)
    assert len(s.requests) == 3 and len(s.sleeps) == 2


def test_real_connection_refused_is_an_api_connection_error(mode: str) -> None:
    cls = Cubby if mode == "sync" else AsyncCubby
    client = cls(api_key="k", base_url="http://127.0.0.1:9", max_retries=0, timeout=2)

    async def go() -> Any:
        return await aw(client.workspaces.list())

    with pytest.raises(APIConnectionError):
        asyncio.run(go())


def test_retry_policy_backoff_and_jitter() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_delay=8.0)
    for attempt, full in enumerate([0.5, 1, 2, 4, 8, 8]):
        delays = [policy.delay(attempt, None) for _ in range(50)]
        assert all(0.75 * full <= d <= full for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "ACTION_FAILED", BadRequestError),
        (400, "INVALID_JSON", BadRequestError),
        (401, "UNAUTHENTICATED", AuthenticationError),
        (403, "SCOPE_DENIED", PermissionDeniedError),
        (404, "NOT_FOUND", NotFoundError),
        (405, "METHOD_NOT_ALLOWED", APIStatusError),
        (409, "SLUG_EXISTS", ConflictError),
        (413, "PAYLOAD_TOO_LARGE", PayloadTooLargeError),
        (429, "RATE_LIMITED", RateLimitError),
        (500, "INTERNAL_ERROR", ServerError),
        (504, "GATEWAY_TIMEOUT", ServerError),
    ],
)
def test_status_maps_to_error_class(
    script: Callable[..., Scripted], status: int, code: str, cls: type[CubbyError]
) -> None:
    s = script(lambda r: error(status, code), max_retries=0)
    with pytest.raises(cls) as info:
        s.run(execute)
    err = info.value
    assert type(err) is cls and isinstance(err, APIStatusError)
    assert (err.status, err.code) == (status, code)
    assert err.message == f"{code.lower()} happened" and err.details == {"reason": "WHY"}
    assert err.reason == "WHY" and str(err) == f"{status} {code}: {code.lower()} happened"
    assert err.response.status_code == status


def test_non_json_error_body(script: Callable[..., Scripted]) -> None:
    s = script([httpx.Response(502, text="<html>bad gateway</html>")], max_retries=0)
    with pytest.raises(ServerError) as info:
        s.run(execute)
    assert info.value.code is None and info.value.details == {}
    assert "bad gateway" in info.value.message


def test_non_json_success_body_is_a_clear_error(script: Callable[..., Scripted]) -> None:
    s = script([httpx.Response(200, text="<html>a proxy login page</html>")])
    with pytest.raises(CubbyError, match="expected JSON"):
        s.run(lambda c: c.workspaces.list())


# -- configuration and wire shapes -------------------------------------------------------------


def test_headers_url_and_camel_case_body(script: Callable[..., Scripted]) -> None:
    s = script([ok({"integration": {}})], base_url="http://cubby.test/api/v1/")
    s.run(
        lambda c: c.workspaces.add_integration(
            WS,
            integration_name="storage",
            alias="files",
            display_name="Workspace Files",
            settings={"persistence": {"scope": "workspace"}},
            enabled_actions=("read_file",),
            sort_order=2,
        )
    )
    (request,) = s.requests
    assert str(request.url) == f"http://cubby.test/api/v1/workspaces/{WS}/integrations"
    assert request.headers["authorization"] == "Bearer cby_test"
    assert request.headers["user-agent"].startswith("cubby-client-python/")
    assert request.headers["content-type"] == "application/json"
    assert s.bodies() == [
        {
            "integrationName": "storage",
            "alias": "files",
            "displayName": "Workspace Files",
            "settings": {"persistence": {"scope": "workspace"}},
            "enabledActions": ["read_file"],
            "sortOrder": 2,
        }
    ]


def test_execute_body_sends_only_given_fields(script: Callable[..., Scripted]) -> None:
    s = script([ok(EXECUTED), ok(EXECUTED)])
    s.run(lambda c: c.actions.execute("kv-store", "get", workspace_id=WS))
    s.run(
        lambda c: c.actions.execute(
            "storage",
            "read_file",
            workspace_id=WS,
            input={"path": "a"},
            integration_alias="files",
            workspace_integration_id="wi",
            end_user_id="u1",
            idempotency_key="idem",
            partial_ids=["p"],
            connection_external_id="ext",
        )
    )
    assert s.bodies() == [
        {"integrationName": "kv-store", "actionName": "get", "workspaceId": WS, "input": {}},
        {
            "integrationName": "storage",
            "actionName": "read_file",
            "workspaceId": WS,
            "input": {"path": "a"},
            "integrationAlias": "files",
            "workspaceIntegrationId": "wi",
            "endUserId": "u1",
            "idempotencyKey": "idem",
            "partialIds": ["p"],
            "connectionExternalId": "ext",
        },
    ]


def test_ids_are_escaped_in_paths(script: Callable[..., Scripted]) -> None:
    s = script([ok()])
    s.run(lambda c: c.workspaces.get("../api-keys"))
    assert s.requests[0].url.raw_path == b"/api/v1/workspaces/..%2Fapi-keys"


def test_environment_configures_the_client(
    monkeypatch: pytest.MonkeyPatch, script: Callable[..., Scripted]
) -> None:
    monkeypatch.setenv("CUBBY_API_KEY", "cby_from_env")
    monkeypatch.setenv("CUBBY_BASE_URL", "https://files.example.test:8443/")
    s = script([ok()], api_key=None, base_url=None)
    assert s.client.base_url == "https://files.example.test:8443"
    s.run(lambda c: c.workspaces.list(limit=5))
    assert str(s.requests[0].url) == "https://files.example.test:8443/api/v1/workspaces?limit=5"
    assert s.requests[0].headers["authorization"] == "Bearer cby_from_env"
    monkeypatch.delenv("CUBBY_BASE_URL")
    assert Cubby().base_url == "http://127.0.0.1:8080"


def test_timeout_applies_per_request(script: Callable[..., Scripted]) -> None:
    s = script([ok(), ok()], timeout=7.5)
    s.run(lambda c: c.workspaces.list())
    assert s.requests[0].extensions["timeout"]["read"] == 7.5
    s.run(lambda c: c.with_options(timeout=httpx.Timeout(1.0, connect=2.0)).workspaces.list())
    assert s.requests[1].extensions["timeout"]["connect"] == 2.0


def test_bad_options_are_rejected() -> None:
    with pytest.raises(CubbyError, match="http"):
        Cubby(api_key="k", base_url="ftp://x")
    with pytest.raises(CubbyError, match="max_retries"):
        AsyncCubby(api_key="k", max_retries=-1)


def test_own_http_client_is_closed_injected_one_is_not() -> None:
    injected = httpx.Client()
    with Cubby(api_key="k", http_client=injected):
        pass
    assert not injected.is_closed
    injected.close()
    with Cubby(api_key="k") as own:
        pass
    assert own._http.is_closed

    async def go() -> None:
        injected_async = httpx.AsyncClient()
        async with AsyncCubby(api_key="k", http_client=injected_async):
            pass
        assert not injected_async.is_closed
        await injected_async.aclose()
        async with AsyncCubby(api_key="k") as own_async:
            pass
        assert own_async._http.is_closed

    asyncio.run(go())


# -- the storage and kv layer on the wire ------------------------------------------------------


def outputs(*items: Any) -> Iterator[httpx.Response]:
    for item in items:
        yield ok({"success": True, "output": item, "duration": 1})


def test_storage_layer_wire_shapes(script: Callable[..., Scripted]) -> None:
    info = {"path": "a.bin", "size": 3, "contentType": "x/y", "etag": "e", "updatedAt": "t"}
    s = script(
        list(
            outputs(
                info,
                info,
                {
                    "path": "a.bin",
                    "content": base64.b64encode(b"\x00\xff").decode(),
                    "encoding": "base64",
                },
                {"path": "t.txt", "content": "héllo", "encoding": "utf8"},
                {"files": [info, info], "nextCursor": "c1"},
                {"files": [info], "nextCursor": None},
                {"path": "a.bin", "deleted": True},
                {"url": "http://cubby.test/dl/xyz", "expiresAt": "t"},
            )
        )
    )
    files = s.client.storage(WS, end_user_id="u1")
    assert "alias='files'" in repr(files)
    assert s.run(lambda c: files.write("a.bin", b"\x00\xff", content_type="x/y")) == info
    s.run(lambda c: files.write("t.txt", "héllo"))
    assert s.run(lambda c: files.read("a.bin")) == b"\x00\xff"
    assert s.run(lambda c: files.read_text("t.txt")) == "héllo"
    assert s.run(lambda c: collect(files.list("a", page_size=2))) == [info, info, info]
    assert s.run(lambda c: files.delete("a.bin")) is True
    assert s.run(lambda c: files.download_url("a.bin", expires_in=60)) == "http://cubby.test/dl/xyz"

    common = {"integrationName": "storage", "workspaceId": WS, "integrationAlias": "files",
              "endUserId": "u1"}  # fmt: skip
    bodies = s.bodies()
    assert all(b.items() >= common.items() for b in bodies)
    actions_and_inputs = [(b["actionName"], b["input"]) for b in bodies]
    assert actions_and_inputs == [
        ("write_file", {"path": "a.bin", "content": "AP8=", "contentEncoding": "base64",
                        "contentType": "x/y"}),
        ("write_file", {"path": "t.txt", "content": "héllo"}),
        ("read_file", {"path": "a.bin", "outputEncoding": "base64"}),
        ("read_file", {"path": "t.txt", "outputEncoding": "utf8"}),
        ("list_files", {"prefix": "a", "limit": 2}),
        ("list_files", {"prefix": "a", "limit": 2, "cursor": "c1"}),
        ("delete_file", {"path": "a.bin"}),
        ("get_download_url", {"path": "a.bin", "expiresInSeconds": 60}),
    ]  # fmt: skip


def test_storage_write_rejects_other_types(script: Callable[..., Scripted]) -> None:
    s = script([])
    with pytest.raises(TypeError, match="str or bytes"):
        s.run(lambda c: c.storage(WS).write("a", 42))  # type: ignore[arg-type]
    assert s.requests == []


def test_kv_layer_wire_shapes(script: Callable[..., Scripted]) -> None:
    s = script(
        list(
            outputs(
                {"key": "k", "value": None},
                {"key": "k", "value": [1]},
                {"key": "k", "value": [1], "version": 4, "expiresAt": None},
                {"key": "k", "deleted": False},
                {"key": "l", "length": 3, "version": 3},
                {"key": "l", "removed": 2, "length": 1},
                {"key": "n", "value": 2.5, "version": 2},
                {"key": "k", "value": 1, "version": 5, "expiresAt": "2030-01-01T00:00:00.000Z"},
                {"keys": [{"key": "a"}], "nextCursor": "c1"},
                {"keys": [{"key": "b"}], "nextCursor": None},
            )
        )
    )
    kv = s.client.kv(WS, alias=None)
    assert s.run(lambda c: kv.get("k", default="dflt")) == "dflt"
    assert s.run(lambda c: kv.get("k")) == [1]
    assert s.run(lambda c: kv.put("k", [1])) == 4
    assert s.run(lambda c: kv.delete("k")) is False
    assert s.run(lambda c: kv.append("l", {"a": 1}, expires_in=60)) == 3
    assert s.run(lambda c: kv.remove("l", {"a": 1})) == 2
    assert s.run(lambda c: kv.increment("n", by=0.5)) == 2.5
    assert s.run(lambda c: kv.put("k", 1, expires_in=60, if_version=4)) == 5
    assert s.run(lambda c: collect(kv.keys("", page_size=1))) == [{"key": "a"}, {"key": "b"}]
    bodies = s.bodies()
    assert all("integrationAlias" not in b and "endUserId" not in b for b in bodies)
    assert [(b["actionName"], b["input"]) for b in bodies] == [
        ("get", {"key": "k"}),
        ("get", {"key": "k"}),
        ("put", {"key": "k", "value": [1]}),
        ("delete", {"key": "k"}),
        ("add_to_list", {"key": "l", "value": {"a": 1}, "expiresInSeconds": 60}),
        ("remove_from_list", {"key": "l", "value": {"a": 1}}),
        ("increment", {"key": "n", "by": 0.5}),
        ("put", {"key": "k", "value": 1, "expiresInSeconds": 60, "ifVersion": 4}),
        ("list_keys", {"limit": 1}),
        ("list_keys", {"limit": 1, "cursor": "c1"}),
    ]
