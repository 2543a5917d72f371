"""MCP servers: agents use a workspace's integrations as tools over the Model Context Protocol.

- ``models``: the request and response bodies of the MCP servers resource (API.md; the
  stored records are in ``cubby.core.mcp_records``).
- ``manage``: creating servers, tokens and tool overrides (domain rules, no HTTP, no SQL).
- ``servers``: the ``/api/v1/mcp/servers`` routes (thin handlers).
- ``tokens``: the token format and the per-process token cache of the MCP endpoint.
- ``tools``: integrations -> MCP tools (names, schemas, annotations, overrides), and
  ``tools/call`` through :func:`cubby.core.execute.execute`.
- ``endpoint``: ``/mcp/srv_<id>``, Streamable HTTP (the official ``mcp`` package, stateless).
- ``stdio``: the same tools over stdio for local agents (``cubby mcp``).
"""
