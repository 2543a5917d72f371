"""A human-readable page of the OpenAPI document, with no external assets."""

from __future__ import annotations

import html
import json
from typing import Any


def render_docs(doc: dict[str, Any]) -> str:
    rows = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            statuses = ", ".join(op["responses"])
            summary = html.escape(op["summary"])
            description = html.escape(op.get("description", ""))
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code>"
                f"</td><td>{summary}<br><small>{description}</small></td><td>{statuses}</td></tr>"
            )
    schemas = "".join(
        f"<h3 id='{html.escape(name)}'>{html.escape(name)}</h3>"
        f"<pre>{html.escape(json.dumps(schema, indent=2))}</pre>"
        for name, schema in sorted(doc["components"]["schemas"].items())
    )
    info = doc["info"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(info["title"])} API</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #ddd;
padding: .4rem; vertical-align: top; text-align: left; }} pre {{ background: #f6f6f6;
padding: .6rem; overflow-x: auto; }}
</style></head><body>
<h1>{html.escape(info["title"])} API <small>{html.escape(info["version"])}</small></h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Authenticate with
<code>Authorization: Bearer &lt;api key&gt;</code>.</p>
<pre>{html.escape(info["description"])}</pre>
<h2>Routes</h2>
<table><tr><th>Method</th><th>Path</th><th>What</th><th>Statuses</th></tr>{"".join(rows)}</table>
<h2>Schemas</h2>{schemas}
</body></html>"""
