"""The MCP fast path (mcp/fast_path.py) answers byte for byte what the official package answers:
every request of a corpus (successes, tool errors, unknown tools, bad arguments, denied scopes,
end_user tools without an end user, malformed envelopes the fast path hands over, both protocol
forms) is sent with the fast path on and off, and status, Content-Type and body must match.
The other MCP tests (test_mcp*.py) run through the fast path, as any client does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import ServerRunner
from mcp_types import CallToolRequestParams, methods
from mcp_types.jsonrpc import JSONRPCResponse
from mcp_types.version import MODERN_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS
from starlette.testclient import TestClient

from cubby.mcp.endpoint import McpEndpoint
from cubby.mcp.fast_path import encode_reply, plain_params, shape_call
from cubby.mcp.tools import ToolOutcome
from tests.helpers import Api
from tests.mcp_client import SPEC, access_token, create_server

MODERN = "2026-07-28"
ACCEPT = "application/json, text/event-stream"
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


@dataclass
class Setup:
    api: Api
    client: TestClient
    endpoint: McpEndpoint
    ws: str
    tokens: dict[str, tuple[str, str]]  # name -> (token, path of its server's endpoint)


@pytest.fixture
def setup(api: Api, client: TestClient) -> Iterator[Setup]:
    ws = api.create_workspace("fast")
    api.add_integration(ws, "kv-store", "state", SPEC)
    api.add_integration(ws, "kv-store", "memory")  # end_user scope
    api.add_integration(ws, "storage", "files", SPEC)
    api.output("kv-store", "put", ws, {"key": "hot", "value": {"n": 1, "é": [1.5, None]}},
               integrationAlias="state")  # fmt: skip
    made = create_server(api, ws)
    sid, url = made["server"]["id"], path(made)
    restricted = create_server(api, ws, endUserAccess="restricted")
    tokens = {
        "static": (made["bearerToken"], url),
        "read": (access_token(api, sid, "alice", scopes=["read"]), url),
        "alice": (access_token(api, sid, "alice"), url),
        "restricted": (access_token(api, restricted["server"]["id"], "bob"), path(restricted)),
    }
    endpoint = next(r.endpoint for r in client.app.routes  # type: ignore[attr-defined]
                    if isinstance(getattr(r, "endpoint", None), McpEndpoint))  # fmt: skip
    yield Setup(api, client, endpoint, ws, tokens)


def path(made: dict[str, Any]) -> str:
    return "/mcp/" + str(made["mcpEndpoint"]).rsplit("/mcp/", 1)[1]


def call(name: str, arguments: Any = None, rid: Any = 7, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {**params, **extra}}


LIST = {"jsonrpc": "2.0", "id": "l-1", "method": "tools/list"}


def modern(body: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """The same request in the 2026-07-28 per-request form."""
    params = {**body.get("params", {}), "_meta": META}
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": body["method"]}
    if body["method"] == "tools/call":
        headers["Mcp-Name"] = str(params.get("name"))
    return headers, {**body, "params": params}


GET_HOT = call("state__get", {"key": "hot"})
PUT_X = call("state__put", {"key": "w", "value": "__X__"})  # __X__: raw JSON put in its place
# (label, token, extra headers, body: JSON-able or raw bytes); writes are undone between runs.
CORPUS: list[tuple[str, str, dict[str, str], Any]] = [
    ("list", "static", {}, LIST),
    ("list, params {}", "static", {}, {**LIST, "params": {}}),
    ("list, read scope", "read", {}, LIST),
    ("list, restricted", "restricted", {}, LIST),
    ("get", "static", {}, call("state__get", {"key": "hot"})),
    ("get, int id 0", "static", {}, call("state__get", {"key": "hot"}, rid=0)),
    ("get, string id", "static", {}, call("state__get", {"key": "hot"}, rid="abc")),
    ("get missing", "static", {}, call("state__get", {"key": "nope"})),
    ("get, no arguments", "static", {}, call("state__get")),
    ("put", "static", {}, call("state__put", {"key": "w", "value": [1, "x"]})),
    ("put, bad key type", "static", {}, call("state__put", {"key": 5, "value": 1})),
    ("put, unknown field", "static", {}, call("state__put", {"key": "k", "value": 1, "x": 2})),
    ("read_file missing", "static", {}, call("files__read_file", {"path": "no.txt"})),
    ("unknown tool", "static", {}, call("nope__nothing", {})),
    ("end_user tool, no end user", "static", {}, call("memory__get", {"key": "k"})),
    ("end_user tool, end user", "alice", {}, call("memory__get", {"key": "k"})),
    ("read scope denies put", "read", {}, call("state__put", {"key": "k", "value": 1})),
    ("restricted denies shared", "restricted", {}, call("state__get", {"key": "hot"})),
    ("arguments not an object", "static", {}, call("state__get", [1])),
    ("name not a string", "static", {}, call(5, {})),  # type: ignore[arg-type]
    ("no params", "static", {}, {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}),
    ("bool id", "static", {}, call("state__get", {"key": "hot"}, rid=True)),
    ("null id", "static", {}, call("state__get", {"key": "hot"}, rid=None)),
    ("float id", "static", {}, call("state__get", {"key": "hot"}, rid=1.5)),
    ("extra envelope key", "static", {}, {**call("state__get", {"key": "hot"}), "x": 1}),
    ("wrong jsonrpc", "static", {}, {**call("state__get", {"key": "hot"}), "jsonrpc": "1.0"}),
    ("notification", "static", {}, {"jsonrpc": "2.0", "method": "tools/list"}),
    ("batch", "static", {}, [LIST]),
    ("ping", "static", {}, {"jsonrpc": "2.0", "id": 3, "method": "ping"}),
    ("unknown method", "static", {}, {"jsonrpc": "2.0", "id": 3, "method": "nope/x"}),
    ("not JSON", "static", {}, b"{nope"),
    ("lone surrogate", "static", {}, b'{"jsonrpc":"2.0","id":1,"method":"tools/call",'
                                     b'"params":{"name":"state__get","arguments":{"key":"\\ud800"}}}'),
    ("big number", "static", {}, b'{"jsonrpc":"2.0","id":1,"method":"tools/call",'
                                 b'"params":{"name":"state__put","arguments":{"key":"w","value":1e400}}}'),
    ("list with cursor", "static", {}, {**LIST, "params": {"cursor": "x"}}),
    ("2025 version header", "static", {"MCP-Protocol-Version": "2025-06-18"},
     call("state__get", {"key": "hot"})),
    ("unknown version header", "static", {"MCP-Protocol-Version": "2099-01-01"},
     call("state__get", {"key": "hot"})),
    ("accept SSE only", "static", {"Accept": "text/event-stream"}, GET_HOT),
    ("accept wildcard", "static", {"Accept": "*/*"}, GET_HOT),
    ("text content type", "static", {"Content-Type": "text/plain"}, GET_HOT),
]  # fmt: skip
MODERN_ONLY: list[tuple[str, str, dict[str, str], Any]] = [
    ("modern, name header mismatch", "static",
     {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "other"},
     modern(GET_HOT)[1]),
    ("modern, no _meta", "static",
     {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}, LIST),
    ("modern, method header missing", "static", {"MCP-Protocol-Version": MODERN},
     {**LIST, "params": {"_meta": META}}),
    ("modern, mcp-param header", "static",
     {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "state__get",
      "Mcp-Param-Key": "hot"},
     modern(GET_HOT)[1]),
    *[(f"modern, {label}", "static", modern(PUT_X)[0],
       json.dumps(modern(PUT_X)[1]).encode().replace(b'"__X__"', raw))
      for label, raw in (("NaN", b"NaN"), ("lone surrogate", b'"\\ud800"'),
                         ("huge integer", b"1" * 40), ("1e400", b"1e400"))],
    ("modern, BOM", "static", modern(GET_HOT)[0],
     b"\xef\xbb\xbf" + json.dumps(modern(GET_HOT)[1]).encode()),
]  # fmt: skip


def cases() -> list[tuple[str, str, dict[str, str], Any]]:
    out = list(CORPUS)
    for label, token, headers, body in CORPUS:
        if isinstance(body, dict) and "method" in body and "id" in body and not headers:
            extra, moved = modern(body)
            out.append((f"{label} (2026 form)", token, extra, moved))
    return out + MODERN_ONLY


def send(setup: Setup, token: str, headers: dict[str, str], body: Any) -> tuple[int, str, bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    secret, url = setup.tokens[token]
    all_headers = {"Authorization": f"Bearer {secret}", "Accept": ACCEPT,
                   "Content-Type": "application/json", **headers}  # fmt: skip
    resp = setup.client.post(url, content=raw, headers=all_headers)
    return resp.status_code, resp.headers.get("content-type", ""), resp.content


def undo_writes(setup: Setup) -> None:
    setup.api.output("kv-store", "delete", setup.ws, {"key": "w"}, integrationAlias="state")


def test_the_fast_path_answers_what_the_package_answers(setup: Setup) -> None:
    fast = setup.endpoint.fast_path
    assert fast is not None
    mismatches = []
    for label, token, headers, body in cases():
        setup.endpoint.fast_path = fast
        got_fast = send(setup, token, headers, body)
        undo_writes(setup)
        setup.endpoint.fast_path = None
        got_package = send(setup, token, headers, body)
        undo_writes(setup)
        if got_fast != got_package:
            mismatches.append((label, got_fast, got_package))
    setup.endpoint.fast_path = fast
    report = (f"{label}:\n  fast    {fast}\n  package {package}"
              for label, fast, package in mismatches)  # fmt: skip
    assert not mismatches, "\n".join(report)


PLAIN = {"list", "get", "put", "unknown tool", "read scope denies put", "put, bad key type",
         "end_user tool, no end user", "restricted denies shared", "list, read scope"}  # fmt: skip


def test_the_fast_path_answers_the_plain_calls_itself(setup: Setup) -> None:
    """The corpus above would pass with a fast path that hands everything over: check it
    answers the plain calls of both forms (the package is not reached)."""
    assert setup.endpoint.manager is not None
    manager, setup.endpoint.manager = setup.endpoint.manager, None  # the package: unreachable

    class Gone:
        async def handle_request(self, *args: Any) -> None:
            raise AssertionError("reached the package")

    setup.endpoint.manager = Gone()  # type: ignore[assignment]
    try:
        for label, token, headers, body in cases():
            if label.split(" (")[0] in PLAIN:
                status, _, answer = send(setup, token, headers, body)
                assert status == 200, (label, answer)
                undo_writes(setup)
    finally:
        setup.endpoint.manager = manager


# -- the fast path's result shaping and encoding against the package's, on random results -----
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=15,
)  # fmt: skip
OUTCOMES = st.builds(
    ToolOutcome,
    st.text(max_size=40),
    st.none() | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5),
    st.booleans(),
)
IDS = st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10)


@settings(max_examples=300, deadline=None)
@given(outcome=OUTCOMES, request_id=IDS, version=st.sampled_from(SUPPORTED_PROTOCOL_VERSIONS))
def test_shaping_matches_the_package(outcome: ToolOutcome, request_id: int | str,
                                     version: str) -> None:  # fmt: skip
    server: Server[Any] = Server("cubby", version="9.9")
    runner = ServerRunner(server, Connection.from_envelope(version, None, None), None)
    expected = runner._serialize("tools/call", version, outcome.to_mcp())
    assert shape_call(version, outcome, server.server_info_stamp) == expected
    reply = JSONRPCResponse(jsonrpc="2.0", id=request_id, result=dict(expected))
    modern = version in MODERN_PROTOCOL_VERSIONS
    if modern:  # the package's per-request writer
        dumped = reply.model_dump(mode="json", by_alias=True, exclude_none=True)
        package = json.dumps(dumped, separators=(",", ":")).encode()
    else:  # the package's stateless transport
        package = reply.model_dump_json(by_alias=True, exclude_unset=True).encode()
    shaped = shape_call(version, outcome, server.server_info_stamp)
    assert encode_reply(modern, request_id, shaped) == package
    assert encode_reply(modern, request_id, shaped, finite=True) == package  # no NaN here


# Where msgspec and the standard library spell JSON differently, and what is near them.
AWKWARD_TEXT = st.text(
    st.characters(codec=None, exclude_categories=())  # every code point, lone surrogates too
    | st.sampled_from(["\x7f", "\x00", "\x1f", "\b", "\u2028", "e", "E", ".", "0", "1", "5"]),
    max_size=12,
)
AWKWARD_FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [1e16, 1e15, 1e-4, 1e-5, 9.99e-5, 2.5e-7, -0.0, 5e-324, 1.7976931348623157e308, 1e22]
)
AWKWARD_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | AWKWARD_FLOATS | AWKWARD_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(AWKWARD_TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None)
@given(value=AWKWARD_JSON)
def test_the_msgspec_written_2026_answer_is_the_standard_librarys(value: Any) -> None:
    """The 2026 answer is written by msgspec when its bytes are certainly the standard
    library's, else by the standard library: on any finite JSON value, the same bytes."""
    reply = {"jsonrpc": "2.0", "id": 7, "result": {"structuredContent": value}}
    package = json.dumps(reply, separators=(",", ":")).encode()
    result = {"structuredContent": value}
    assert encode_reply(True, 7, result, finite=True) == package


def test_a_lone_surrogate_in_arguments_is_a_validation_error(setup: Setup) -> None:
    """The 2026 form decodes ``"\\ud800"`` to a lone surrogate, which no JSON can carry on:
    a VALIDATION_ERROR tool result, not an INTERNAL_ERROR (it was one before)."""
    _, token, headers, body = next(c for c in cases() if c[0] == "modern, lone surrogate")
    status, _, answer = send(setup, token, headers, body)
    result = json.loads(answer)["result"]
    assert status == 200 and result["isError"] is True
    assert result["structuredContent"]["code"] == "VALIDATION_ERROR"


PLAIN_META = st.fixed_dictionaries(
    {"io.modelcontextprotocol/protocolVersion": st.just(MODERN),
     "io.modelcontextprotocol/clientCapabilities": st.just({})},
    optional={"io.modelcontextprotocol/clientInfo": st.none() | st.fixed_dictionaries(
        {"name": st.text(max_size=10), "version": st.text(max_size=10)})},
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(max_size=20),
    arguments=st.none() | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4),
    present=st.booleans(),
    meta=PLAIN_META,
    version=st.sampled_from(SUPPORTED_PROTOCOL_VERSIONS),
    method=st.sampled_from(["tools/call", "tools/list"]),
)
def test_plain_params_are_what_the_package_accepts(
    name: str, arguments: Any, present: bool, meta: Any, version: str, method: str
) -> None:
    """The params the fast path takes without the package's validation (plain_params) are
    always accepted by it, for every protocol version, with the same name and arguments."""
    params: dict[str, Any] = {}
    if method == "tools/call":
        params["name"] = name
        if present:
            params["arguments"] = arguments
    if version in MODERN_PROTOCOL_VERSIONS:
        params["_meta"] = {**meta, "io.modelcontextprotocol/protocolVersion": version}
    assert plain_params(method, params)
    methods.validate_client_request(method, version, params)
    entry = Server("cubby", on_call_tool=_never, on_list_tools=_never).get_request_handler(method)
    assert entry is not None
    typed = entry.params_type.model_validate(params, by_name=False)
    if method == "tools/call":
        assert isinstance(typed, CallToolRequestParams)
        assert (typed.name, typed.arguments) == (name, params.get("arguments"))


async def _never(*args: Any) -> Any:
    raise AssertionError("not called")
