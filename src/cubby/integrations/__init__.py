"""Built-in integrations. They register through the same Registry API a plug-in would use."""

from __future__ import annotations

from cubby.core.registry import Registry


def register_builtins(registry: Registry) -> None:
    from cubby.integrations.kv_store import kv_store
    from cubby.integrations.storage import storage

    registry.register(storage)
    registry.register(kv_store)
