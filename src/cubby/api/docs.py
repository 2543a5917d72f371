"""``/docs``: a readable API reference made from the OpenAPI document (so it shows what the
declarations say, nothing else), with no external assets.

Every operation with its parameters, a request example and a response example (from the
schemas, :mod:`cubby.api.examples`), every action with its inputs, every error code with its
status and meaning, and every other route of the app with its handler's docstring. The
dashboard's pages are summarised in one line (:func:`dashboard_route` says which they are).
Descriptions are Markdown, rendered here (raw HTML in them is escaped).
"""

from __future__ import annotations

import html
import inspect
import json
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any

from markdown_it import MarkdownIt
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from cubby.api import action_examples
from cubby.api.examples import example, resolve
from cubby.core.fields import MEANINGS, NO_NUL
from cubby.core.validators import INT64_MAX, INT64_MIN
from cubby.errors import ErrorCode, NotFound

_md = MarkdownIt("commonmark", {"html": False})
_EXECUTE = "Execute."


def md(text: str) -> str:
    """Markdown as HTML (block level)."""
    return str(_md.render(text or ""))


def md_inline(text: str) -> str:
    return str(_md.renderInline(text or ""))


def dashboard_route(route: BaseRoute) -> bool:
    """The dashboard's HTML pages and static files: routes served by the ``cubby.web``
    package (its handlers, and its ``/static`` mount). They are for browsers, not clients."""
    if isinstance(route, Mount):
        app = route.app
        return type(app).__module__.startswith("starlette.staticfiles") or getattr(
            app, "__module__", ""
        ).startswith("cubby.web")
    endpoint = getattr(route, "endpoint", None)
    return bool(getattr(endpoint, "__module__", "").startswith("cubby.web"))


def _e(text: object) -> str:
    return html.escape(str(text))


def _pre(value: Any) -> str:
    return f"<pre>{_e(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _type_name(schema: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[1])
    for word in ("anyOf", "oneOf"):
        if word in schema:
            names = [_type_name(s, components) for s in schema[word]]
            return " | ".join(n for n in names if n != "null") + (
                " | null" if "null" in names else ""
            )
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type_name(schema.get('items', {}), components)}"
    if isinstance(kind, list):
        return " | ".join(kind)
    return str(kind or "any JSON")


def _field_doc(schema: dict[str, Any]) -> str:
    """The field's description and the rules its schema states, in words."""
    text = ""
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("description"):
            text = str(option["description"])
            break
    rules = _rules(schema)
    if rules:
        text = f"{text.rstrip('.')}. {rules}" if text else rules[0].upper() + rules[1:]
    return text


def _rules(schema: dict[str, Any]) -> str:
    """``at most 200 characters; must not be blank or contain control characters``."""
    out: list[str] = []
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("minLength", 0) > 1:
            out.append(f"at least {option['minLength']} characters")
        elif option.get("minLength") == 1 and "pattern" not in option:
            out.append("not empty")
        if "maxLength" in option:
            out.append(f"at most {option['maxLength']} characters")
        pattern = option.get("pattern")
        if pattern and pattern != NO_NUL:  # every text refuses NUL: said once, under Errors
            out.append(MEANINGS.get(pattern, f"matches `{pattern}`"))
        low, high = option.get("minimum"), option.get("maximum")
        if low is not None and low > INT64_MIN:
            out.append(f"at least {low}")
        if high is not None and high < INT64_MAX:
            out.append(f"at most {high}")
        if option.get("format") == "date-time":
            out.append("an ISO-8601 time")
        if option.get("minItems"):
            out.append(f"at least {option['minItems']} item(s)")
    return "; ".join(dict.fromkeys(out))


def _fields_table(schema: dict[str, Any], components: dict[str, Any]) -> str:
    schema = resolve(schema, components)
    props = schema.get("properties", {})
    if not props:
        return "<p>No fields.</p>"
    required = set(schema.get("required", ()))
    rows = []
    for name, sub in props.items():
        default = ""
        if "default" in sub and sub["default"] is not None:
            default = f" (default <code>{_e(json.dumps(sub['default']))}</code>)"
        rows.append(
            f"<tr><td><code>{_e(name)}</code></td><td>{_e(_type_name(sub, components))}</td>"
            f"<td>{'yes' if name in required else 'no'}</td>"
            f"<td>{md_inline(_field_doc(sub))}{default}</td></tr>"
        )
    return (
        "<table><tr><th>field</th><th>type</th><th>required</th><th>meaning</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _operation(
    path: str,
    method: str,
    op: dict[str, Any],
    components: dict[str, Any],
    codes: dict[int, list[str]],
) -> str:
    anchor = _slug(f"{method} {path}")
    parts = [
        f"<section class='op' id='{anchor}'><h3><code>{method.upper()}</code> "
        f"<code>{_e(path)}</code></h3><p>{md_inline(op.get('summary', ''))}"
        + (" <small>(API key)</small>" if op.get("security") else " <small>(no API key)</small>")
        + "</p>",
        md(op.get("description", "")),
    ]
    params = op.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
            f"<td>{_e(_type_name(p.get('schema', {}), components))}</td>"
            f"<td>{'required. ' if p.get('required') else ''}"
            f"{md_inline(_field_doc({**p.get('schema', {}), 'description': p.get('description')}))}"
            "</td></tr>"
            for p in params
        )
        parts.append(
            "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th>"
            f"<th>meaning</th></tr>{rows}</table>"
        )
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    sent: Any = None
    if body is not None:
        schema = body["schema"]
        if schema.get("$ref", "").endswith("ByAction"):
            parts.append(
                "<h4>Request body</h4><p>One of the <a href='#actions'>actions</a>, e.g.:</p>"
            )
            first = resolve(schema, components).get("oneOf", [{}])[0]
            sent = example(first, components, all_fields=False)
            parts.append(_pre(sent))
        else:
            sent = example(schema, components, all_fields=False)
            parts.append("<h4>Request body</h4>" + _fields_table(schema, components))
            parts.append("<p>Example:</p>" + _pre(sent))
    parts.append(_try_it(path, method, op, sent))
    for status, response in op.get("responses", {}).items():
        if status[0] not in "23":
            continue
        parts.append(
            f"<h4>Response {status}</h4><p>{md_inline(response.get('description', ''))}</p>"
        )
        for media, content in response.get("content", {}).items():
            schema = content.get("schema", {})
            if media == "application/json" and schema:
                parts.append(_pre(example(schema, components)))
            else:
                parts.append(f"<p>Content type <code>{_e(media)}</code>.</p>")
    errors = [s for s in op.get("responses", {}) if s[0] in "45"]
    if errors:
        items = []
        for status in errors:
            response = op["responses"][status]
            known = response.get("x-codes") or codes.get(int(status), [])
            text = ", ".join(f"<a href='#error-{c}'>{c}</a>" for c in known) or md_inline(
                response.get("description", "")
            )
            retry = (
                " (with <code>Retry-After</code>)"
                if "Retry-After" in response.get("headers", {})
                else ""
            )
            items.append(f"<li><code>{status}</code> {text}{retry}</li>")
        parts.append(f"<h4>Errors</h4><ul class='errors'>{''.join(items)}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _shell_var(name: str) -> str:
    return "".join(f"_{c}" if c.isupper() else c.upper() for c in name)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _try_it(path: str, method: str, op: dict[str, Any], sent: Any) -> str:
    """A curl command and the Python SDK's call for this operation (path parameters and
    required query parameters as variables, the request example as the body)."""
    params = op.get("parameters", [])
    required = [p["name"] for p in params if p["in"] == "query" and p.get("required")]
    curl_path = re.sub(r"{(\w+)}", lambda m: "$" + _shell_var(m.group(1)), path)
    curl_query = "&".join(f"{q}=${_shell_var(q)}" for q in required)
    url = f"$CUBBY_BASE_URL{curl_path}" + (f"?{curl_query}" if curl_query else "")
    curl = [("curl" if method == "get" else f"curl -X {method.upper()}") + f' "{url}"']
    if op.get("security"):
        curl.append('-H "Authorization: Bearer $CUBBY_API_KEY"')
    if sent is not None:
        curl += ["-H 'Content-Type: application/json'", "-d '" + json.dumps(sent) + "'"]
    out = "<p>curl:</p>" + _code_block(_CONTINUED.join(curl))
    if not op.get("security"):
        return out
    py_path = re.sub(r"{(\w+)}", lambda m: "{" + _snake(m.group(1)) + "}", path)
    args = [f'"{method.upper()}"', ("f" if "{" in py_path else "") + f'"{py_path}"']
    if required:
        args.append("params={" + ", ".join(f'"{q}": {_snake(q)}' for q in required) + "}")
    if sent is not None:
        args.append("json=" + _python_literal(sent))
    lines = ["from cubby_client import Cubby", "", "client = Cubby()"]
    lines.append(f"client.request({', '.join(args)})")
    return out + "<p>Python SDK:</p>" + _code_block("\n".join(lines))


_CONTINUED = " \\\n  "  # a shell line continuation


def _code_block(text: str) -> str:
    return f"<pre>{_e(text)}</pre>"


def _python_literal(value: Any) -> str:
    """``value`` as Python source (JSON's true/false/null spelled the Python way)."""
    text = json.dumps(value, ensure_ascii=False)
    return re.sub(r'("(?:[^"\\]|\\.)*")|\b(true|false|null)\b', _py_word, text)


def _py_word(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    return {"true": "True", "false": "False", "null": "None"}[match.group(2)]


def _actions(components: dict[str, Any]) -> str:
    recorded = action_examples.load()
    out = []
    current = None
    for name, variant in components.items():
        if not name.startswith(_EXECUTE):
            continue
        integration = variant["properties"]["integrationName"]["const"]
        action = variant["properties"]["actionName"]["const"]
        if integration != current:
            current = integration
            info = variant.get("x-integration", {})
            title = info.get("displayName", integration)
            out.append(
                f"<h3 id='integration-{_e(integration)}'>{_e(title)} "
                f"(<code>{_e(integration)}</code>)</h3>{md(info.get('description', ''))}"
            )
        request = action_examples.request_for(variant, components)
        output = variant.get("x-output")
        out.append(
            f"<section class='action' id='action-{_e(integration)}-{_e(action)}'>"
            f"<h4><code>{_e(integration)}</code> / <code>{_e(action)}</code></h4>"
            f"{md(variant.get('description', ''))}"
            f"<p>Input:</p>{_fields_table(variant['properties']['input'], components)}"
            f"<p>Request (<code>POST /api/v1/actions/execute</code>):</p>{_pre(request)}"
        )
        seen = recorded.get(f"{integration}/{action}")
        if seen is not None and seen["request"] == request:  # the answer of a real run
            out.append(f"<p>Response ({seen['status']}):</p>{_pre(seen['response'])}")
        elif output is not None:
            answer = {"success": True, "output": example(output, components), "duration": 1.8}
            out.append(f"<p>Response (the shape; values made up):</p>{_pre(answer)}")
        out.append("</section>")
    return "".join(out)


def _action_names(components: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (v["properties"]["integrationName"]["const"], v["properties"]["actionName"]["const"])
        for name, v in components.items()
        if name.startswith(_EXECUTE)
    ]


def _errors_table(catalog: list[ErrorCode]) -> str:
    rows = "".join(
        f"<tr id='error-{_e(e.code)}'><td><code>{_e(e.code)}</code></td><td>{e.status}</td>"
        f"<td>{md_inline(e.meaning)}</td></tr>"
        for e in catalog
    )
    return (
        '<p>Every error answer is <code>{"error": "&lt;message&gt;", "code": '
        '"&lt;CODE&gt;", "details": {...}}</code> with a JSON content type.</p>'
        f"<table><tr><th>code</th><th>status</th><th>meaning</th></tr>{rows}</table>"
    )


def _route_doc(route: BaseRoute) -> str:
    endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
    doc = inspect.getdoc(endpoint) or ""
    if not doc:
        module = inspect.getmodule(endpoint)
        doc = (inspect.getdoc(module) or "") if module is not None else ""
    return doc.split("\n\n")[0]


def _other_routes(routes: Iterable[BaseRoute], documented: set[str]) -> str:
    rows = []
    dashboard = False
    for route in routes:
        if dashboard_route(route):
            dashboard = True
            continue
        path = getattr(route, "path", "")
        if path in documented:
            continue
        methods = sorted(getattr(route, "methods", None) or ["any"])
        rows.append(
            f"<tr><td><code>{_e(' '.join(methods))}</code></td><td><code>{_e(path)}"
            f"</code></td><td>{md_inline(_route_doc(route))}</td></tr>"
        )
    out = ""
    if dashboard:
        out += (
            "<p>The dashboard (HTML pages for people) is at <a href='/'>/</a>; sign in "
            "with an API key. Its pages live under <code>/ui/</code>.</p>"
        )
    if rows:
        out += (
            "<table><tr><th>methods</th><th>path</th><th>what</th></tr>"
            + "".join(rows)
            + "</table>"
        )
    return out


_ASSETS = resources.files("cubby.api") / "docs_assets"
_ASSET_TYPES = {"docs.css": "text/css", "docs.js": "text/javascript"}
# /docs runs no inline script or style: its CSS and JS are these two files.
CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


async def docs_asset(request: Request) -> Response:
    """The stylesheet and the sidebar search script of /docs (no CDN, no inline code)."""
    name = request.path_params["name"]
    if name not in _ASSET_TYPES:
        raise NotFound("no such /docs asset", details={"name": name})
    return Response(
        (_ASSETS / name).read_bytes(),
        media_type=_ASSET_TYPES[name],
        headers={"cache-control": "public, max-age=3600", "x-content-type-options": "nosniff"},
    )


ROUTES = [Route("/docs/assets/{name}", docs_asset, methods=["GET"])]


def render_docs(
    doc: dict[str, Any], routes: Iterable[BaseRoute] = (), catalog: list[ErrorCode] | None = None
) -> str:
    from cubby.errors import catalog as error_catalog

    codes_list = catalog if catalog is not None else error_catalog()
    codes: dict[int, list[str]] = {}
    for e in codes_list:
        codes.setdefault(e.status, []).append(e.code)
    components = doc["components"]["schemas"]
    by_tag: dict[str, list[str]] = {}
    nav: dict[str, list[str]] = {}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            tag = (op.get("tags") or ["Other"])[0]
            by_tag.setdefault(tag, []).append(_operation(path, method, op, components, codes))
            words = f"{method} {path} {op.get('summary', '')} {tag}".lower()
            nav.setdefault(tag, []).append(
                f"<li data-text='{_e(words)}'><a href='#{_slug(f'{method} {path}')}'>"
                f"<code>{method.upper()}</code> {_e(path)}</a></li>"
            )
    nav_html = "".join(
        f"<li class='group'>{_e(tag)}<ul>{''.join(items)}</ul></li>" for tag, items in nav.items()
    )
    routes_html = "".join(
        f"<h2 id='tag-{_slug(tag)}'>{_e(tag)}</h2>{''.join(ops)}" for tag, ops in by_tag.items()
    )
    info = doc["info"]
    title = f"{_e(info['title'])} API"
    actions_nav = "".join(
        f"<li data-text='{_e(f'{i} {a} action')}'><a href='#action-{_e(i)}-{_e(a)}'>"
        f"<code>{_e(i)}</code> {_e(a)}</a></li>"
        for i, a in _action_names(components)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/docs/assets/docs.css"></head><body>
<aside id="sidebar"><a class="back" href="/">&larr; Dashboard</a>
<input id="search" type="search" placeholder="Search routes and actions" aria-label="Search">
<nav aria-label="Contents"><ul>
<li data-text="authentication api key bearer"><a href="#auth">Authentication</a></li>
<li data-text="error codes status"><a href="#errors">Error codes</a></li>
<li data-text="other routes"><a href="#other-routes">Other routes</a></li>
<li class="group"><a href="#actions">Actions</a><ul>{actions_nav}</ul></li>
{nav_html}</ul></nav></aside>
<main>
<h1>{title} <small>{_e(info["version"])}</small></h1>
{md(info.get("description", ""))}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Liveness:
<a href="/health">/health</a>. The <a href="/">dashboard</a>'s playground runs any action.</p>
<h2 id="auth">Authentication</h2>
<p>Every <code>/api/v1</code> route needs <code>Authorization: Bearer &lt;API key&gt;</code>.
The first <code>cubby serve</code> on a new data dir prints an organisation-wide key once;
make more with <code>cubby api-keys create --name NAME</code> (add <code>--workspace ID</code>
to restrict one) or <code>POST /api/v1/api-keys</code>. <code>cubby init</code> makes a
workspace with the <code>files</code> and <code>state</code> integrations and a key for it.
The examples below read the server's URL and a key from <code>CUBBY_BASE_URL</code> and
<code>CUBBY_API_KEY</code>; the Python ones use the SDK (<code>pip install
cubby-client</code>, <code>client = Cubby()</code> reads the same two variables).</p>
<h2 id="actions">Actions</h2>
<p>Run one with <code>POST /api/v1/actions/execute</code>. The answer is
<code>{{"success": true, "output": ..., "duration": ms}}</code>.</p>
{_actions(components)}
<h2 id="errors">Error codes</h2>
{_errors_table(codes_list)}
{routes_html}
<h2 id="other-routes">Other routes</h2>
{_other_routes(routes, set(doc["paths"]))}
</main>
<script src="/docs/assets/docs.js"></script>
</body></html>"""
