"""Field rules declared once: msgspec enforces them while it decodes a body, and the OpenAPI
document states them, because both read the same ``Annotated`` types (issue 28, item 9).

- Patterns are written so that Python (msgspec, Hypothesis) and ECMAScript (JSON Schema
  clients) read them the same way: the end of the text is ``(?![\\s\\S])`` ("no character
  follows"), never ``$``, which in Python also matches before a trailing newline.
- :data:`MEANINGS` gives each pattern the sentence a 400 says, so the answer to ``"a\\u0001"``
  is "name must not contain control characters", not a regular expression.
- :class:`cubby.core.inputs.Patch` is a PATCH body that must change something: decoding
  ``{}`` fails, and the OpenAPI document gives such bodies ``minProperties: 1``.
- Enumerations are ``Literal`` types; :func:`cubby.core.validation.validation_error` turns
  msgspec's "Invalid enum value" into a message that lists the allowed values.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

_END = r"(?![\s\S])"  # the end of the text, the same in Python and ECMAScript
# no NUL (what a database text cannot hold: core.validators.check_storable)
NO_NUL = rf"^[^\x00]*{_END}"
# control characters: C0, DEL and C1 (core.validators.has_control_chars: ids, keys, texts)
_CONTROL = r"\x00-\x1f\x7f-\x9f"
NO_CONTROL = rf"^[^{_CONTROL}]*{_END}"
# C0 control characters only (names have always allowed DEL)
NO_C0 = rf"^[^\x00-\x1f]*{_END}"
# not only white space, and no C0 control character
NOT_BLANK_NO_C0 = rf"^(?=[\s\S]*\S)[^\x00-\x1f]*{_END}"
# not only white space, and no control character
NOT_BLANK_NO_CONTROL = rf"^(?=[\s\S]*\S)[^{_CONTROL}]*{_END}"
# free text: C0 control characters other than tab and newline are refused
TEXT = rf"^[^\x00-\x08\x0b-\x1f]*{_END}"
# the slug of a workspace and the alias of a workspace integration (core.validators checks
# the same rules for the CLI and the dashboard)
SLUG = rf"^[a-z0-9][a-z0-9-]*{_END}"
ALIAS = rf"^[a-z][a-z0-9_-]*{_END}"

# an id as cubby writes them (core.models.is_uuid)
UUID = rf"^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}{_END}"

# an e-mail address as core.end_users checks it: text, "@", text, no white space or control
EMAIL = rf"^[^@\s{_CONTROL}]+@[^\s{_CONTROL}]+{_END}"

MEANINGS = {
    NO_NUL: "must not contain NUL (U+0000)",
    SLUG: "must be lowercase letters, digits and '-', and start with a letter or digit",
    ALIAS: "must be lowercase letters, digits, '_' and '-', and start with a letter",
    NO_CONTROL: "must not contain control characters",
    NO_C0: "must not contain control characters",
    NOT_BLANK_NO_C0: "must not be blank or contain control characters",
    NOT_BLANK_NO_CONTROL: "must not be blank or contain control characters",
    TEXT: "must not contain control characters other than tab and newline",
    UUID: "must be an id (a lowercase UUID)",
    EMAIL: "must be an address (text, '@', text; no spaces)",
}

# An id in a body or query (workspaceId, ...): a non-empty text; an unknown one is a 404.
Id = Annotated[str, msgspec.Meta(min_length=1)]
