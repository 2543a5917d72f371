"""The dashboard and playground, served by the same app at ``/`` (see routes.py)."""
