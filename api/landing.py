"""``GET /``: a small page that tells a newcomer where everything is (zh/en by ``Accept-Language`` or ``?lang=``).

    Route("/", landing)            # in api.app
    await demo_lookup("demo")      # ("OG000000001", "5678") once the demo seed ran, else None

Self-contained: no scripts, no outside assets. The demo look-up hint shows only when the tracking
tenant holds the seeded showcase order (``make run``); the console link says "coming" while the app
has no ``/console`` route. ``cmd_demo``'s banner prints the same addresses (``banner_lines``).
"""

from __future__ import annotations

import logging
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Match

from models import Order, Tenant
from models.order import order_no
from public_tracking.i18n import LANGS, from_accept_language

log = logging.getLogger("ordergraph.landing")

#: Shown as paths in the repository (text, not links: the server does not serve its own docs).
DOCS = ("README.md", "schema.graphql", "docs/integrations.md", "docs/rules.md", "docs/audit.md", "docs/scale-out.md")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

TEXT = {
    "zh": {
        "html_lang": "zh-CN", "title": "OrderGraph 订单中枢", "intro": "多渠道订单、库存、发货与物流的一张 GraphQL 图。",
        "graphiql": "GraphiQL：在浏览器里写查询（在 Headers 里填 API key）",
        "graphiql_off": "生产环境不提供 GraphiQL；请用 POST /graphql",
        "console": "运营控制台", "coming": "即将推出", "track": "顾客物流查询页",
        "demo": "演示查询：订单号 {number}，手机号后 4 位 {digits}", "healthz": "健康检查（数据库是否可达）",
        "metrics": "Prometheus 指标", "docs": "文档（在代码仓库中）", "switch": "English", "other": "en",
        "key": "API key：ordergraph keys create --tenant SLUG --role admin（make run 会打印一个演示用 key）",
    },
    "en": {
        "html_lang": "en", "title": "OrderGraph order hub",
        "intro": "One GraphQL graph of your channels' orders, stock, shipments and tracking.",
        "graphiql": "GraphiQL: write queries in the browser (put your API key in Headers)",
        "graphiql_off": "GraphiQL is off in production; POST /graphql",
        "console": "Operations console", "coming": "coming", "track": "Customer tracking page",
        "demo": "demo look-up: order {number}, phone digits {digits}", "healthz": "Health (is the database reachable)",
        "metrics": "Prometheus metrics", "docs": "Docs (in the repository)", "switch": "中文", "other": "zh",
        "key": "API key: ordergraph keys create --tenant SLUG --role admin (make run prints a demo key)",
    },
}


async def demo_lookup(slug: str) -> tuple[str, str] | None:
    """The seeded showcase order's number and the phone's last 4 digits, if ``slug`` holds the demo seed."""
    from api.seed import SHOWCASE_IDS, SHOWCASE_PHONE

    tenant_id = await Tenant.filter(slug=slug).first().values_list("id", flat=True)
    if tenant_id is None:
        return None
    order_id = await Order.filter(tenant_id=tenant_id, external_id=SHOWCASE_IDS[0]).first().values_list("id", flat=True)
    return None if order_id is None else (order_no(order_id), SHOWCASE_PHONE[-4:])


def banner_lines(base: str, lookup: tuple[str, str] | None, operator: tuple[str, str] | None = None) -> str:
    """The addresses ``make run`` prints, the same the landing page links."""
    demo = f"   (demo look-up: order {lookup[0]}, phone digits {lookup[1]})" if lookup else ""
    sign_in = f"   (sign in: {operator[0]} / {operator[1]})" if operator else ""
    return (f"  Start here: {base}/   (links to everything below)\n"
            f"  GraphQL (GraphiQL in the browser): {base}/graphql\n"
            f"  Customer tracking page: {base}/track{demo}\n"
            f"  Operations console: {base}/console{sign_in}\n"
            f"  Health: {base}/healthz   Metrics: {base}/metrics\n"
            f"  Docs: README.md, schema.graphql and docs/*.md in the repository\n")


def _serves(request: Request, path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return any(route.matches(scope)[0] != Match.NONE for route in request.app.routes)


async def _lookup_or_none(request: Request) -> tuple[str, str] | None:
    settings = getattr(request.app.state, "settings", None)
    slug = settings.tracking_tenant if settings is not None else "demo"
    try:
        return await demo_lookup(slug)
    except Exception as exc:  # the database is down: the page still shows every link, without the hint
        log.warning("landing page: demo look-up unavailable (%s)", type(exc).__name__)
        return None


async def landing(request: Request) -> HTMLResponse:
    asked = request.query_params.get("lang")
    lang = asked if asked in LANGS else from_accept_language(request.headers.get("accept-language", ""))
    words = TEXT[lang]
    settings = getattr(request.app.state, "settings", None)
    production = bool(settings is not None and settings.production)
    lookup = await _lookup_or_none(request)

    def item(path: str, text: str, extra: str = "") -> str:
        return f'<li><a href="{path}">{escape(path)}</a> {escape(text)}{extra}</li>'

    console = (item("/console", words["console"]) if _serves(request, "/console")
               else f'<li><span class="off">/console</span> {escape(words["console"])} ({escape(words["coming"])})</li>')
    demo = (f'<br><span class="hint">{escape(words["demo"].format(number=lookup[0], digits=lookup[1]))}</span>'
            if lookup else "")
    docs = "".join(f"<li><code>{escape(path)}</code></li>" for path in DOCS)
    graphiql = (f'<li><span class="off">/graphql</span> {escape(words["graphiql_off"])}</li>' if production
                else item("/graphql", words["graphiql"]))
    html = f"""<!doctype html>
<html lang="{words['html_lang']}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(words['title'])}</title>
<link rel="icon" href="data:,">
<style>
body {{ font: 16px/1.6 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 40rem;
       margin: 2rem auto; padding: 0 1rem; color: #1d2b24; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} a {{ color: #2f7d4f; }} ul {{ padding-left: 1.2rem; }}
li {{ margin: .4rem 0; }} .off {{ color: #777; }} .hint {{ color: #555; font-size: .9rem; }}
code {{ background: #f2f4f3; padding: 0 .3rem; border-radius: 3px; }} .lang {{ float: right; }}
</style>
</head>
<body>
<a class="lang" href="?lang={words['other']}" hreflang="{words['other']}">{words['switch']}</a>
<h1>{escape(words['title'])}</h1>
<p>{escape(words['intro'])}</p>
<ul>
{graphiql}
{console}
{item("/track", words["track"], demo)}
{item("/healthz", words["healthz"])}
{item("/metrics", words["metrics"])}
</ul>
<p class="hint">{escape(words['key'])}</p>
<h2>{escape(words['docs'])}</h2>
<ul>{docs}</ul>
</body>
</html>
"""
    return HTMLResponse(html, headers={"content-security-policy": CSP, "vary": "Accept-Language",
                                       "cache-control": "no-store"})
