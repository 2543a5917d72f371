"""``/docs`` and the OpenAPI document cover every route, action and error code by construction:
these tests enumerate the app's route table, the registry and ``cubby.errors``."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from cubby import errors
from cubby.api.docs import dashboard_route
from cubby.services import Services

SRC = Path(__file__).resolve().parent.parent / "src" / "cubby"
VOID = {"meta", "br", "hr", "img", "input", "link"}


def docs(client: TestClient) -> str:
    resp = client.get("/docs")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    return resp.text


def test_every_error_code_is_in_docs_and_the_openapi_enum(client: TestClient) -> None:
    page = docs(client)
    doc = client.get("/openapi.json").json()
    enum = doc["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
    catalog = errors.catalog()
    codes = {e.code for e in catalog}
    assert set(enum) == codes and len(enum) == len(codes)
    # codes raised ad hoc (code="X") anywhere outside the dashboard's HTML forms are listed too
    for path in SRC.rglob("*.py"):
        if "web" in path.relative_to(SRC).parts:
            continue
        for code in re.findall(r'\bcode="([A-Z][A-Z0-9_]+)"', path.read_text()):
            assert code in codes, f"{code} ({path.name}): add it to an error class's `also`"
    for entry in catalog:
        row = re.search(
            rf"<tr id='error-{entry.code}'><td><code>{entry.code}</code></td>"
            rf"<td>{entry.status}</td><td>(.+?)</td></tr>",
            page,
        )
        assert row, entry.code
        assert len(row.group(1)) > 10, entry  # a meaning, not a blank
    assert codes >= {
        "VALIDATION_ERROR",
        "UNAUTHENTICATED",
        "SLUG_EXISTS",
        "ALIAS_CONFLICT",
        "PAYLOAD_TOO_LARGE",
        "RANGE_NOT_SATISFIABLE",
        "INTERNAL_ERROR",
    }


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def test_every_route_of_the_app_is_in_docs(client: TestClient) -> None:
    page = docs(client)
    doc = client.get("/openapi.json").json()
    checked = 0
    for route in client.app.routes:  # type: ignore[attr-defined]
        if dashboard_route(route):  # the dashboard's HTML pages and static files
            continue
        assert isinstance(route, Route | Mount), route
        assert html.escape(route.path) in page, f"{route.path} is missing from /docs"
        item = doc["paths"].get(route.path)
        methods = sorted(getattr(route, "methods", None) or ())
        if item is not None:  # an API operation: its own section, per method
            for method in methods:
                if method == "HEAD" and "head" not in item:
                    continue  # Starlette adds HEAD to every GET route
                assert method.lower() in item, (method, route.path)
                assert f"id='{slug(f'{method.lower()} {route.path}')}'" in page
        else:  # listed under "Other routes" with its methods and what it is
            row = re.search(
                rf"<tr><td><code>([A-Z ]+|any)</code></td><td><code>"
                rf"{re.escape(html.escape(route.path))}</code></td><td>(.+?)</td>",
                page,
                re.S,
            )
            assert row and len(row.group(2)) > 10, route.path
        checked += 1
    assert checked >= 15
    assert "/downloads/{token}" in doc["paths"]  # the download route is an API operation
    assert {"get", "head"} <= set(doc["paths"]["/downloads/{token}"])


def test_every_operation_has_examples(client: TestClient) -> None:
    page = docs(client)
    doc = client.get("/openapi.json").json()
    sections = dict(re.findall(r"<section class='op' id='([^']+)'>(.*?)</section>", page, re.S))
    for path, item in doc["paths"].items():
        for method, op in item.items():
            body = sections[slug(f"{method} {path}")]
            if "requestBody" in op:
                assert "<h4>Request body</h4>" in body and "<pre>" in body, (method, path)
            ok = next(s for s in op["responses"] if s.startswith("2"))
            assert f"<h4>Response {ok}</h4>" in body, (method, path)
            if "application/json" in op["responses"][ok].get("content", {}):
                assert body.count("<pre>") >= 1 + ("requestBody" in op), (method, path)


def test_every_action_is_in_docs_with_its_inputs(client: TestClient, services: Services) -> None:
    page = docs(client)
    for integration in services.registry.all():
        assert f"id='integration-{integration.name}'" in page
        for name, action in integration.actions.items():
            section = re.search(
                rf"<section class='action' id='action-{integration.name}-{name}'>"
                r"(.*?)</section>",
                page,
                re.S,
            )
            assert section, (integration.name, name)
            for prop in action.props():
                assert f"<code>{prop}</code>" in section.group(1), (name, prop)
            assert f'"actionName": "{name}"' in html.unescape(section.group(1))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.raw = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in VOID:
            self.stack.append(tag)
        if tag in ("pre", "code"):
            self.raw += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> after {self.stack[-3:]}")
            return
        self.stack.pop()
        if tag in ("pre", "code"):
            self.raw -= 1

    def handle_data(self, data: str) -> None:
        if not self.raw:
            self.text.append(data)


def test_docs_render_markdown_and_are_well_formed(client: TestClient) -> None:
    parser = _Tags()
    parser.feed(docs(client))
    assert not parser.problems, parser.problems[:5]
    assert parser.stack == []
    prose = "".join(parser.text)
    for raw in ("`", "**", "](", "\n- ", "\n# "):
        assert raw not in prose, (raw, prose[max(0, prose.find(raw) - 80) : prose.find(raw) + 80])
    assert "<code>" in docs(client)  # backticks became code
