"""The operations console at ``/console``: server-rendered pages for people, a client of the GraphQL API.

    routes = [..., *console_routes(settings, schema, bus)]     # from console.routes

Modules: ``accounts`` (people, passwords, lockout, sessions; no GraphQL, so the
CLI and the demo seed may use it), ``client`` (in-process GraphQL as the
signed-in person), ``documents`` (the GraphQL it sends), ``site`` (cookies,
CSRF, rendering), ``pages`` (sign-in and guards), ``board``, ``orders``,
``maps``, ``report``, ``webhooks``, ``rules``, ``stock``, ``channels``, ``policy`` (the pages), ``live`` (board
updates as server-sent events), ``charts`` (inline SVG), ``i18n`` (zh/en).
"""
