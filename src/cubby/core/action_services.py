"""What an action may use of the process's services, as a protocol.

``cubby.services.Services`` (the composition of one process) satisfies it. Actions and the
domain functions they call are typed against this protocol instead of ``Services`` itself,
because ``Services`` holds the :class:`~cubby.core.registry.Registry` of those very actions:
naming it here would make the registry and the composition import each other.
"""

from __future__ import annotations

from typing import Protocol

from cubby.backends.base import MetaStore
from cubby.backends.blobs import BlobStore
from cubby.settings import Settings


class ActionServices(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def meta(self) -> MetaStore: ...

    @property
    def blobs(self) -> BlobStore: ...
