"""GraphiQL served by OrderGraph itself: our page plus the vendored build in ``api/static/graphiql``.

    GET /graphql  (Accept: text/html, not production)   the page (``ide_page``)
    GET /static/graphiql/{file}                          the vendored files (``ide_mount``)

Strawberry's own IDE page loads React and GraphiQL from a public CDN, so offline it never
leaves "Loading…"; this page asks nothing of any other origin (its CSP says so too).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static" / "graphiql"
VERSION = "3.9.0"  # the vendored GraphiQL (api/static/graphiql/README.md); busts browser caches on upgrade
HEADERS = json.dumps({"Authorization": "Bearer <your key>"}, indent=2)
QUERY = """# Welcome to OrderGraph's GraphiQL.
# 1. Put an API key in the Headers tab below (`make run` printed one; or
#    `ordergraph keys create --tenant demo --role admin`).
# 2. Run this with the ▶ button or Ctrl-Enter. Ctrl-Space completes; the Docs
#    button shows the schema (it loads once the key is valid: re-fetch it with Shift-Ctrl-R).
# Subscriptions (e.g. `subscription { orderEvents { eventId type order { number } } }`)
# stream over a WebSocket (graphql-transport-ws) with the same headers.
query FirstLook {
  viewer { tenant role }
  orders(first: 5) {
    edges { node { number status totalAmount } }
  }
}
"""
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphql-ws.min.js", "graphiql.min.js", "boot.js")


def ide_mount() -> Mount:
    return Mount("/static/graphiql", app=StaticFiles(directory=STATIC), name="graphiql-static")


def ide_page(request: Request) -> HTMLResponse:
    """The page: GraphiQL on ``/graphql`` with the Headers tab open and pre-filled with the key placeholder."""
    base = request.scope.get("root_path", "")
    static = f"{base}/static/graphiql"
    scripts = "\n".join(f'<script src="{static}/{name}?v={VERSION}"></script>' for name in _SCRIPTS)
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OrderGraph · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}/graphiql.min.css?v={VERSION}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql" data-endpoint="{escape(base)}/graphql" data-headers="{escape(HEADERS)}" data-query="{escape(QUERY)}">Loading GraphiQL…</div>
{scripts}
</body>
</html>
"""
    return HTMLResponse(html, headers={"content-security-policy": CSP, "cache-control": "no-store"})
