"""Server-side rendering: Jinja2 templates, inline CSS and JS, and the headers every page carries.

The stylesheet and script are small and inlined, so a first view is one
response (about 5 KB compressed). They are kept as files in ``static/`` and
read once at start. A per-response nonce lets them run under a strict CSP.
The return form's own style and script (``returns.css``, ``returns.js``) are
inlined only on the return page, so the first view does not carry them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from domain.tenants.branding import Palette, accent_palette, safe_contact_url, safe_logo_url
from domain.tracking.customer_view import STAGES, AfterSaleView, OrderView, Step
from public_tracking import i18n
from public_tracking.session import Sessions

_JS_COMMENT = re.compile(r"^\s*//.*$", re.M)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str | None) -> bool:
    return bool(text and _CJK.search(text))


def _asset(name: str) -> str:
    return resources.files("public_tracking").joinpath("static", name).read_text(encoding="utf-8")


def _squeeze_css(text: str) -> str:
    return re.sub(r"\s*\n\s*", "", text)


def _squeeze_js(text: str) -> str:
    return "\n".join(line.strip() for line in _JS_COMMENT.sub("", text).splitlines() if line.strip())


@dataclass(frozen=True, slots=True)
class Brand:
    tenant_id: int
    slug: str
    name: str
    logo: str | None
    palette: Palette
    contact: str | None = None  # the "contact the shop" link, shown only when set


def brand_of(tenant: Any) -> Brand:
    return Brand(
        tenant.id, tenant.slug, tenant.name, safe_logo_url(tenant.logo_url), accent_palette(tenant.accent_color),
        safe_contact_url(getattr(tenant, "contact_url", None)),
    )


@dataclass
class View:
    """Everything a template may call: words, formats, URLs, a fresh CSRF token per form."""

    lang: str
    brand: Brand
    base: str
    path: str
    css: str
    js: str
    sessions: Sessions
    csrf_seed: str
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    stages: tuple[str, ...] = STAGES

    @property
    def palette(self) -> Palette:
        return self.brand.palette

    @property
    def logo(self) -> str | None:
        return self.brand.logo

    @property
    def tenant_name(self) -> str:
        return self.brand.name

    @property
    def contact(self) -> str | None:
        return self.brand.contact

    def data_lang(self, text: str | None) -> Markup:
        """`` lang="zh-CN"`` for Chinese data (a name, a title, the carrier's words) on the English page, else nothing."""
        return Markup(' lang="zh-CN"') if self.lang != "zh" and has_cjk(text) else Markup("")

    def data(self, text: str | None) -> Markup:
        """Data as it was given (escaped), wrapped in ``<span lang="zh-CN">`` when it is Chinese on the English page."""
        if self.lang != "zh" and has_cjk(text):
            return Markup('<span lang="zh-CN">%s</span>') % (text or "")
        return Markup("%s") % (text or "")

    @property
    def lang_url(self) -> str:
        return f"{self.path}?{urlencode({'lang': i18n.t(self.lang, 'switch_lang')})}"

    def t(self, key: str, **params: object) -> str:
        return i18n.t(self.lang, key, **params)

    def csrf(self) -> str:
        return self.sessions.csrf_token(self.csrf_seed)

    def time(self, moment: Any) -> str:
        return i18n.fmt_time(moment, self.lang)

    def day(self, moment: Any, weekday: bool = True, inline: bool = True) -> str:
        return i18n.fmt_day(moment, self.lang, weekday=weekday, inline=inline)

    def items_total(self, order: OrderView) -> str:
        amount = self.money(order.total, order.currency)
        if order.item_count == 1 and self.lang == "en":
            return self.t("items_total_one", amount=amount)
        return self.t("items_total", n=order.item_count, amount=amount)

    def money(self, amount: Any, currency: str) -> str:
        return i18n.fmt_money(amount, currency)

    def carrier(self, code: str) -> str:
        return i18n.carrier_name(code, self.lang)

    def items(self, order: OrderView) -> str:
        shown = "、".join(f"{title} ×{quantity}" for title, quantity in order.items[:2]) if self.lang == "zh" else ", ".join(
            f"{title} ×{quantity}" for title, quantity in order.items[:2]
        )
        rest = len(order.items) - 2
        return shown + (f" 等 {len(order.items)} 种" if self.lang == "zh" else f" and {rest} more") if rest > 0 else shown

    def step_title(self, step: Step) -> str:
        params = dict(step.params)
        if step.key == "handed_over":
            params["carrier"] = self.carrier(params.get("carrier", ""))
        if step.key == "allocated" and params.get("warehouse") and not (self.lang != "zh" and has_cjk(params["warehouse"])):
            return self.t("step.allocated_at", warehouse=params["warehouse"])
        if step.key.startswith("after_sale."):
            return self.sale_step(step)
        key = step.key if step.key.startswith("carrier.") else f"step.{step.key}"
        return self.t(key, **params)

    def sale_step(self, step: Step) -> str:
        """An after-sale's step: ``商家已同意退货退款``, ``Refunded ¥129.00``, ``Please send the goods back by 9 Nov``."""
        params = step.params
        status = step.key.split(".", 1)[1]
        words: dict[str, object] = {"kind": self.kind(params.get("kind", ""))}
        if params.get("amount"):
            words["amount"] = self.money(Decimal(params["amount"]), params.get("currency", "CNY"))
        if status == "AWAITING_RETURN" and params.get("return_by"):
            return self.t("after_sale.AWAITING_RETURN_BY", date=self.day(datetime.fromisoformat(params["return_by"])))
        if status == "CLOSED" and "amount" in words:
            return self.t("after_sale.REFUNDED", **words)
        if status == "APPROVED" and "amount" in words:
            return f"{self.t('after_sale.APPROVED', **words)} · {self.t('sale_amount.approved', **words)}"
        return self.t(step.key, **words)

    def kind(self, kind: str) -> str:
        """The after-sale kind inside a sentence (``退货退款`` / ``a return and refund``)."""
        return self.t(f"kind.{kind}")

    def kind_title(self, kind: str) -> str:
        return self.t(f"kind_title.{kind}")

    def sale_status(self, sale: AfterSaleView) -> str:
        """Where an after-sale stands, in a sentence (for the ones that ended off the usual path)."""
        params = {"kind": sale.kind, "currency": sale.currency}
        if sale.refunded_amount > 0:
            params["amount"] = str(sale.refunded_amount)
        return self.sale_step(Step(f"after_sale.{sale.status}", sale.updated_at, params=params))

    def sale_amount(self, sale: AfterSaleView) -> str:
        which, amount = sale.amount
        return self.t(f"sale_amount.{which}", amount=self.money(amount, sale.currency))

    def goods(self, items: list[tuple[str, int]]) -> str:
        joiner = "、" if self.lang == "zh" else ", "
        return joiner.join(f"{title} ×{quantity}" for title, quantity in items)

    def action_title(self, step: Step) -> str:
        if step.key == "return_requested":
            return self.t("action.return_requested", kind=self.kind(step.params.get("kind", "")))
        return self.t(f"action.{step.key}", **step.params)

    def carrier_words(self, step: Step) -> str | None:
        """The carrier's own text when it says more than the translated title (labelled on the English page)."""
        if not step.detail or step.detail == self.step_title(step):
            return None
        return step.detail

    def latest(self, step: Step) -> str:
        """The one-line "where is it now": the carrier's words on the Chinese page, our words on the English one."""
        if self.lang == "zh" and step.detail:
            return step.detail
        return self.step_title(step)

    def headline(self, order: OrderView) -> str:
        if order.alert in ("cancelled", "awaiting_payment", "on_hold", "trouble"):
            return self.t(f"headline.{order.alert}")
        if order.status == "COMPLETED":
            return self.t("headline.completed")
        return self.t(f"headline.{STAGES[max(order.stage, 0)]}")


class Renderer:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.env = Environment(
            loader=PackageLoader("public_tracking", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.css = _squeeze_css(_asset("track.css"))
        self.js = _squeeze_js(_asset("track.js"))
        self.returns_css = _squeeze_css(_asset("returns.css"))
        self.returns_js = _squeeze_js(_asset("returns.js"))

    def view(self, request: Request, brand: Brand, base: str, lang: str, csrf_seed: str) -> View:
        return View(lang, brand, base, request.url.path, self.css, self.js, self.sessions, csrf_seed)

    def html(self, template: str, view: View, **context: Any) -> str:
        return self.env.get_template(template).render(v=view, **context)

    def card(self, view: View, order: OrderView, *, open: bool, back: str) -> str:
        macro = self.env.get_template("_card.html").make_module({"v": view, "back": back, "flash": None}).card
        return str(macro(order, open=open))

    def page(self, template: str, view: View, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        response = HTMLResponse(self.html(template, view, **context), status_code=status, headers=headers)
        secure_headers(response, view.nonce)
        return response


def secure_headers(response: Any, nonce: str | None = None) -> None:
    scripts = f"'nonce-{nonce}'" if nonce else "'none'"
    response.headers["content-security-policy"] = (
        f"default-src 'none'; style-src {scripts}; script-src {scripts}; img-src 'self' https: data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "no-referrer"
    response.headers["cache-control"] = "no-store"
    response.headers["vary"] = "Accept-Language, Cookie"
