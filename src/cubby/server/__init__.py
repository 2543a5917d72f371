"""cubby's HTTP server layer: uvicorn's protocol with cubby's timeouts, limits and sendfile."""
