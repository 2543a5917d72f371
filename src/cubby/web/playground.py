"""The playground: pick a workspace, an integration (by alias) and an action; fill a form made
from the action's catalog props; run it. The run is ``POST /api/v1/actions/execute`` with the
same body and the session's principal, answered with the same status and body, plus "Copy as"
curl, Python (``cubby_client``) and TypeScript snippets of exactly that request (the key as
``$CUBBY_API_KEY``, never the real one).

The form comes from :meth:`cubby.core.registry.Action.props`, the one declaration behind
validation, the catalog and OpenAPI, so a new action appears here with no UI work.
"""

from __future__ import annotations

import json
import logging
import pprint
import time
from typing import Any

import msgspec
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cubby.core import usage, workspaces
from cubby.core import workspace_integrations as wis
from cubby.core.execute import ExecuteRequest, execute
from cubby.core.json_depth import check_depth
from cubby.core.registry import Action
from cubby.errors import CubbyError, InternalError, ValidationError
from cubby.web.pages import SECURITY_HEADERS, Ctx, page

log = logging.getLogger(__name__)

EXECUTE_PATH = "/api/v1/actions/execute"
INPUT_PREFIX = "input."
_request_decoder = msgspec.json.Decoder(ExecuteRequest)
_encoder = msgspec.json.Encoder()


def _number(text: str, field: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise ValidationError.for_field(field, f"{field} must be a number") from None
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def build_input(props: dict[str, dict[str, Any]], fields: dict[str, str]) -> dict[str, Any]:
    """Action input from form fields, by each prop's type (JSON props parsed and checked)."""
    out: dict[str, Any] = {}
    for name, prop in props.items():
        field = INPUT_PREFIX + name
        raw = fields.get(field)
        kind = prop["type"]
        if kind == "CHECKBOX":
            if raw is not None:
                out[name] = True
            elif prop["required"]:
                out[name] = False
            continue
        if raw is None or (raw == "" and not (prop["required"] and kind in TEXT_KINDS)):
            continue  # left empty: the action's default
        if kind == "NUMBER":
            out[name] = _number(raw, field)
        elif kind == "JSON":
            check_depth(raw.encode("utf-8", "surrogatepass"))
            try:
                out[name] = json.loads(raw)
            except ValueError as exc:
                message = f"{field} is not valid JSON: {exc}"
                raise ValidationError.for_field(field, message) from None
        else:
            out[name] = raw
    return out


TEXT_KINDS = ("SHORT_TEXT", "LONG_TEXT")


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def snippets(base_url: str, body: dict[str, Any]) -> dict[str, str]:
    """Copy-as snippets of one execute request; the key is read from $CUBBY_API_KEY."""
    url = base_url + EXECUTE_PATH
    pretty = json.dumps(body, indent=2, ensure_ascii=False)
    curl = (
        f"curl -sS -X POST {_shell_quote(url)} \\\n"
        '  -H "Authorization: Bearer $CUBBY_API_KEY" \\\n'
        "  -H 'Content-Type: application/json' \\\n"
        f"  --data-raw {_shell_quote(pretty)}"
    )
    args = [repr(body["integrationName"]), repr(body["actionName"])]
    args.append(f"workspace_id={body['workspaceId']!r}")
    if "integrationAlias" in body:
        args.append(f"integration_alias={body['integrationAlias']!r}")
    if "endUserId" in body:
        args.append(f"end_user_id={body['endUserId']!r}")
    literal = pprint.pformat(body["input"], indent=4, width=88, sort_dicts=False)
    args.append("input=" + literal.replace("\n", "\n    "))
    python = (
        "import json\n\n"
        "from cubby_client import Cubby\n\n"
        f"client = Cubby(base_url={base_url!r})  # the key comes from $CUBBY_API_KEY\n"
        "result = client.actions.execute(\n    " + ",\n    ".join(args) + ",\n)\n"
        'print(json.dumps(result["output"], indent=2))\n'
    )
    typescript = (
        f"const response = await fetch({json.dumps(url)}, {{\n"
        '  method: "POST",\n'
        "  headers: {\n"
        "    Authorization: `Bearer ${process.env.CUBBY_API_KEY}`,\n"
        '    "Content-Type": "application/json",\n'
        "  },\n"
        "  body: JSON.stringify(" + pretty.replace("\n", "\n  ") + "),\n"
        "});\n"
        "console.log(await response.json());\n"
    )
    return {"curl": curl, "python": python, "typescript": typescript}


async def _choices(ctx: Ctx) -> dict[str, Any]:
    """What the pickers offer, and the chosen workspace, integration and action (if any)."""
    items, _ = await workspaces.page(ctx.services.meta, ctx.principal, 100, 0)
    ws_id = ctx.arg("ws") or ctx.field("ws")
    alias = ctx.arg("alias") or ctx.field("alias")
    action_name = ctx.arg("action") or ctx.field("action")
    chosen: dict[str, Any] = {
        "workspaces": items,
        "ws": None,
        "integrations": [],
        "wi": None,
        "actions": [],
        "action": None,
        "props": {},
        "needs_end_user": False,
    }
    if not ws_id:
        return chosen
    chosen["ws"] = await workspaces.get(ctx.services.meta, ctx.principal, ws_id)
    chosen["integrations"] = await wis.in_workspace(ctx.services, ctx.principal, ws_id)
    wi = next((w for w in chosen["integrations"] if w.alias == alias), None)
    if wi is None:
        return chosen
    chosen["wi"] = wi
    integration = ctx.services.registry.get(wi.integration_name)
    if integration is None:
        return chosen
    enabled = wi.enabled_actions
    chosen["actions"] = [
        a for a in integration.actions.values() if enabled is None or a.name in enabled
    ]
    action: Action | None = next((a for a in chosen["actions"] if a.name == action_name), None)
    if action is not None:
        chosen["action"] = action
        chosen["props"] = action.props()
        chosen["needs_end_user"] = usage.scope_of(wi) == "end_user"
    return chosen


@page
async def playground_page(ctx: Ctx) -> Response:
    return ctx.render("playground.html", result=None, values={}, **await _choices(ctx))


@page
async def run(ctx: Ctx) -> Response:
    chosen = await _choices(ctx)
    if chosen["action"] is None:
        raise ValidationError.for_field("action", "pick a workspace, an integration and an action")
    assert ctx.form is not None
    fields = {k: v for k, v in ctx.form.multi_items() if isinstance(v, str)}
    wi = chosen["wi"]
    body: dict[str, Any] = {
        "integrationName": wi.integration_name,
        "actionName": chosen["action"].name,
        "workspaceId": wi.workspace_id,
        "integrationAlias": wi.alias,
        "input": build_input(chosen["props"], fields),
    }
    end_user = fields.get("endUserId", "").strip()
    if chosen["needs_end_user"] and end_user:
        body["endUserId"] = end_user
    started = time.perf_counter()
    status, answer = await _execute(ctx, body)
    result = {
        "status": status,
        "durationMs": round((time.perf_counter() - started) * 1000, 3),
        "response": answer,
        "request": body,
        "snippets": snippets(str(ctx.request.base_url).rstrip("/"), body),
    }
    if "application/json" in ctx.request.headers.get("accept", ""):
        return JSONResponse(result, headers=SECURITY_HEADERS)
    pretty = json.dumps(answer, indent=2, ensure_ascii=False)
    return ctx.render("playground.html", result=result, pretty=pretty, values=fields, **chosen)


async def _execute(ctx: Ctx, body: dict[str, Any]) -> tuple[int, Any]:
    """What ``POST /api/v1/actions/execute`` answers for ``body``: (status, JSON body)."""
    try:
        request = _request_decoder.decode(_encoder.encode(body))
        response = await execute(ctx.services, ctx.principal, request)
        return 200, msgspec.json.decode(_encoder.encode(response))
    except CubbyError as exc:
        return exc.status, exc.to_body()
    except msgspec.ValidationError as exc:  # pragma: no cover - the form builds valid bodies
        return 400, ValidationError(str(exc)).to_body()
    except Exception:  # pragma: no cover - as the API's handler answers it
        log.exception("unhandled error in a playground run")
        return 500, InternalError("internal error; the server log has the details").to_body()


def routes() -> list[BaseRoute]:
    return [
        Route("/ui/playground", playground_page, methods=["GET"]),
        Route("/ui/playground/run", run, methods=["POST"]),
    ]
