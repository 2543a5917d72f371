"""Runtime settings, read once from the environment (``CUBBY_*``) or given explicitly.

Every CLI option of ``cubby serve`` maps to one of these variables, so a multi-worker server
(whose workers are fresh processes) rebuilds the same settings from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

MIB = 1024 * 1024
METRICS_MODES = ("off", "api-key", "anyone")


class SettingsError(ValueError):
    """A setting has a value cubby cannot use; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(
    env: Mapping[str, str], name: str, default: float, minimum: float | None = None
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and not value >= minimum:  # also rejects nan
        raise SettingsError(f"{name} must be >= {minimum:g}, got {raw}")
    return value


def _limit(env: Mapping[str, str], name: str, minimum: int = 0) -> int | None:
    """An optional limit: unset or empty = none."""
    if not env.get(name):
        return None
    return _int(env, name, 0, minimum)


def _rate(env: Mapping[str, str], name: str) -> float | None:
    if not env.get(name):
        return None
    value = _float(env, name, 0.0, minimum=0.0)
    if value <= 0:
        raise SettingsError(f"{name} must be > 0 (leave it unset for no limit), got {value:g}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or choices[0]).strip().lower()
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything a cubby process needs to know; see docs/configuration.md for each field."""

    data_dir: Path = Path(".cubby")
    database_url: str = ""
    files_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    secret_key: str = ""
    public_url: str = ""
    max_body_bytes: int = 40 * MIB
    kv_max_value_bytes: int = 1 * MIB
    storage_max_file_bytes: int = 25 * MIB
    storage_inline_max_bytes: int = 64 * 1024
    key_cache_seconds: float = 2.0
    metrics: str = "off"  # who may read /metrics: off | api-key | anyone
    orphan_grace_seconds: float = 3600.0
    kv_max_list_items: int = 1000
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    body_min_bytes_per_second: float = 1024.0
    max_connections: int = 1000
    idle_timeout_seconds: float = 5.0
    scratchpad_max_page_bytes: int = 1 * MIB
    thinking_max_chain_thoughts: int = 10_000
    # Server-wide default limits (docs/configuration.md, "Limits"): None = no limit.
    limit_max_bytes: int | None = None
    limit_max_files: int | None = None
    limit_max_keys: int | None = None
    limit_max_items: int | None = None
    limit_end_user_max_bytes: int | None = None
    limit_end_user_max_files: int | None = None
    limit_end_user_max_keys: int | None = None
    limit_end_user_max_items: int | None = None
    limit_requests_per_second: float | None = None
    limit_burst: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("CUBBY_DATA_DIR") or ".cubby")
        return cls(
            data_dir=data_dir,
            database_url=env.get("CUBBY_DATABASE_URL", ""),
            files_url=env.get("CUBBY_FILES_URL", ""),
            host=env.get("CUBBY_HOST") or "127.0.0.1",
            port=_int(env, "CUBBY_PORT", 8080, minimum=0),
            workers=_int(env, "CUBBY_WORKERS", 1, minimum=1),
            secret_key=env.get("CUBBY_SECRET_KEY", ""),
            public_url=env.get("CUBBY_PUBLIC_URL", "").rstrip("/"),
            max_body_bytes=_int(env, "CUBBY_MAX_BODY_BYTES", 40 * MIB, minimum=1024),
            kv_max_value_bytes=_int(env, "CUBBY_KV_MAX_VALUE_BYTES", 1 * MIB, minimum=1),
            storage_max_file_bytes=_int(env, "CUBBY_STORAGE_MAX_FILE_BYTES", 25 * MIB, minimum=1),
            storage_inline_max_bytes=_int(env, "CUBBY_STORAGE_INLINE_MAX_BYTES", 64 * 1024),
            key_cache_seconds=_float(env, "CUBBY_KEY_CACHE_SECONDS", 2.0),
            metrics=_choice(env, "CUBBY_METRICS", METRICS_MODES),
            orphan_grace_seconds=_float(env, "CUBBY_ORPHAN_GRACE_SECONDS", 3600.0, minimum=0),
            kv_max_list_items=_int(env, "CUBBY_KV_MAX_LIST_ITEMS", 1000, minimum=1),
            header_timeout_seconds=_float(env, "CUBBY_HEADER_TIMEOUT_SECONDS", 10.0, minimum=0),
            body_timeout_seconds=_float(env, "CUBBY_BODY_TIMEOUT_SECONDS", 30.0, minimum=0),
            body_min_bytes_per_second=_float(
                env, "CUBBY_BODY_MIN_BYTES_PER_SECOND", 1024.0, minimum=0
            ),
            max_connections=_int(env, "CUBBY_MAX_CONNECTIONS", 1000, minimum=0),
            idle_timeout_seconds=_float(env, "CUBBY_IDLE_TIMEOUT_SECONDS", 5.0, minimum=0),
            scratchpad_max_page_bytes=_int(
                env, "CUBBY_SCRATCHPAD_MAX_PAGE_BYTES", 1 * MIB, minimum=1
            ),
            thinking_max_chain_thoughts=_int(
                env, "CUBBY_THINKING_MAX_CHAIN_THOUGHTS", 10_000, minimum=1
            ),
            limit_max_bytes=_limit(env, "CUBBY_LIMIT_MAX_BYTES"),
            limit_max_files=_limit(env, "CUBBY_LIMIT_MAX_FILES"),
            limit_max_keys=_limit(env, "CUBBY_LIMIT_MAX_KEYS"),
            limit_max_items=_limit(env, "CUBBY_LIMIT_MAX_ITEMS"),
            limit_end_user_max_bytes=_limit(env, "CUBBY_LIMIT_END_USER_MAX_BYTES"),
            limit_end_user_max_files=_limit(env, "CUBBY_LIMIT_END_USER_MAX_FILES"),
            limit_end_user_max_keys=_limit(env, "CUBBY_LIMIT_END_USER_MAX_KEYS"),
            limit_end_user_max_items=_limit(env, "CUBBY_LIMIT_END_USER_MAX_ITEMS"),
            limit_requests_per_second=_rate(env, "CUBBY_LIMIT_REQUESTS_PER_SECOND"),
            limit_burst=_limit(env, "CUBBY_LIMIT_BURST", minimum=1),
        )

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def resolved_database_url(self) -> str:
        """The metadata database URL; defaults to a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'cubby.db').resolve()}"  # sqlite:///abs/path

    @property
    def resolved_files_url(self) -> str:
        """Where file bodies live; defaults to a folder inside the data dir."""
        if self.files_url:
            return self.files_url
        return f"file://{(self.data_dir / 'files').resolve()}"

    @property
    def base_url(self) -> str:
        """The URL clients reach this server on (used in download URLs and the start banner)."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"
