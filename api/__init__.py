"""The ASGI app, its settings and lifespan, inbound endpoints and the CLI."""
