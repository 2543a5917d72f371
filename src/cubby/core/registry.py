"""Integrations and their actions.

An action declares its input once, as a msgspec Struct. That one declaration drives request
validation (a compiled decoder), the catalog ``props`` and the OpenAPI document. Built-ins
register exactly as a third-party integration would::

    kv = Integration("kv-store", "State KV", "Key-value store", categories=["DEVELOPER_TOOLS"])

    @kv.action("get", "Get", "Retrieve the value for a key")
    async def get(ctx: ActionContext, params: GetInput) -> GetOutput: ...

A string prop that takes one of a few values, matched whatever the letter case and with
synonyms, declares them as ``Meta(extra={"choices": {"utf-8": "utf8", "utf8": "utf8", ...}})``
(lowercase spelling -> canonical value): the catalog shows a DROPDOWN of the canonical values,
and :meth:`Action.decode` turns every accepted spelling into its canonical value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

import msgspec
from msgspec import inspect as mi

from cubby.core.action_services import ActionServices
from cubby.core.schema_rules import apply_schema_rules
from cubby.core.scopes import Namespace
from cubby.core.validation import decode_or_raise
from cubby.errors import ValidationError


@dataclass(frozen=True)
class ActionContext:
    """What an action may touch: its namespace and the process's services."""

    namespace: Namespace
    services: ActionServices
    integration_alias: str


Handler = Callable[[ActionContext, Any], Awaitable[Any]]


# The Weavz set of catalog categories (API.md, "Client compatibility details").
CATEGORIES = frozenset({
    "AI", "ANALYTICS", "COMMERCE", "COMMUNICATION", "CONTENT_AND_FILES", "CUSTOMER_SUPPORT",
    "DEVELOPER_TOOLS", "FINANCE", "FORMS_AND_SURVEYS", "HR_AND_RECRUITING", "MARKETING",
    "PROJECT_MANAGEMENT", "PRODUCTIVITY", "SALES_AND_CRM",
})  # fmt: skip
LOGO_PATH = "/logos/{name}.svg"


def _dropdown(values: list[Any]) -> tuple[str, dict[str, Any]]:
    # The Weavz clients' tool adapters read the choices from ``options.options``.
    return "DROPDOWN", {"options": {"options": [{"label": str(v), "value": v} for v in values]}}


def _prop_type(info: mi.Type, extra: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "prop_type" in extra:
        return str(extra["prop_type"]), {}
    if "choices" in extra:
        return _dropdown(list(dict.fromkeys(extra["choices"].values())))
    if isinstance(info, mi.UnionType):
        non_null = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(non_null) == 1:
            return _prop_type(non_null[0], extra)
        return "JSON", {}
    if isinstance(info, mi.Metadata):
        return _prop_type(info.type, extra)
    if isinstance(info, mi.StrType):
        return "SHORT_TEXT", {}
    if isinstance(info, (mi.IntType, mi.FloatType)):
        return "NUMBER", {}
    if isinstance(info, mi.BoolType):
        return "CHECKBOX", {}
    if isinstance(info, mi.LiteralType):
        return _dropdown(list(info.values))
    return "JSON", {}


def _meta_of(info: mi.Type) -> tuple[str | None, str | None, dict[str, Any]]:
    if isinstance(info, mi.UnionType):
        for member in info.types:
            if isinstance(member, mi.Metadata):
                return _meta_of(member)
    if isinstance(info, mi.Metadata):
        extra = info.extra_json_schema or {}
        return extra.get("title"), extra.get("description"), info.extra or {}
    return None, None, {}


def humanize(name: str) -> str:
    return name.replace("_", " ").capitalize()


@dataclass
class Action:
    name: str
    display_name: str
    description: str
    input_type: type[msgspec.Struct]
    output_type: Any
    handler: Handler
    read_only: bool = False  # changes nothing: an idempotencyKey is ignored (core/idempotency)
    decoder: msgspec.json.Decoder[Any] = field(init=False, repr=False)
    # (attribute, wire name, lowercase spelling -> canonical value) of each choice prop
    _choices: list[tuple[str, str, dict[str, str]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.decoder = msgspec.json.Decoder(self.input_type)
        info = mi.type_info(self.input_type)
        assert isinstance(info, mi.StructType)
        self._choices = []
        for f in info.fields:
            choices = _meta_of(f.type)[2].get("choices")
            if choices:
                self._choices.append((f.name, f.encode_name, dict(choices)))

    def decode(self, raw: bytes | msgspec.Raw) -> Any:
        """The validated input Struct of one call (errors name ``input.<field>``)."""
        params = decode_or_raise(self.decoder, raw, prefix="input")
        for name, wire, choices in self._choices:
            value = getattr(params, name)
            if value is None:
                continue
            canonical = choices.get(value.lower())
            if canonical is None:
                allowed = ", ".join(dict.fromkeys(choices.values()))
                raise ValidationError.for_field(
                    f"input.{wire}", f"{wire} must be one of {allowed}; got {value!r}"
                )
            setattr(params, name, canonical)
        return params

    def props(self) -> dict[str, dict[str, Any]]:
        info = mi.type_info(self.input_type)
        assert isinstance(info, mi.StructType)
        props: dict[str, dict[str, Any]] = {}
        for f in info.fields:
            title, description, extra = _meta_of(f.type)
            prop_type, more = _prop_type(f.type, extra)
            prop: dict[str, Any] = {
                "type": prop_type,
                "required": f.required,
                "displayName": title or humanize(f.name),
                "description": description or "",
            }
            if f.default is not msgspec.NODEFAULT:
                prop["defaultValue"] = f.default
            prop.update(more)
            props[f.encode_name] = prop
        return props

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayName": self.display_name,
            "description": self.description,
            "props": self.props(),
        }

    def input_schema(self) -> dict[str, Any]:
        """The input as one self-contained JSON Schema object (``$defs`` kept for nested
        types): what MCP tools and other schema consumers take. It is msgspec's schema of the
        same Struct the OpenAPI document and the decoder use, so they cannot disagree."""
        doc = msgspec.json.schema(self.input_type)
        defs = doc.get("$defs", {})
        apply_schema_rules(defs, [self.input_type], "#/$defs/{name}")
        name = doc["$ref"].rsplit("/", 1)[-1]
        schema = dict(defs.pop(name))
        if defs:
            schema["$defs"] = defs
        return schema


@dataclass
class Integration:
    name: str
    display_name: str
    description: str
    categories: list[str] = field(default_factory=list)
    actions: dict[str, Action] = field(default_factory=dict)
    logo_svg: str | None = None  # served at LOGO_PATH; None: a generic logo

    def __post_init__(self) -> None:
        unknown = sorted(set(self.categories) - CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories {unknown} (use the Weavz set: CATEGORIES)")

    def action(
        self, name: str, display_name: str, description: str, *, read_only: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register a handler; its input and output types come from its annotations.
        ``read_only`` marks an action that changes nothing (it ignores idempotency keys)."""

        def register(handler: Handler) -> Handler:
            hints = get_type_hints(handler)
            params = [v for k, v in hints.items() if k != "return"]
            self.actions[name] = Action(
                name=name,
                display_name=display_name,
                description=description,
                input_type=params[-1],
                output_type=hints.get("return", Any),
                handler=handler,
                read_only=read_only,
            )
            return handler

        return register

    def logo_url(self, base_url: str) -> str:
        return base_url + LOGO_PATH.format(name=self.name)

    def describe(self, base_url: str) -> dict[str, Any]:
        """The catalog's Integration shape (API.md). Built-ins need no auth and fire no
        triggers, so ``auth``, ``authOptions`` and ``triggers`` are empty."""
        return {
            "name": self.name,
            "displayName": self.display_name,
            "description": self.description,
            "logoUrl": self.logo_url(base_url),
            "categories": self.categories,
            "auth": {},
            "authOptions": [],
            "actions": {name: action.describe() for name, action in self.actions.items()},
            "triggers": {},
        }

    def summary(self, base_url: str) -> dict[str, Any]:
        """The catalog's IntegrationSummary shape (``?summary=true``)."""
        return {
            "name": self.name,
            "displayName": self.display_name,
            "description": self.description,
            "logoUrl": self.logo_url(base_url),
            "categories": self.categories,
            "actionCount": len(self.actions),
            "triggerCount": 0,
            "auth": {},
        }


class Registry:
    def __init__(self) -> None:
        self._integrations: dict[str, Integration] = {}

    def register(self, integration: Integration) -> None:
        if integration.name in self._integrations:
            raise ValueError(f"integration {integration.name!r} is already registered")
        self._integrations[integration.name] = integration

    def get(self, name: str) -> Integration | None:
        return self._integrations.get(name)

    def all(self) -> list[Integration]:
        return list(self._integrations.values())

    def names(self) -> list[str]:
        return list(self._integrations)
