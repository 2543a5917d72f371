"""The archive of a backup: a folder or a ``.tar`` with the same members.

::

    tables/<table>.jsonl   one JSON array per row, columns as listed in the manifest
    files/<blob key>       every body the rows name (small bodies stay inline in their row)
    secret_key             the server secret of the data dir, when it had one
    manifest.json          format, time, tables (columns, rows, sha256 of the file), bodies
                           (key, size, sha256), counts; written last

Row values are JSON; a ``bytes`` column's value is base64 text. A tar is written member by
member as the data arrives (header, bytes, padding), so nothing is held in memory whole, and
read back with :mod:`tarfile`. Every name read from an archive is checked before it is used.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from cubby.backends.snapshot import Columns, Kind, Row

FORMAT = "cubby-backup"
VERSION = 1
MANIFEST = "manifest.json"
SECRET = "secret_key"
BLOCK = 512
READ_CHUNK = 1024 * 1024
_KINDS = frozenset({"text", "int", "float", "bool", "bytes"})
_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_BLOB_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}(/[A-Za-z0-9_-]{1,128}){0,3}")


class ArchiveError(Exception):
    """The archive is missing, truncated, tampered with or lies; the message is one line."""


def table_member(name: str) -> str:
    if not _TABLE_NAME.fullmatch(name):
        raise ArchiveError(f"bad table name {name!r} in the manifest")
    return f"tables/{name}.jsonl"


def body_member(key: str) -> str:
    if not _BLOB_KEY.fullmatch(key):
        raise ArchiveError(f"bad body key {key!r} in the manifest")
    return f"files/{key}"


# -- rows -------------------------------------------------------------------------------------
def encode_row(row: Row, kinds: list[Kind]) -> bytes:
    values = [
        base64.b64encode(v).decode() if k == "bytes" and v is not None else v
        for v, k in zip(row, kinds, strict=True)
    ]
    return msgspec.json.encode(values) + b"\n"


def decode_row(line: bytes, kinds: list[Kind]) -> Row:
    try:
        values = msgspec.json.decode(line)
    except msgspec.DecodeError:
        raise ArchiveError("a table file holds a line that is not JSON") from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise ArchiveError("a table file holds a row that does not match its columns")
    try:
        return tuple(
            base64.b64decode(v, validate=True) if k == "bytes" and v is not None else v
            for v, k in zip(values, kinds, strict=True)
        )
    except (ValueError, TypeError):
        raise ArchiveError("a table file holds a bytes value that is not base64") from None


def columns_of(entry: dict[str, Any]) -> Columns:
    raw = entry.get("columns")
    if not isinstance(raw, list) or not raw:
        raise ArchiveError(f"the manifest lists no columns for table {entry.get('name')!r}")
    columns: Columns = []
    for item in raw:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], str)
            or item[1] not in _KINDS
        ):
            raise ArchiveError(f"bad column {item!r} in the manifest")
        columns.append((item[0], item[1]))
    return columns


# -- writing ----------------------------------------------------------------------------------
class Sink:
    """Where members go: :class:`FolderSink` or :class:`TarSink`."""

    def begin(self, name: str, size: int) -> None:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def add(self, name: str, data: bytes) -> None:
        self.begin(name, len(data))
        self.write(data)
        self.end()


class FolderSink(Sink):
    def __init__(self, root: Path) -> None:
        self.root = root
        self._file: IO[bytes] | None = None
        root.mkdir(parents=True, exist_ok=True)

    def begin(self, name: str, size: int) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "wb")  # noqa: SIM115 - closed in end()

    def write(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)

    def end(self) -> None:
        assert self._file is not None
        self._file.close()
        self._file = None

    def close(self) -> None:
        return None


class TarSink(Sink):
    """A ustar/pax tar written member by member: the size of each is known before its bytes."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._size = 0
        self._written = 0

    def begin(self, name: str, size: int) -> None:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = int(time.time())
        info.mode = 0o600
        self._out.write(info.tobuf(format=tarfile.PAX_FORMAT))
        self._size, self._written = size, 0

    def write(self, data: bytes) -> None:
        self._written += len(data)
        if self._written > self._size:
            raise ValueError("tar member longer than its header says")
        self._out.write(data)

    def end(self) -> None:
        if self._written != self._size:
            raise ValueError("tar member shorter than its header says")
        self._out.write(b"\0" * (-self._size % BLOCK))

    def close(self) -> None:
        self._out.write(b"\0" * (2 * BLOCK))
        self._out.close()


# -- reading ----------------------------------------------------------------------------------
class Archive:
    """A backup to read: a folder or a tar file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        if path.is_dir():
            return
        if not path.is_file():
            raise ArchiveError(f"no backup or export archive at {path}")
        try:
            self._tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed in close()
            for info in self._tar:
                if info.isfile():
                    self._members[info.name] = info
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{path} is not a readable backup tar: {exc}") from None

    def exists(self, name: str) -> bool:
        if self._tar is None:
            return (self.path / name).is_file()
        return name in self._members

    def size(self, name: str) -> int:
        if self._tar is None:
            return (self.path / name).stat().st_size
        return self._members[name].size

    def open(self, name: str) -> IO[bytes]:
        if not self.exists(name):
            raise ArchiveError(f"the backup has no {name}")
        if self._tar is None:
            return open(self.path / name, "rb")
        file = self._tar.extractfile(self._members[name])
        assert file is not None
        return file

    def read(self, name: str) -> bytes:
        with self.open(name) as file:
            try:
                return file.read()
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise ArchiveError(f"cannot read {name} from the backup: {exc}") from None

    def chunks(self, name: str) -> Iterator[bytes]:
        with self.open(name) as file:
            while True:
                try:
                    chunk = file.read(READ_CHUNK)
                except (tarfile.TarError, OSError, EOFError) as exc:
                    raise ArchiveError(f"cannot read {name} from the backup: {exc}") from None
                if not chunk:
                    return
                yield chunk

    def lines(self, name: str) -> Iterator[bytes]:
        with self.open(name) as file:
            try:
                yield from file
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise ArchiveError(f"cannot read {name} from the backup: {exc}") from None

    def manifest(self) -> dict[str, Any]:
        if not self.exists(MANIFEST):
            raise ArchiveError(f"{self.path} has no {MANIFEST}: not a cubby backup, or cut short")
        try:
            manifest = msgspec.json.decode(self.read(MANIFEST))
        except msgspec.DecodeError:
            raise ArchiveError(f"the {MANIFEST} of {self.path} is not JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError(f"{self.path} is not a cubby backup (no {FORMAT} manifest)")
        if manifest.get("version") != VERSION:
            raise ArchiveError(
                f"{self.path} is a backup of format version {manifest.get('version')!r}; "
                f"this cubby reads version {VERSION}"
            )
        if not isinstance(manifest.get("tables"), list) or not isinstance(
            manifest.get("bodies"), list
        ):
            raise ArchiveError(f"the {MANIFEST} of {self.path} lists no tables or bodies")
        return manifest

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()


def sha256_of(chunks: Iterator[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
