"""Text rules of the agent tools: input limits, words for full-text search, search queries and
cursors, snippets.

Search works on words that cubby cuts itself, the same way for both backends, so SQLite (FTS5)
and PostgreSQL (``tsvector``) index and match exactly the same words: a word is a run of
letters and digits, compared without letter case and without diacritics ("Café" is ``cafe``),
at most :data:`MAX_WORD_CHARS` characters. A query is never query syntax: its words are cut the
same way and each becomes a quoted prefix term (FTS5 ``"word"*``, tsquery ``'word':*``), so a
query of ``"``, ``OR``, ``NEAR(`` or ``:*`` is plain text (a query without any word matches
nothing). Every word of a query must match the start of a word of the document.

Each indexed word starts with its namespace's scope (:func:`scope_token`): ``alice`` in one
end user's memory is the index term ``z3f9c0a1b2c4dalice``. So a search reads only its own
namespace's entries of the index, whatever the size of the other namespaces: with the scope as
a separate term to intersect with, a one-word search in a 100,000-observation namespace read
that term's 100,000 entries each time (tens of ms, bench/agent_search.py), and without it a
common word read every namespace's matches. The joins still filter by namespace.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata

import msgspec

from cubby.core.paging import decode_cursor, encode_cursor
from cubby.errors import ActionFailed, PayloadTooLarge, ValidationError

MAX_NAME_CHARS = 256
MAX_ITEMS = 1000
MAX_OBSERVATION_BYTES = 16 * 1024
MAX_THOUGHT_BYTES = 64 * 1024
MAX_REVISIONS = 100  # earlier texts kept per thought (bounds one row)
MAX_QUERY_WORDS = 16
MAX_WORD_CHARS = 64
# The distinct index terms of one document (a page, an observation), in UTF-8 bytes with their
# scope: PostgreSQL cannot hold a tsvector of 1 MB or more, so a 1 MiB page of distinct words
# must be cut somewhere, and both backends cut it at the same place.
MAX_INDEXED_BYTES = 512 * 1024
SNIPPET_BEFORE = 60
SNIPPET_AFTER = 140

_WORD = re.compile(r"[^\W_]+")
_CONTROL = re.compile("[\x00-\x1f\x7f]")  # as core.fields.NO_CONTROL declares it


def fold(text: str) -> str:
    """Lower case, compatibility forms and diacritics removed (``Café`` -> ``cafe``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """The words of ``text`` in order (repeats kept), each cut to MAX_WORD_CHARS."""
    return [w[:MAX_WORD_CHARS] for w in _WORD.findall(fold(text))]


def index_words(scope: str, *texts: str) -> str:
    """The distinct words of ``texts``, each prefixed with ``scope``, as one space-separated
    string: the terms that are indexed."""
    seen: dict[str, None] = {}
    total = 0
    for text in texts:
        for word in words(text):
            term = scope + word
            if term in seen:
                continue
            total += len(term.encode()) + 1
            if total > MAX_INDEXED_BYTES:
                return " ".join(seen)
            seen[term] = None
    return " ".join(seen)


def query_words(query: str) -> list[str]:
    """The distinct words of a search query (empty: the query matches nothing)."""
    found = list(dict.fromkeys(words(query)))
    if len(found) > MAX_QUERY_WORDS:
        raise ValidationError.for_field(
            "input.query",
            f"the query has {len(found)} words; at most {MAX_QUERY_WORDS} are allowed",
            limit=MAX_QUERY_WORDS,
        )
    return found


def fts5_query(scope: str, terms: list[str]) -> str:
    """An FTS5 MATCH expression: every word, with the namespace's scope, as a prefix term.
    Terms hold only letters and digits, so quoting them cannot be escaped."""
    return " AND ".join(f'"{scope}{w}"*' for w in terms)


def tsquery(scope: str, terms: list[str]) -> str:
    """A tsquery text (cast with ``::tsquery``, no parser involved): every word, with the
    namespace's scope, as a prefix term."""
    return " & ".join(f"'{scope}{w}':*" for w in terms)


def scope_token(workspace_id: str, ns: str) -> str:
    """The prefix of every index term of one namespace (see the module docstring): ``z`` and
    48 bits of a hash (letters and digits only, so it stays one word for both indexes; a
    collision would only cost speed, as the queries also filter by namespace)."""
    digest = hashlib.blake2b(f"{workspace_id}\0{ns}".encode(), digest_size=6).hexdigest()
    return "z" + digest


def digest(text: str) -> str:
    """A fixed-size key of a text, for unique constraints over texts of up to 16 KiB."""
    return base64.b64encode(hashlib.blake2b(text.encode(), digest_size=16).digest()).decode()


def snippet(content: str, terms: list[str]) -> str:
    """About 200 characters of ``content`` around the first word matching a query word."""
    start = 0
    for match in _WORD.finditer(content):
        if any(w.startswith(t) for w in words(match.group()) for t in terms):
            start = match.start()
            break
    lo = max(0, start - SNIPPET_BEFORE)
    hi = min(len(content), start + SNIPPET_AFTER)
    text = content[lo:hi]
    return ("…" if lo > 0 else "") + text + ("…" if hi < len(content) else "")


# -- input rules ---------------------------------------------------------------------------


def check_name(value: str, field: str) -> str:
    """A name (entity, type, relation type, page, chain, branch): 1..256 characters, valid
    UTF-8, no control characters."""
    if not value or len(value) > MAX_NAME_CHARS:
        raise ValidationError.for_field(
            field, f"must be 1 to {MAX_NAME_CHARS} characters", limit=MAX_NAME_CHARS
        )
    if _CONTROL.search(value):
        raise ValidationError.for_field(field, "must not contain control characters")
    _utf8(value, field)
    return value


def check_text(value: str, field: str, limit: int) -> str:
    """A body (observation, page, thought): valid UTF-8 without NUL, at most ``limit`` bytes."""
    size = len(_utf8(value, field))
    if "\0" in value:
        raise ValidationError.for_field(field, "must not contain NUL characters")
    if size > limit:
        raise PayloadTooLarge(
            f"{field} is {size} bytes; the limit is {limit}",
            details={"field": field, "limit": limit, "size": size},
        )
    return value


def check_count(items: list[object], field: str, limit: int = MAX_ITEMS) -> None:
    if len(items) > limit:
        raise ValidationError.for_field(
            field, f"{len(items)} items; at most {limit} per call", limit=limit
        )


def _utf8(value: str, field: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError.for_field(field, "must be valid UTF-8 text") from None


def whole_number(value: float, field: str) -> int:
    """An id sent as a JSON number: ``3`` and ``3.0`` are 3, ``3.5`` is a 400."""
    if value != int(value) or value < 1:
        raise ValidationError.for_field(field, f"must be a positive whole number, got {value}")
    return int(value)


def clamp(limit: int | None, default: int, maximum: int) -> int:
    return min(limit or default, maximum)


# -- cursors -------------------------------------------------------------------------------


class RankCursor(msgspec.Struct, array_like=True):
    """Where a ranked listing stopped: the last answer's score and name."""

    score: float
    name: str


_rank_decoder = msgspec.json.Decoder(RankCursor)


def encode_rank_cursor(score: float, name: str) -> str:
    return encode_cursor(msgspec.json.encode(RankCursor(score, name)).decode())


def decode_rank_cursor(cursor: str) -> RankCursor:
    text = decode_cursor(cursor)
    try:
        return _rank_decoder.decode(text)
    except msgspec.DecodeError:
        raise ValidationError.for_field(
            "input.cursor", "invalid cursor; pass nextCursor from the previous page unchanged"
        ) from None


# -- failures ------------------------------------------------------------------------------


def entity_not_found(name: str) -> ActionFailed:
    return ActionFailed(
        f"entity {name!r} does not exist; create_entities creates it, search finds names",
        reason="ENTITY_NOT_FOUND",
        entityName=name,
    )


def page_not_found(name: str) -> ActionFailed:
    return ActionFailed(
        f"page {name!r} does not exist; list_pages shows the pages there are",
        reason="PAGE_NOT_FOUND",
        pageName=name,
    )


def thought_not_found(chain_id: str, thought_id: int) -> ActionFailed:
    return ActionFailed(
        f"chain {chain_id!r} has no thought {thought_id}; get_chain shows its thoughts",
        reason="THOUGHT_NOT_FOUND",
        chainId=chain_id,
        thoughtId=thought_id,
    )


def page_too_large(name: str, size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"page {name!r} would be {size} bytes; the limit is {limit}",
        details={"field": "input.content", "limit": limit, "size": size},
    )


def chain_full(chain_id: str, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"chain {chain_id!r} has {limit} thoughts, the most a chain may hold",
        details={"field": "input.chainId", "limit": limit},
    )


def too_many_revisions(thought_id: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"thought {thought_id} has been revised {MAX_REVISIONS} times, the most kept",
        details={"field": "input.thoughtId", "limit": MAX_REVISIONS},
    )
