"""``tools/call`` and ``tools/list`` answered directly, without the package's transport.

The official ``mcp`` package serves a stateless request by building a transport, a dispatcher,
a task, memory streams, a session and a request context for it: several times the cost of the
tool call itself. This module answers the two methods agents send all day straight from the
endpoint, for both protocol forms the official clients send:

- the 2025 form: no ``MCP-Protocol-Version`` header, or one of the handshake-era versions;
- the 2026-07-28 per-request form: that version in the header and in ``params._meta``, with
  the ``Mcp-Method`` / ``Mcp-Name`` routing headers.

It gives exactly the package's answers because it runs the package's own steps for everything
that shapes an answer: the same JSON decoder per form, the same envelope, per-version request
validation (:func:`mcp_types.methods.validate_client_request`) and params models, the
per-request classification of the 2026 form (:func:`classify_inbound_request`), the same
result shaping (the server runner's per-version serializer, ``resultType`` and ``serverInfo``
stamp) and the same JSON encoders and headers. What it skips is the per-request machinery.
Anything it does not recognise as a plain, valid request of those two methods (another method,
a notification, a batch, an unusual header or ``_meta``, a validation failure, a body over
64 KiB) goes to the package unchanged, its body replayed, so every error answer is the
package's own. ``tests/test_mcp_fast_path.py`` compares the two paths byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
import msgspec
import pydantic_core
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import ServerRunner
from mcp.shared.inbound import InboundModernRoute, classify_inbound_request
from mcp_types import DEFAULT_NEGOTIATED_VERSION, methods
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.types import Message, Receive, Scope, Send

from cubby.core.validators import DIGITS_AS_ZERO
from cubby.mcp.tools import ToolOutcome

MAX_FAST_BODY = 64 * 1024
METHODS = frozenset({"tools/call", "tools/list"})
ENVELOPE = frozenset({"jsonrpc", "id", "method", "params"})
ROUTING = (b"mcp-protocol-version", b"mcp-method", b"mcp-name")
_JSON = b"application/json"

ListTools = Callable[[], Awaitable[types.ListToolsResult]]
CallTool = Callable[[str, dict[str, Any] | None], Awaitable[ToolOutcome]]
SERVER_INFO = "io.modelcontextprotocol/serverInfo"


class _Request:
    """What the fast path read of one HTTP request."""

    __slots__ = ("accept", "content_type", "length", "params", "repeated", "routing", "version")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.accept: bytes | None = None
        self.content_type: bytes | None = None
        self.length: bytes | None = None
        self.routing: dict[str, str] = {}
        self.repeated = False
        self.params = False  # an Mcp-Param-* header
        for name, value in headers:
            if name == b"accept":
                self.accept = value
            elif name == b"content-type":
                self.content_type = value
            elif name == b"content-length":
                self.length = value
            elif name in ROUTING:
                key = name.decode()
                if key in self.routing:
                    self.repeated = True
                self.routing[key] = value.decode("latin-1")
            elif name.startswith(b"mcp-param-"):
                self.params = True
        self.version = self.routing.get("mcp-protocol-version")

    def plain_json(self) -> bool:
        """Content-Type exactly JSON and JSON acceptable: both checks of both forms pass."""
        if self.content_type is None or self.accept is None:
            return False
        if self.content_type.split(b";", 1)[0].strip().lower() != _JSON:
            return False
        kinds = [part.split(b";", 1)[0].strip().lower() for part in self.accept.split(b",")]
        return _JSON in kinds

    def small(self) -> bool:
        length = self.length
        return length is not None and length.isdigit() and int(length) <= MAX_FAST_BODY


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the package the body this module already read."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _read(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FAST_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _decode_modern(body: bytes) -> Any:
    """``json.loads(body)``, as the package decodes a 2026 request: msgspec first (the same
    value whenever it accepts the text: standard JSON in UTF-8), else the standard library
    (which also takes what msgspec refuses: NaN, lone surrogates, other encodings)."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return json.loads(body)


_META_KEYS = frozenset(
    {
        "io.modelcontextprotocol/protocolVersion",
        "io.modelcontextprotocol/clientInfo",
        "io.modelcontextprotocol/clientCapabilities",
    }
)


def plain_params(method: str, params: dict[str, Any] | None) -> bool:
    """Params of the shape clients send that every version's request model and the params
    model accept as they are (checked by a property test against the package): a string
    ``name`` and an object ``arguments`` for ``tools/call``, nothing for ``tools/list``, and a
    2026 ``_meta`` of the envelope keys only, with empty client capabilities and a client info
    of a string name and version. Anything else is validated by the package's models."""
    if params is None:
        return method == "tools/list"
    meta = params.get("_meta")
    if meta is not None and not _plain_meta(meta):
        return False
    if method == "tools/list":
        return params.keys() <= {"_meta"}
    if not params.keys() <= {"name", "arguments", "_meta"} or type(params.get("name")) is not str:
        return False
    arguments = params.get("arguments")
    return arguments is None or type(arguments) is dict


def _plain_meta(meta: Any) -> bool:
    if type(meta) is not dict or not meta.keys() <= _META_KEYS:
        return False
    if type(meta.get("io.modelcontextprotocol/protocolVersion")) is not str:
        return False
    if meta.get("io.modelcontextprotocol/clientCapabilities") != {}:
        return False
    info = meta.get("io.modelcontextprotocol/clientInfo")
    return info is None or (
        type(info) is dict
        and info.keys() == {"name", "version"}
        and type(info["name"]) is str
        and type(info["version"]) is str
    )


def _envelope(decoded: Any) -> tuple[Any, str, dict[str, Any] | None] | None:
    """(id, method, params) of a plain request of a fast method, else None."""
    if type(decoded) is not dict or not decoded.keys() <= ENVELOPE:
        return None
    if decoded.get("jsonrpc") != "2.0" or decoded.get("method") not in METHODS:
        return None
    request_id = decoded.get("id")
    if type(request_id) is int:
        if not -(2**63) <= request_id < 2**63:
            return None
    elif type(request_id) is not str:
        return None
    params = decoded.get("params")
    if params is not None and type(params) is not dict:
        return None
    return request_id, decoded["method"], params


class McpFastPath:
    """Answers plain ``tools/call`` and ``tools/list`` POSTs of an authenticated caller."""

    def __init__(self, server: Server[Any]) -> None:
        self.server = server
        # The per-version result shaping only reads the server (cache hints, serverInfo).
        self._runners: dict[str, ServerRunner[Any]] = {}
        # The serverInfo stamp of 2026 results (the package deep-copies it on every access;
        # here it is only ever encoded, never changed).
        self._stamp = server.server_info_stamp

    def _runner(self, version: str) -> ServerRunner[Any]:
        runner = self._runners.get(version)
        if runner is None:
            connection = Connection.from_envelope(version, None, None)
            runner = self._runners[version] = ServerRunner(self.server, connection, None)
        return runner

    async def answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        list_tools: ListTools,
        call_tool: CallTool,
    ) -> Receive | None:
        """None when answered; else the ``receive`` to give the package (body replayed)."""
        request = _Request(scope["headers"])
        version = request.version
        modern = version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS
        if modern and version not in MODERN_PROTOCOL_VERSIONS:
            return receive
        if request.repeated or request.params or not request.plain_json() or not request.small():
            return receive
        body = await _read(receive)
        if body is None:  # a disconnect, or more than declared: the package decides
            return _replay(b"", receive)
        fallback = _replay(body, receive)
        try:
            decoded = _decode_modern(body) if modern else pydantic_core.from_json(body)
        except (ValueError, RecursionError):
            return fallback
        envelope = _envelope(decoded)
        if envelope is None:
            return fallback
        request_id, method, params = envelope
        if modern:
            verdict = classify_inbound_request(decoded, headers=request.routing)
            if not isinstance(verdict, InboundModernRoute):
                return fallback
            version = verdict.protocol_version
        elif params is not None and "_meta" in params:
            return fallback  # progress tokens and the like: the package's business
        version = version or DEFAULT_NEGOTIATED_VERSION
        entry = self.server.get_request_handler(method)
        if entry is None:
            return fallback
        if plain_params(method, params):  # certainly valid: the package's checks would pass
            name, arguments = (params or {}).get("name"), (params or {}).get("arguments")
        else:
            try:
                methods.validate_client_request(method, version, params)
                typed = entry.params_type.model_validate({} if params is None else params,
                                                         by_name=False)  # fmt: skip
            except Exception:  # the package answers the invalid request with its own error
                return fallback
            name, arguments = getattr(typed, "name", None), getattr(typed, "arguments", None)
        if method == "tools/list":
            if params and set(params) - {"_meta"}:
                return fallback  # a cursor: the package's business
            try:
                listed = await list_tools()
                shaped = self._runner(version)._serialize(method, version, listed)
                finite = False  # schemas: not looked into
            except Exception:  # read-only: the package may run it again and answer its way
                return fallback
        else:
            assert isinstance(name, str)
            outcome = await call_tool(name, arguments)
            # a tool's own result is decoded from msgspec's JSON (tools.ok_outcome): no NaN
            finite = not outcome.is_error
            if self.server.cache_hints.get(method) is None:
                shaped = shape_call(version, outcome, self._stamp)
            else:  # a cache hint to apply: the package's own shaping
                shaped = self._runner(version)._serialize(method, version, outcome.to_mcp())
        payload = encode_reply(modern, request_id, shaped, finite)
        if modern:
            headers = [(b"content-length", str(len(payload)).encode()), (b"content-type", _JSON)]
        else:
            headers = [(b"content-type", _JSON), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
        return None


def shape_call(version: str, outcome: ToolOutcome, stamp: Any) -> dict[str, Any]:
    """The wire form of a ``tools/call`` result, as the package's runner shapes a
    ``CallToolResult`` of one text content (its per-version serializer: keys in the surface
    models' order, ``None`` fields left out, ``structuredContent`` as it is; the 2026 form adds
    ``resultType`` and the server's ``serverInfo`` stamp). tests/test_mcp_fast_path.py checks
    it against the runner on random results for every protocol version."""
    result: dict[str, Any] = {
        "content": [{"text": outcome.text, "type": "text"}],
        "isError": outcome.is_error,
    }
    modern = version in MODERN_PROTOCOL_VERSIONS
    if modern:
        result["resultType"] = "complete"
    if outcome.structured is not None:
        result["structuredContent"] = outcome.structured
    if modern:
        result["_meta"] = {SERVER_INFO: stamp}
    return result


def encode_reply(
    modern: bool, request_id: int | str, result: dict[str, Any], finite: bool = False
) -> bytes:
    """The JSON-RPC answer's bytes as the package writes them: for the 2025 form pydantic's
    JSON of the response model, for the 2026 form the standard library's compact JSON.
    ``finite``: the caller knows ``result`` holds no NaN or infinity (see _compact_json)."""
    if modern:
        return _compact_json({"jsonrpc": "2.0", "id": request_id, "result": result}, finite)
    return b'{"jsonrpc":"2.0","id":%s,"result":%s}' % (
        pydantic_core.to_json(request_id),
        pydantic_core.to_json(result),
    )


_STDLIB_COMPACT = json.JSONEncoder(separators=(",", ":"))  # what json.dumps(separators=) makes


def _compact_json(value: Any, finite: bool) -> bytes:
    """``json.dumps(value, separators=(",", ":")).encode()``. For a ``finite`` value (no NaN
    or infinity, which msgspec writes as ``null``) it is written by msgspec (several times
    faster) whenever its bytes are certainly the same. They differ only in (1) a
    character outside printable ASCII, which the standard library escapes (``\\u00e9``,
    ``\\u007f``; msgspec writes UTF-8 and DEL as they are, and escapes control characters
    exactly as the standard library does) and (2) a float's spelling in exponent form or below
    1e-4 (``1e+16`` / ``1e16``, ``1e-05`` / ``0.00001``): an exponent is a digit followed by
    ``e``, and msgspec's small floats start ``0.0000``. Anything else (strings, integers of any
    size, ``true``, ``null``, key order) is written alike. Output with any of those marks,
    even inside a string, is written by the standard library instead: slower, never wrong.
    tests/test_mcp_fast_path.py checks the two on random values."""
    fast = _msgspec_if_alike(value) if finite else None
    return fast if fast is not None else _STDLIB_COMPACT.encode(value).encode()


def _msgspec_if_alike(value: Any) -> bytes | None:
    """msgspec's JSON of ``value`` when it has none of the marks above, else None."""
    try:
        fast = msgspec.json.encode(value)
    except (TypeError, ValueError, UnicodeEncodeError):  # a lone surrogate, say
        return None
    if not fast.isascii() or b"\x7f" in fast:
        return None
    marks = fast.translate(DIGITS_AS_ZERO)
    if b"0e" in marks or b"0E" in marks or b".0000" in marks:
        return None
    return fast
