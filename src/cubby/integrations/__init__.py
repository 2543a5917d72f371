"""Built-in integrations. They register through the same Registry API a plug-in would use."""

from __future__ import annotations

from cubby.core.registry import Registry


def register_builtins(registry: Registry) -> None:
    from cubby.integrations.agent_memory import agent_memory
    from cubby.integrations.agent_scratchpad import agent_scratchpad
    from cubby.integrations.kv_store import kv_store
    from cubby.integrations.sequential_thinking import sequential_thinking
    from cubby.integrations.storage import storage

    registry.register(storage)
    registry.register(kv_store)
    registry.register(agent_memory)
    registry.register(agent_scratchpad)
    registry.register(sequential_thinking)
