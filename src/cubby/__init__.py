"""cubby: self-hosted files and state for apps and AI agents."""

__version__ = "0.1.0"

__all__ = ["__version__"]
