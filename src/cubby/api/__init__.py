"""The HTTP layer: thin handlers, wire shapes and the OpenAPI document."""
