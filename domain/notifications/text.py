"""What a notification says, in Chinese or English, with no personal data in it.

    facts = AlertFacts(alert_id=7, kind="low_stock", severity="critical", message="3 left of TEA in SH", order_id=42)
    alert_notice(facts, "zh", link="https://og.example.com/graphql")
    # Notice(title="【严重】库存告警 · low_stock", body="**类型**：low_stock（库存）\\n**级别**：严重\\n**订单**：OG000000042…")

Alert messages are written by the system, but they quote what arrived from
outside (a buyer's note, an address line): anything that looks like a phone
number or an email address is masked before it leaves (``scrub``). Times are
shown in China time for ``zh`` and in UTC for ``en``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.alerts.kinds import AlertKind
from domain.masking import mask_phone
from domain.notifications.ports import Notice
from models.order import order_no

CHINA = ZoneInfo("Asia/Shanghai")
MAX_TITLE = 200
MAX_MESSAGE = 600
#: How many folded alerts a digest lists by title before "and N more".
DIGEST_LINES = 20

#: A run of 7+ digits or 3/4-3/4-4 groups, maybe after a +country code; not glued to Latin letters, dashes or dots
#: (so OG000000042, SKU-1234567, 1234567.50 and dates stay as they are).
_PHONE = re.compile(r"(?<![A-Za-z0-9_\-.+])(?:\+\d{1,3}[ \-]?)?(?:\d{3,4}[ \-]\d{3,4}[ \-]\d{4}|\d{7,})(?![A-Za-z0-9_.])",
                    re.ASCII)
#: Full-width digits (１３８…) read as ASCII ones, so they are masked too.
_WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")

SEVERITY = {
    "zh": {"info": "提示", "warning": "警告", "critical": "严重"},
    "en": {"info": "INFO", "warning": "WARNING", "critical": "CRITICAL"},
}
CATEGORY = {
    "zh": {"order_change": "订单变更", "buyer": "买家", "intercept": "拦截", "platform": "平台", "intake": "接单",
           "stock": "库存", "fulfilment": "履约", "tracking": "物流", "systems": "系统", "rule": "规则"},
    "en": {"order_change": "Order change", "buyer": "Buyer", "intercept": "Intercept", "platform": "Platform",
           "intake": "Intake", "stock": "Stock", "fulfilment": "Fulfilment", "tracking": "Tracking",
           "systems": "Systems", "rule": "Rule"},
}
WORDS = {
    "zh": {"alert": "告警", "kind": "类型", "severity": "级别", "order": "订单", "subject": "对象", "message": "说明",
           "time": "时间", "link": "查看", "alert_no": "告警编号", "reopened": "再次出现", "escalated": "升级",
           "resolved": "已解决", "resolved_body": "告警{no}已解决", "test": "测试消息",
           "test_body": "这是一条来自 OrderGraph 的测试消息：通知路由「{name}」已连通。",
           "digest": "另有 {n} 条告警（本分钟超出发送上限，已合并）", "more": "……另有 {n} 条"},
    "en": {"alert": "alert", "kind": "Kind", "severity": "Severity", "order": "Order", "subject": "Subject",
           "message": "Message", "time": "Time", "link": "Open", "alert_no": "Alert", "reopened": "reopened",
           "escalated": "escalated", "resolved": "RESOLVED", "resolved_body": "Alert{no} is resolved",
           "test": "Test message", "test_body": "A test message from OrderGraph: notification route \"{name}\" works.",
           "digest": "{n} more alerts (over this route's per-minute limit, folded into one)",
           "more": "… and {n} more"},
}


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What a notification needs about one alert event (from the lineage row, or the alert when a key is missing)."""

    alert_id: int | None
    kind: str
    severity: str
    message: str = ""
    subject: str = ""
    order_id: int | None = None
    warehouse_id: int | None = None
    channel_id: int | None = None
    at: datetime | None = None


def scrub(text: str) -> str:
    """``text`` with phone numbers and email addresses masked."""
    text = text.translate(_WIDE_DIGITS)
    text = _EMAIL.sub(lambda m: m.group(0)[0] + "***@" + m.group(0).rsplit("@", 1)[1], text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)) or "", text)


def _one_line(text: str, limit: int) -> str:
    line = " ".join(scrub(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _lang(language: str) -> str:
    return language if language in WORDS else "zh"


def category_of(kind: str, language: str) -> str:
    try:
        category = AlertKind(kind).category.value
    except ValueError:
        return ""
    return CATEGORY[_lang(language)].get(category, "")


def _time(at: datetime | None, language: str) -> str:
    at = at or datetime.now(UTC)
    if language == "zh":
        return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S（北京时间）")
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def alert_notice(facts: AlertFacts, language: str, *, link: str = "", change: str = "raised") -> Notice:
    """An alert that was raised (``change``: ``raised``, ``reopened`` or ``escalated``)."""
    lang = _lang(language)
    words = WORDS[lang]
    severity = SEVERITY[lang].get(facts.severity, facts.severity)
    category = category_of(facts.kind, lang)
    label = f"{category}{words['alert']}" if lang == "zh" else f"{category or 'OrderGraph'} {words['alert']}"
    note = "" if change == "raised" else (f"（{words[change]}）" if lang == "zh" else f" ({words[change]})")
    bracket = f"【{severity}】" if lang == "zh" else f"[{severity}] "
    order = f" · {order_no(facts.order_id)}" if facts.order_id else ""
    title = _one_line(f"{bracket}{label}{note} · {facts.kind}{order}", MAX_TITLE)
    colon = "：" if lang == "zh" else ": "
    lines = [f"**{words['kind']}**{colon}{facts.kind}" + (f"（{category}）" if lang == "zh" and category
                                                           else f" ({category})" if category else ""),
             f"**{words['severity']}**{colon}{severity}"]
    if facts.order_id:
        lines.append(f"**{words['order']}**{colon}{order_no(facts.order_id)}")
    if facts.subject:
        lines.append(f"**{words['subject']}**{colon}{_one_line(facts.subject, 64)}")
    if facts.message:
        lines.append(f"**{words['message']}**{colon}{_one_line(facts.message, MAX_MESSAGE)}")
    if facts.alert_id:
        lines.append(f"**{words['alert_no']}**{colon}#{facts.alert_id}")
    lines.append(f"**{words['time']}**{colon}{_time(facts.at, lang)}")
    if link:
        lines.append(f"{words['link']}{colon}{link}")
    return Notice(title=title, body="\n\n".join(lines), language=lang)


def resolved_notice(facts: AlertFacts, language: str, *, link: str = "") -> Notice:
    """The short follow-up once an alert is resolved or cleared."""
    lang = _lang(language)
    words = WORDS[lang]
    colon = "：" if lang == "zh" else ": "
    order = f" · {order_no(facts.order_id)}" if facts.order_id else ""
    bracket = f"【{words['resolved']}】" if lang == "zh" else f"[{words['resolved']}] "
    title = _one_line(f"{bracket}{facts.kind}{order}", MAX_TITLE)
    lines = [words["resolved_body"].format(no=f" #{facts.alert_id} " if facts.alert_id else "").replace("  ", " ")
             + (f"{colon}{_one_line(facts.message, MAX_MESSAGE)}" if facts.message else ""),
             f"**{words['time']}**{colon}{_time(facts.at, lang)}"]
    if link:
        lines.append(f"{words['link']}{colon}{link}")
    return Notice(title=title, body="\n\n".join(lines), language=lang)


def digest_notice(titles: Sequence[str], language: str) -> Notice:
    """One message standing for ``titles`` (the alerts folded while a route was over its per-minute limit)."""
    lang = _lang(language)
    words = WORDS[lang]
    head = words["digest"].format(n=len(titles))
    lines = [f"- {_one_line(title, MAX_TITLE)}" for title in titles[:DIGEST_LINES]]
    if len(titles) > DIGEST_LINES:
        lines.append(words["more"].format(n=len(titles) - DIGEST_LINES))
    return Notice(title=_one_line(head, MAX_TITLE), body="\n".join(lines), language=lang)


def test_notice(route_name: str, language: str) -> Notice:
    lang = _lang(language)
    words = WORDS[lang]
    return Notice(title=f"OrderGraph · {words['test']}",
                  body=words["test_body"].format(name=_one_line(route_name, 100)) + f"\n\n{_time(None, lang)}",
                  language=lang)
