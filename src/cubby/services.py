"""The per-process composition of backends and helpers that handlers and actions use."""

from __future__ import annotations

from dataclasses import dataclass

from cubby.auth import Authenticator
from cubby.backends.base import MetaStore
from cubby.backends.blobs import BlobStore
from cubby.core.registry import Registry
from cubby.settings import Settings


@dataclass
class Services:
    settings: Settings
    meta: MetaStore
    blobs: BlobStore
    registry: Registry
    auth: Authenticator

    def close(self) -> None:
        self.meta.close()
        self.blobs.close()
