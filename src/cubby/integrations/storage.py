"""The ``storage`` integration ("Filesystem"): files per namespace, written atomically.

Paths follow :mod:`cubby.core.paths`; bodies and metadata follow :mod:`cubby.core.files`;
download URLs follow :mod:`cubby.core.signing` and are served by :mod:`cubby.api.downloads`.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Annotated, Literal

import msgspec

from cubby.backends.base import FileMissing, FilePreconditionFailed, FileRecord
from cubby.core import content_types, files, signing
from cubby.core.paging import decode_cursor, encode_cursor
from cubby.core.paths import MAX_PATH_BYTES, normalize_path, normalize_prefix
from cubby.core.registry import ActionContext, Integration
from cubby.core.ttl import ExpiresInSeconds, expires_at, iso_or_none
from cubby.core.validation import off_loop
from cubby.errors import ActionFailed, PayloadTooLarge, ValidationError
from cubby.integrations.assets import logo

DEFAULT_LIST_LIMIT = 1000
DEFAULT_EXPIRES_IN = 900
MAX_LIST_LIMIT = 1000

storage = Integration(
    name="storage",
    display_name="Filesystem",
    description="File storage for documents, exports and binary data, isolated per end user, "
    "workspace or namespace key. Writes replace files atomically.",
    categories=["CONTENT_AND_FILES"],
    logo_svg=logo("storage"),
)

FilePath = Annotated[
    str,
    msgspec.Meta(
        title="Path",
        description=f"Relative '/'-separated path, e.g. reports/monthly.json (at most "
        f"{MAX_PATH_BYTES} bytes; no '.', '..' or empty segments, backslashes or control "
        "characters)",
    ),
]
Content = Annotated[
    str,
    msgspec.Meta(
        title="Content",
        description="The file's content: text, or base64 when contentEncoding is 'base64'",
        extra={"prop_type": "LONG_TEXT", "nul_ok": True},  # a file body, not a database text
    ),
]
ContentType = Annotated[
    str,
    msgspec.Meta(
        title="Content type",
        description="Media type, e.g. text/csv; default: guessed from the extension, else "
        "application/octet-stream",
    ),
]
Encoding = Literal["utf8", "base64"]
# Any letter case, and utf-8 for utf8 (core.registry "choices"); answers say utf8 or base64.
ENCODINGS = {"utf8": "utf8", "utf-8": "utf8", "base64": "base64"}
_ENCODING_SCHEMA = {"enum": ["utf8", "base64"]}
ContentEncoding = Annotated[
    str,
    msgspec.Meta(
        title="Content encoding",
        description="How content is encoded: utf8 or base64 (any case; utf-8 means utf8)",
        extra_json_schema=_ENCODING_SCHEMA,
        extra={"choices": ENCODINGS},
    ),
]
OutputEncoding = Annotated[
    str,
    msgspec.Meta(
        title="Output encoding",
        description="utf8 for text; base64 for binary files (a non-UTF-8 file read as utf8 "
        "fails with reason NOT_UTF8); any case, utf-8 means utf8",
        extra_json_schema=_ENCODING_SCHEMA,
        extra={"choices": ENCODINGS},
    ),
]
Prefix = Annotated[
    str,
    msgspec.Meta(title="Prefix", description="Only paths starting with this, e.g. reports/"),
]
Limit = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        title="Limit",
        description=f"Files per page (at most {MAX_LIST_LIMIT}; larger values are clamped)",
    ),
]
Cursor = Annotated[
    str,
    msgspec.Meta(title="Cursor", description="nextCursor of the previous page"),
]
IfMatch = Annotated[
    str,
    msgspec.Meta(
        title="If match",
        description="Only if the file's current etag is this one; else reason CONFLICT and "
        "nothing changes",
    ),
]
IfNoneMatch = Annotated[
    Literal["*"],
    msgspec.Meta(
        title="If none match",
        description="'*': only if no file exists at the path; else reason CONFLICT",
    ),
]
FolderPrefix = Annotated[
    str,
    msgspec.Meta(
        title="Folder",
        description="The folder to delete with everything under it; ends with '/', "
        "e.g. reports/2024/",
    ),
]
ExpiresIn = Annotated[
    int,
    msgspec.Meta(
        ge=60,
        le=3600,
        title="Expires in (seconds)",
        description="How long the URL works, 60 to 3600 seconds",
    ),
]


# Optional inputs also accept an explicit null, meaning the default: SDKs and form-driven
# callers often send every field.


class WriteFileInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    path: FilePath
    content: Content
    content_type: ContentType | None = None
    content_encoding: ContentEncoding | None = "utf8"
    expires_in_seconds: ExpiresInSeconds | None = None
    if_match: IfMatch | None = None
    if_none_match: IfNoneMatch | None = None


class ReadFileInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    path: FilePath
    output_encoding: OutputEncoding | None = "utf8"


class DeleteFileInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    path: FilePath
    if_match: IfMatch | None = None


class MoveFileInput(
    msgspec.Struct, forbid_unknown_fields=True, rename={"src": "from", "dst": "to"}
):
    src: Annotated[str, msgspec.Meta(title="From", description="Path of the file to move")]
    dst: Annotated[str, msgspec.Meta(title="To", description="New path (same rules as path)")]
    overwrite: (
        Annotated[
            bool,
            msgspec.Meta(
                title="Overwrite",
                description="Replace a file already at the new path (default: reason CONFLICT)",
            ),
        ]
        | None
    ) = False


class DeleteFolderInput(msgspec.Struct, forbid_unknown_fields=True):
    prefix: FolderPrefix


class ListFilesInput(msgspec.Struct, forbid_unknown_fields=True):
    prefix: Prefix | None = ""
    limit: Limit | None = DEFAULT_LIST_LIMIT
    cursor: Cursor | None = None


class GetDownloadUrlInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    path: FilePath
    expires_in_seconds: ExpiresIn | None = DEFAULT_EXPIRES_IN


class FileInfo(msgspec.Struct, rename="camel"):
    path: str
    size: int
    content_type: str
    etag: str
    updated_at: str
    expires_at: str | None


class FileContent(msgspec.Struct, rename="camel"):
    path: str
    content: str
    content_type: str
    encoding: Encoding
    size: int
    etag: str
    updated_at: str
    expires_at: str | None


class FileDeleted(msgspec.Struct):
    path: str
    deleted: bool


class FileMoved(msgspec.Struct, rename={"src": "from", "dst": "to"}):
    src: str
    dst: str
    etag: str


class FolderDeleted(msgspec.Struct):
    prefix: str
    deleted: int


class FileList(msgspec.Struct, rename="camel"):
    files: list[FileInfo]
    next_cursor: str | None


class DownloadUrl(msgspec.Struct, rename="camel"):
    url: str
    expires_at: str


def _info(record: FileRecord) -> FileInfo:
    return FileInfo(
        path=record.path,
        size=record.size,
        content_type=record.content_type,
        etag=record.etag,
        updated_at=record.updated_at,
        expires_at=iso_or_none(record.expires_at),
    )


def file_not_found(path: str) -> ActionFailed:
    return ActionFailed(f"no file at path {path!r}", reason="FILE_NOT_FOUND", path=path)


def conflict(path: str, current_etag: str | None, message: str) -> ActionFailed:
    return ActionFailed(message, reason="CONFLICT", path=path, currentEtag=current_etag)


def _precondition_failed(path: str, exc: FilePreconditionFailed) -> ActionFailed:
    if exc.current_etag is None:
        message = f"no file at path {path!r} matches ifMatch"
    else:
        message = f"the file at path {path!r} has etag {exc.current_etag!r}; nothing was changed"
    return conflict(path, exc.current_etag, message)


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the file is {size} bytes; the limit is {limit} (CUBBY_STORAGE_MAX_FILE_BYTES)",
        details={"field": "input.content", "limit": limit, "size": size},
    )


# Base64 is decoded this many characters at a time (a multiple of 4): each piece holds the GIL
# for a few milliseconds only, so the event loop keeps answering while a 20 MiB file decodes
# on a worker thread (one call would hold it for the whole file; issue 28, item 10).
_BASE64_PIECE = 1 << 20


def _decode_base64_strict(content: str) -> bytes:
    if len(content) <= _BASE64_PIECE:
        return base64.b64decode(content, validate=True)
    pieces = []
    for start in range(0, len(content), _BASE64_PIECE):
        piece = content[start : start + _BASE64_PIECE]
        if "=" in piece and start + _BASE64_PIECE < len(content):
            raise binascii.Error("padding before the end")  # as one strict decode would say
        pieces.append(base64.b64decode(piece, validate=True))
    return b"".join(pieces)


def _decode_base64(content: str) -> bytes:
    try:
        return _decode_base64_strict(content)
    except (binascii.Error, ValueError):
        pass
    try:  # tolerate line-wrapped base64 (as `base64` and MIME tools emit it)
        return base64.b64decode("".join(content.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError.for_field(
            "input.content", "content is not valid base64 (standard alphabet, '=' padding)"
        ) from None


def body_of(params: WriteFileInput, limit: int) -> bytes:
    """The bytes to store, within ``limit`` (413 PAYLOAD_TOO_LARGE otherwise)."""
    if params.content_encoding == "base64":  # None: the default, utf8
        body = _decode_base64(params.content)
    else:
        if len(params.content) > limit:  # every character is at least one byte
            raise _too_large(len(params.content), limit)
        body = params.content.encode("utf-8")
    if len(body) > limit:
        raise _too_large(len(body), limit)
    return body


@storage.action("write_file", "Write file", "Write content to a file (creates or overwrites)")
async def write_file(ctx: ActionContext, params: WriteFileInput) -> FileInfo:
    path = normalize_path(params.path)
    if params.content_type is None:
        content_type = content_types.guess(path)
    else:
        content_type = content_types.check(params.content_type)
    limit = ctx.services.settings.storage_max_file_bytes
    body = await off_loop(body_of, params, limit, size=len(params.content))
    try:
        record = await files.write(
            ctx.services,
            ctx.namespace,
            path,
            body,
            content_type,
            expires_at=expires_at(params.expires_in_seconds),
            if_match=params.if_match,
            if_none_match=params.if_none_match == "*",
        )
    except FilePreconditionFailed as exc:
        if params.if_none_match == "*" and exc.current_etag is not None:
            raise conflict(
                path, exc.current_etag, f"a file already exists at path {path!r} (ifNoneMatch)"
            ) from None
        raise _precondition_failed(path, exc) from None
    return _info(record)


@storage.action("read_file", "Read file", "Read a file's contents by path", read_only=True)
async def read_file(ctx: ActionContext, params: ReadFileInput) -> FileContent:
    path = normalize_path(params.path)
    found = await files.read(ctx.services, ctx.namespace, path)
    if found is None:
        raise file_not_found(path)
    record, body = found
    encoding: Encoding = "base64" if params.output_encoding == "base64" else "utf8"
    if encoding == "base64":
        content = base64.b64encode(body).decode("ascii")
    else:
        try:
            content = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ActionFailed(
                f"file {path!r} is not valid UTF-8 text (byte {exc.start}); "
                "read it with outputEncoding 'base64'",
                reason="NOT_UTF8",
                path=path,
            ) from None
    return FileContent(
        path=record.path,
        content=content,
        content_type=record.content_type,
        encoding=encoding,
        size=record.size,
        etag=record.etag,
        updated_at=record.updated_at,
        expires_at=iso_or_none(record.expires_at),
    )


@storage.action("delete_file", "Delete file", "Delete a file by path")
async def delete_file(ctx: ActionContext, params: DeleteFileInput) -> FileDeleted:
    path = normalize_path(params.path)
    try:
        deleted = await files.delete(ctx.services, ctx.namespace, path, if_match=params.if_match)
    except FilePreconditionFailed as exc:
        raise _precondition_failed(path, exc) from None
    return FileDeleted(path=path, deleted=deleted)


@storage.action(
    "move_file",
    "Move file",
    "Rename a file atomically within the namespace (the content is not copied)",
)
async def move_file(ctx: ActionContext, params: MoveFileInput) -> FileMoved:
    src = normalize_path(params.src, "input.from")
    dst = normalize_path(params.dst, "input.to")
    try:
        etag = await files.move(ctx.services, ctx.namespace, src, dst, bool(params.overwrite))
    except FileMissing:
        raise file_not_found(src) from None
    except FilePreconditionFailed:
        raise conflict(
            dst, None, f"a file already exists at path {dst!r}; pass overwrite to replace it"
        ) from None
    return FileMoved(src=src, dst=dst, etag=etag)


@storage.action(
    "delete_folder",
    "Delete folder",
    "Delete every file under a folder prefix ending in '/'; returns how many were deleted",
)
async def delete_folder(ctx: ActionContext, params: DeleteFolderInput) -> FolderDeleted:
    if not params.prefix.endswith("/"):
        raise ValidationError.for_field(
            "input.prefix", "prefix must end with '/' (a folder), e.g. reports/"
        )
    prefix = normalize_prefix(params.prefix)
    deleted = await files.delete_folder(ctx.services, ctx.namespace, prefix)
    return FolderDeleted(prefix=prefix, deleted=deleted)


@storage.action(
    "list_files",
    "List files",
    "List files sorted by path, optionally under a prefix, a page at a time",
    read_only=True,
)
async def list_files(ctx: ActionContext, params: ListFilesInput) -> FileList:
    prefix = normalize_prefix(params.prefix or "")
    after = decode_cursor(params.cursor) if params.cursor else None
    limit = min(params.limit or DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT)
    records = await ctx.services.meta.files.page(ctx.namespace, prefix, after, limit + 1)
    more = len(records) > limit
    records = records[:limit]
    next_cursor = encode_cursor(records[-1].path) if more else None
    return FileList(files=[_info(r) for r in records], next_cursor=next_cursor)


@storage.action(
    "get_download_url",
    "Get download URL",
    "A URL that downloads the file without an API key until it expires",
    read_only=True,
)
async def get_download_url(ctx: ActionContext, params: GetDownloadUrlInput) -> DownloadUrl:
    path = normalize_path(params.path)
    if await ctx.services.meta.files.get(ctx.namespace, path) is None:
        raise file_not_found(path)
    settings = ctx.services.settings
    expires = int(time.time()) + (params.expires_in_seconds or DEFAULT_EXPIRES_IN)
    grant = signing.Grant(ctx.namespace.workspace_id, ctx.namespace.ns, path, expires)
    token = signing.sign(signing.signing_key(settings), grant)
    return DownloadUrl(
        url=f"{settings.base_url}{signing.URL_PREFIX}{token}",
        expires_at=signing.iso_utc(expires),
    )
