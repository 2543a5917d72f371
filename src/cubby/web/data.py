"""The data pages of one workspace integration: files of a storage integration (folder view,
upload, preview, download, delete) and keys of a kv-store integration (list, view, edit, lists).

Every read and write is an action run through :mod:`cubby.web.actions` (so ``core.execute``)
with the session's principal: an ``end_user`` integration shows one end user's data, and only
once that end user is picked.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import itertools
import math
from typing import Any

import msgspec
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cubby.api.endpoint import read_body
from cubby.auth import expiry_epoch
from cubby.core import clock, signing, usage
from cubby.core.json_depth import check_depth
from cubby.core.paging import decode_cursor, encode_cursor
from cubby.core.paths import normalize_path
from cubby.errors import NotFound, PayloadTooLarge, ValidationError
from cubby.web import actions
from cubby.web.pager import pager
from cubby.web.pages import Ctx, page
from cubby.web.targets import Target
from cubby.web.targets import count as _count
from cubby.web.targets import end_users as _end_users
from cubby.web.targets import load as _target
from cubby.web.targets import picker as _picker
from cubby.web.targets import run as _run

PAGE_SIZE = 50
PREVIEW_MAX_BYTES = 256 * 1024
CSV_MAX_ROWS = 200  # a preview, not a spreadsheet: the download has them all
# Sorts after every path inside a folder, so a listing can jump past a subfolder's files.
PAST_FOLDER = "\U0010ffff" * 4
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-ndjson")


def _parse_json(text: str, field: str = "value") -> Any:
    try:
        raw = text.encode("utf-8")
        check_depth(raw)
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeEncodeError) as exc:
        raise ValidationError.for_field(field, f"{field} is not valid JSON: {exc}") from None


# -- files ----------------------------------------------------------------------------------
def _folder(value: str) -> str:
    value = value.strip().lstrip("/")
    return value if not value or value.endswith("/") else value + "/"


def _crumbs(folder: str) -> list[tuple[str, str]]:
    """(name, folder) for each level of ``folder``, the root first."""
    out = [("root", "")]
    parts = [p for p in folder.split("/") if p]
    for i, part in enumerate(parts):
        out.append((part, "/".join(parts[: i + 1]) + "/"))
    return out


async def _folder_page(
    ctx: Ctx, t: Target, folder: str, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a folder's entries (subfolders and files, by path), and the next cursor.

    A subfolder shows once: the listing then jumps past its files (one query per subfolder).
    """
    entries: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"prefix": folder, "limit": PAGE_SIZE}
        if after is not None:
            params["cursor"] = encode_cursor(after)
        listed = await _run(ctx, t, "list_files", params)
        if not listed["files"]:
            return entries, None
        for item in listed["files"]:
            if len(entries) == PAGE_SIZE:  # a full page, and there is more
                assert after is not None
                return entries, encode_cursor(after)
            rest = item["path"][len(folder) :]
            if "/" in rest:
                sub = folder + rest.split("/", 1)[0] + "/"
                entries.append({"folder": sub, "name": sub[len(folder) :]})
                after = sub + PAST_FOLDER
                break
            entries.append({"file": item, "name": rest})
            after = item["path"]
        else:
            if listed["nextCursor"] is None:
                return entries, None


@page
async def files_page(ctx: Ctx) -> Response:
    t = await _target(ctx, "storage")
    picked = await _picker(ctx, t, "files.html")
    if picked is not None:
        return picked
    folder = _folder(ctx.arg("prefix"))
    search = ctx.arg("q").lstrip("/")
    cursor = ctx.arg("cursor")
    if search:  # every file whose path starts with it, in one flat list
        params: dict[str, Any] = {"prefix": search, "limit": PAGE_SIZE}
        if cursor:
            params["cursor"] = cursor
        listed = await _run(ctx, t, "list_files", params)
        entries = [{"file": f, "name": f["path"]} for f in listed["files"]]
        next_cursor = listed["nextCursor"]
        total = await _count(ctx, t, search)
    else:  # a folder's entries (files and folders) are not counted: its files are, below
        after = decode_cursor(cursor) if cursor else None
        entries, next_cursor = await _folder_page(ctx, t, folder, after)
        total = None
    return ctx.render(
        "files.html",
        t=t,
        picking=False,
        end_users=await _end_users(ctx, t),
        folder=folder,
        search=search,
        crumbs=_crumbs(folder),
        entries=entries,
        pager=pager(ctx, PAGE_SIZE, len(entries), next_cursor, total),
        max_bytes=ctx.services.settings.storage_max_file_bytes,
        has_delete_folder=actions.has_action(ctx.services, "storage", "delete_folder"),
    )


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the file is {size} bytes; the limit is {limit}", details={"limit": limit, "size": size}
    )


@page
async def upload(ctx: Ctx) -> Response:
    """One file as the raw request body (the page's script, with progress), or several as a
    multipart form (without script). Both stay within CUBBY_STORAGE_MAX_FILE_BYTES."""
    t = await _target(ctx, "storage")
    limit = ctx.services.settings.storage_max_file_bytes
    if ctx.form is None or not ctx.form:
        path = normalize_path(ctx.arg("path"))
        declared = ctx.request.headers.get("content-length")
        body = await read_body(ctx.request.receive, declared, limit)
        out = await _write(ctx, t, path, body, ctx.arg("type"))
        return JSONResponse(out)
    folder = _folder(ctx.field("folder"))
    uploads = [f for f in ctx.form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        raise ValidationError.for_field("files", "choose at least one file to upload")
    for item in uploads:
        if item.size is not None and item.size > limit:
            raise _too_large(item.size, limit)
    for item in uploads:
        body = await item.read()
        name = (item.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        await _write(ctx, t, normalize_path(folder + name), body, item.content_type)
    return ctx.redirect(t.url("files", prefix=folder), f"Uploaded {len(uploads)} file(s)")


async def _write(
    ctx: Ctx, t: Target, path: str, body: bytes, content_type: str | None
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "path": path,
        "content": base64.b64encode(body).decode("ascii"),
        "contentEncoding": "base64",
    }
    if content_type and content_type != "application/octet-stream":
        params["contentType"] = content_type.split(";")[0].strip()
    result: dict[str, Any] = await _run(ctx, t, "write_file", params)
    return result


def _relative(url: str) -> str:
    """A signed URL as a path on this origin (the page may be served on another host name)."""
    at = url.find(signing.URL_PREFIX)
    return url[at:] if at >= 0 else url


def _previewable(content_type: str) -> str | None:
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith(TEXT_TYPES) or content_type in ("text/csv",):
        return "text"
    return None


@page
async def preview(ctx: Ctx) -> Response:
    t = await _target(ctx, "storage")
    path = normalize_path(ctx.arg("path"))
    listed = await _run(ctx, t, "list_files", {"prefix": path, "limit": 1})
    info = next((f for f in listed["files"] if f["path"] == path), None)
    if info is None:
        raise NotFound(f"no file at path {path!r}", details={"path": path})
    kind = _previewable(info["contentType"])
    text = None
    image_url = None
    if kind == "text" and info["size"] <= PREVIEW_MAX_BYTES:
        read = await _run(ctx, t, "read_file", {"path": path, "outputEncoding": "base64"})
        raw = base64.b64decode(read["content"])
        text = raw.decode("utf-8", "replace")
        if info["contentType"].startswith("application/json"):
            with contextlib.suppress(msgspec.DecodeError):
                text = msgspec.json.format(raw, indent=2).decode("utf-8", "replace")
    signed = await _run(ctx, t, "get_download_url", {"path": path})
    if kind == "image":
        image_url = _relative(signed["url"])
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    return ctx.render(
        "preview.html",
        t=t,
        info=info,
        text=text,
        table=_csv_rows(text) if text is not None and _is_csv(info) else None,
        csv_max=CSV_MAX_ROWS,
        image_url=image_url,
        signed=signed,
        folder=folder,
        crumbs=_crumbs(folder),
        name=path[len(folder) :],
    )


def _is_csv(info: dict[str, Any]) -> bool:
    return bool(info["contentType"].startswith("text/csv") or info["path"].endswith(".csv"))


def _csv_rows(text: str) -> list[list[str]] | None:
    """The first :data:`CSV_MAX_ROWS` rows of a CSV text (None if it does not parse)."""
    try:
        return list(itertools.islice(csv.reader(io.StringIO(text)), CSV_MAX_ROWS))
    except csv.Error:
        return None


@page
async def move_file(ctx: Ctx) -> Response:
    """Rename (move) a file: the content is not copied."""
    t = await _target(ctx, "storage")
    src = normalize_path(ctx.field("path"))
    dst = ctx.field("to").strip().lstrip("/")
    moved = await _run(ctx, t, "move_file", {"from": src, "to": dst})
    return ctx.redirect(t.url("files/preview", path=moved["to"]), f"Renamed {src} to {moved['to']}")


@page
async def download(ctx: Ctx) -> Response:
    t = await _target(ctx, "storage")
    signed = await _run(ctx, t, "get_download_url", {"path": normalize_path(ctx.arg("path"))})
    return RedirectResponse(_relative(signed["url"]), 303)


@page
async def delete_file(ctx: Ctx) -> Response:
    t = await _target(ctx, "storage")
    path = normalize_path(ctx.field("path"))
    await _run(ctx, t, "delete_file", {"path": path})
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    return ctx.redirect(t.url("files", prefix=folder), f"Deleted {path}")


@page
async def confirm_delete_folder(ctx: Ctx) -> Response:
    t = await _target(ctx, "storage")
    folder = _folder(ctx.arg("prefix"))
    if not folder:
        raise ValidationError.for_field("prefix", "pick a folder to delete")
    counted = await usage.folder_usage(ctx.services, ctx.principal, t.namespace, folder)
    return ctx.render(
        "delete_folder.html", t=t, folder=folder, crumbs=_crumbs(folder), counted=counted
    )


@page
async def delete_folder(ctx: Ctx) -> Response:
    t = await _target(ctx, "storage")
    folder = _folder(ctx.field("prefix"))
    if not folder:
        raise ValidationError.for_field("prefix", "pick a folder to delete")
    if actions.has_action(ctx.services, "storage", "delete_folder"):
        deleted = (await _run(ctx, t, "delete_folder", {"prefix": folder}))["deleted"]
    else:  # until storage has delete_folder: the same actions, a page at a time
        deleted = 0
        while True:
            listed = await _run(ctx, t, "list_files", {"prefix": folder, "limit": 1000})
            for item in listed["files"]:
                out = await _run(ctx, t, "delete_file", {"path": item["path"]})
                deleted += 1 if out["deleted"] else 0
            if not listed["files"]:
                break
    parent = folder[:-1].rsplit("/", 1)[0] + "/" if "/" in folder[:-1] else ""
    return ctx.redirect(t.url("files", prefix=parent), f"Deleted {deleted} file(s) in {folder}")


# -- keys -----------------------------------------------------------------------------------
@page
async def keys_page(ctx: Ctx) -> Response:
    t = await _target(ctx, "kv-store")
    picked = await _picker(ctx, t, "keys.html")
    if picked is not None:
        return picked
    prefix = ctx.arg("prefix")
    can_list = actions.has_action(ctx.services, "kv-store", "list_keys")
    listed: dict[str, Any] = {"keys": [], "nextCursor": None}
    if can_list:
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if prefix:
            params["prefix"] = prefix
        if ctx.arg("cursor"):
            params["cursor"] = ctx.arg("cursor")
        listed = await _run(ctx, t, "list_keys", params)
    total = await _count(ctx, t, prefix) if can_list else None
    return ctx.render(
        "keys.html",
        t=t,
        picking=False,
        end_users=await _end_users(ctx, t),
        prefix=prefix,
        keys=listed["keys"],
        pager=pager(ctx, PAGE_SIZE, len(listed["keys"]), listed["nextCursor"], total),
        can_list=can_list,
        new_key=ctx.arg("new"),
    )


async def _key_view(
    ctx: Ctx, t: Target, key: str, error: str | None = None, draft: str | None = None
) -> Response:
    got = await _run(ctx, t, "get", {"key": key})
    value = got["value"]
    formatted = msgspec.json.format(msgspec.json.encode(value), indent=2).decode()
    listed = await _run(ctx, t, "list_keys", {"prefix": key, "limit": 1})
    info = next((i for i in listed["keys"] if i["key"] == key), None)
    return ctx.render(
        "key.html",
        400 if error else 200,
        t=t,
        key=key,
        exists=value is not None,
        value=value,
        version=got["version"],
        expires_at=got["expiresAt"],
        remaining=_seconds_left(got["expiresAt"]),
        info=info,
        formatted=formatted if draft is None else draft,
        items=[msgspec.json.encode(v).decode() for v in value] if isinstance(value, list) else None,
        error=error,
    )


def _seconds_left(expires_at: str | None) -> int | None:
    """Whole seconds until ``expires_at`` (the TTL field's starting value), None if none."""
    expires = expiry_epoch(expires_at)
    if expires is None:
        return None
    left = math.ceil(expires - clock.now())
    return left if left > 0 else None


def _ttl(ctx: Ctx) -> dict[str, Any]:
    """The TTL field of the key form: ``expiresInSeconds`` when filled in (empty: never)."""
    text = ctx.field("expiresInSeconds").strip()
    if not text:
        return {}
    if not text.isdigit():
        raise ValidationError.for_field(
            "expiresInSeconds", "expires in: whole seconds, or empty for never"
        )
    return {"expiresInSeconds": int(text)}


@page
async def key_page(ctx: Ctx) -> Response:
    t = await _target(ctx, "kv-store")
    if t.needs_end_user and not t.end_user:  # pick the end user first
        return RedirectResponse(t.url("keys"), 303)
    key = ctx.arg("key")
    if not key:
        raise ValidationError.for_field("key", "which key? (pass ?key=)")
    return await _key_view(ctx, t, key)


@page
async def save_key(ctx: Ctx) -> Response:
    t = await _target(ctx, "kv-store")
    key = ctx.field("key")
    text = ctx.field("value")
    try:
        value = _parse_json(text)
    except ValidationError as exc:
        if ctx.field("fromList") == "1":  # the new-key form on the list page
            raise
        return await _key_view(ctx, t, key, exc.message, draft=text)
    await _run(ctx, t, "put", {"key": key, "value": value, **_ttl(ctx)})
    return ctx.redirect(t.url("key", key=key), f"Saved {key}")


@page
async def delete_key(ctx: Ctx) -> Response:
    t = await _target(ctx, "kv-store")
    key = ctx.field("key")
    await _run(ctx, t, "delete", {"key": key})
    return ctx.redirect(t.url("keys"), f"Deleted {key}")


@page
async def append_item(ctx: Ctx) -> Response:
    t = await _target(ctx, "kv-store")
    key = ctx.field("key")
    value = _parse_json(ctx.field("value"))
    await _run(ctx, t, "add_to_list", {"key": key, "value": value})
    return ctx.redirect(t.url("key", key=key), "Appended an item")


@page
async def remove_item(ctx: Ctx) -> Response:
    t = await _target(ctx, "kv-store")
    key = ctx.field("key")
    value = _parse_json(ctx.field("value"))
    out = await _run(ctx, t, "remove_from_list", {"key": key, "value": value})
    return ctx.redirect(t.url("key", key=key), f"Removed {out['removed']} item(s)")


def routes(base: str) -> list[BaseRoute]:
    return [
        Route(base + "/files", files_page, methods=["GET"]),
        Route(base + "/files/upload", upload, methods=["POST"]),
        Route(base + "/files/preview", preview, methods=["GET"]),
        Route(base + "/files/download", download, methods=["GET"]),
        Route(base + "/files/delete", delete_file, methods=["POST"]),
        Route(base + "/files/move", move_file, methods=["POST"]),
        Route(base + "/files/delete-folder", confirm_delete_folder, methods=["GET"]),
        Route(base + "/files/delete-folder", delete_folder, methods=["POST"]),
        Route(base + "/keys", keys_page, methods=["GET"]),
        Route(base + "/key", key_page, methods=["GET"]),
        Route(base + "/keys/save", save_key, methods=["POST"]),
        Route(base + "/keys/delete", delete_key, methods=["POST"]),
        Route(base + "/keys/append", append_item, methods=["POST"]),
        Route(base + "/keys/remove", remove_item, methods=["POST"]),
    ]
