"""Content types of stored files: the default guessed from a path's extension, and validation
of one a caller sends (it is served back verbatim as a response header, so it must be a
well-formed media type and nothing else).

The table is explicit rather than :mod:`mimetypes`, whose answers depend on the host's
``/etc/mime.types``: the same write must get the same type on every machine.
"""

from __future__ import annotations

import posixpath
import re

from cubby.errors import ValidationError

DEFAULT = "application/octet-stream"
MAX_LENGTH = 255

_BY_EXTENSION = {
    # text
    ".txt": "text/plain",
    ".text": "text/plain",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".xml": "application/xml",
    ".ics": "text/calendar",
    # data
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".parquet": "application/vnd.apache.parquet",
    ".sql": "application/sql",
    # code
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".py": "text/x-python",
    ".sh": "text/x-shellscript",
    ".wasm": "application/wasm",
    # documents
    ".pdf": "application/pdf",
    ".rtf": "application/rtf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".epub": "application/epub+zip",
    # images
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".ico": "image/vnd.microsoft.icon",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    # audio and video
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    # archives
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".tgz": "application/gzip",
    ".tar": "application/x-tar",
    ".bz2": "application/x-bzip2",
    ".xz": "application/x-xz",
    ".zst": "application/zstd",
    ".7z": "application/x-7z-compressed",
    # fonts
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}

_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_MEDIA_TYPE = re.compile(
    rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|\"[\x20\x21\x23-\x5b\x5d-\x7e]*\"))*"
)


def guess(path: str) -> str:
    """The content type for ``path`` by its extension (case-insensitive), else the default."""
    extension = posixpath.splitext(path.rsplit("/", 1)[-1])[1].lower()
    return _BY_EXTENSION.get(extension, DEFAULT)


def check(value: str, field: str = "input.contentType") -> str:
    """``value`` if it is a well-formed media type (``type/subtype`` with optional parameters)."""
    if len(value) > MAX_LENGTH or _MEDIA_TYPE.fullmatch(value) is None:
        raise ValidationError.for_field(
            field,
            f"{field} must be a media type like 'text/csv' or 'text/plain; charset=utf-8' "
            f"(printable ASCII, at most {MAX_LENGTH} characters); got {value[:100]!r}",
        )
    return value
