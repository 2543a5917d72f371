"""The ``cubby`` command: one module per command group, assembled in :mod:`cubby.cli.root`."""

from cubby.cli.root import main

__all__ = ["main"]
