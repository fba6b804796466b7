"""The console's words in Chinese (default) and English, and the language choice.

Language comes from ``?lang=`` (remembered in a cookie), then that cookie,
then ``Accept-Language``; Chinese when nothing says otherwise. Times show in
Asia/Shanghai.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request

LANGS = ("zh", "en")
LANG_COOKIE = "og_console_lang"
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN", "switch_to": "English", "switch_lang": "en",
        "console": "运营控制台", "sign_in": "登录", "sign_out": "退出登录", "email": "邮箱", "password": "密码",
        "sign_in_title": "登录运营控制台", "sign_in_sub": "使用管理员为您开通的账号登录。",
        "bad_credentials": "邮箱或密码不正确。", "locked": "尝试次数过多，账号已临时锁定，请 15 分钟后再试。",
        "csrf_failed": "页面已过期，请刷新后重新提交。", "signed_out": "您已退出登录。",
        "session_expired": "登录已过期，请重新登录。",
        "nav_board": "异常看板", "nav_orders": "订单", "nav_maps": "状态映射", "nav_report": "报表",
        "nav_later": "即将推出", "nav_stock": "仓库与库存", "nav_channels": "渠道设置", "nav_policy": "分配策略",
        "nav_rules": "规则试运行", "nav_webhooks": "Webhook 日志",
        "not_available": "暂未开放", "not_available_long": "该功能尚未在控制台中提供，可暂时通过 GraphQL API 使用。",
        "signed_in_as": "当前用户", "role": "角色",
        "board_title": "异常看板", "filter": "筛选", "status": "状态", "severity": "级别", "kind": "类型", "any": "全部",
        "open_only": "仅未关闭", "apply": "应用", "alerts_count": "共 {n} 条", "no_alerts": "没有符合条件的异常。",
        "acknowledge": "确认", "assign_me": "指派给我", "resolve": "解决", "resolution": "处理说明",
        "snooze": "暂缓", "snooze_1": "1 小时", "snooze_4": "4 小时", "snooze_24": "1 天",
        "owner": "负责人", "raised": "发生于", "due": "处理时限", "overdue": "已超时", "order": "订单",
        "done_acknowledge": "已确认该异常。", "done_assign": "已指派给您。", "done_resolve": "已解决该异常。",
        "done_snooze": "已暂缓该异常。", "refused": "操作未成功：{message}",
        "orders_title": "订单查询", "search_label": "订单号、外部单号或手机号后 4 位", "search": "搜索",
        "no_orders": "没有找到匹配的订单。", "search_hint": "输入订单号（如 OG000000042）、渠道单号、运单号或手机号后 4 位。",
        "number": "订单号", "external_id": "外部单号", "channel": "渠道", "total": "实付", "placed": "下单时间",
        "recipient": "收货人", "back_to_search": "返回搜索",
        "lines": "商品", "sku": "SKU", "title": "名称", "qty": "数量", "price": "单价", "parcel": "包裹",
        "timeline": "订单轨迹", "who": "操作人", "source": "来源", "reason": "原因", "when": "时间", "event": "事件",
        "allocation": "分配决策", "no_allocation": "尚未分配。", "warehouse": "仓库",
        "shipments": "发货与物流", "no_shipments": "尚未发货。", "carrier": "快递", "tracking_no": "运单号",
        "payments": "支付", "no_payments": "没有支付记录。", "after_sales": "售后", "no_after_sales": "没有售后。",
        "order_alerts": "相关异常", "customer": "客户", "address": "收货地址", "hold_reasons": "挂起原因",
        "amount": "金额", "gateway": "支付渠道", "reference": "流水号",
        "maps_title": "状态映射", "table": "映射表", "code": "平台状态码", "maps_to": "映射到", "origin": "来源",
        "version": "版本", "unmapped": "不映射", "edit": "编辑", "edit_entry": "编辑映射", "save": "保存",
        "order_status": "订单状态", "payment_status": "支付状态", "after_sale_status": "售后状态",
        "shipment_status": "物流状态", "none": "—", "history": "修改记录", "changed_by": "修改人",
        "saved_mapping": "已保存为第 {version} 版，重新评估了 {n} 个订单。", "channels_tables": "渠道",
        "report_title": "运营报表", "report_sub": "最近 {days} 天，按天统计（上海时间）。",
        "chart_orders": "每日新建订单", "chart_alerts": "每日新增异常", "chart_ack": "异常确认用时中位数（分钟）",
        "chart_recon": "每日对账差异订单数", "no_data": "暂无数据",
        "other_figures": "其他指标", "figure_stock": "库存准确率", "figure_ontime": "按时发货率",
        "figure_webhooks": "Webhook 投递成功率", "open_alerts": "当前未关闭异常", "overdue_alerts": "其中超时",
    },
    "en": {
        "html_lang": "en", "switch_to": "中文", "switch_lang": "zh",
        "console": "Operations console", "sign_in": "Sign in", "sign_out": "Sign out", "email": "Email",
        "password": "Password", "sign_in_title": "Sign in to the operations console",
        "sign_in_sub": "Use the account your administrator created for you.",
        "bad_credentials": "Wrong email or password.",
        "locked": "Too many attempts: the account is locked for now. Try again in 15 minutes.",
        "csrf_failed": "This page has expired. Reload it and send again.", "signed_out": "You are signed out.",
        "session_expired": "Your session has expired. Please sign in again.",
        "nav_board": "Exception board", "nav_orders": "Orders", "nav_maps": "Status maps", "nav_report": "Report",
        "nav_later": "Coming later", "nav_stock": "Warehouses & stock", "nav_channels": "Channel setup",
        "nav_policy": "Allocation policy", "nav_rules": "Rules dry-run", "nav_webhooks": "Webhooks log",
        "not_available": "Not available yet",
        "not_available_long": "This is not in the console yet; the GraphQL API offers it meanwhile.",
        "signed_in_as": "Signed in as", "role": "Role",
        "board_title": "Exception board", "filter": "Filter", "status": "Status", "severity": "Severity", "kind": "Kind",
        "any": "Any", "open_only": "Open only", "apply": "Apply", "alerts_count": "{n} alerts",
        "no_alerts": "No alerts match.", "acknowledge": "Acknowledge", "assign_me": "Assign to me",
        "resolve": "Resolve", "resolution": "What was done", "snooze": "Snooze", "snooze_1": "1 hour",
        "snooze_4": "4 hours", "snooze_24": "1 day", "owner": "Owner", "raised": "Raised", "due": "Due",
        "overdue": "Overdue", "order": "Order",
        "done_acknowledge": "Alert acknowledged.", "done_assign": "Alert assigned to you.",
        "done_resolve": "Alert resolved.", "done_snooze": "Alert snoozed.", "refused": "Not done: {message}",
        "orders_title": "Find an order", "search_label": "Order number, external id or phone tail", "search": "Search",
        "no_orders": "No order matches.",
        "search_hint": "An order number (OG000000042), a channel order id, a tracking number or the last 4 digits of a phone.",
        "number": "Order", "external_id": "External id", "channel": "Channel", "total": "Paid", "placed": "Placed",
        "recipient": "Recipient", "back_to_search": "Back to search",
        "lines": "Lines", "sku": "SKU", "title": "Title", "qty": "Qty", "price": "Unit price", "parcel": "Parcel",
        "timeline": "Timeline", "who": "Who", "source": "Source", "reason": "Reason", "when": "When", "event": "Event",
        "allocation": "Allocation decision", "no_allocation": "Not allocated yet.", "warehouse": "Warehouse",
        "shipments": "Shipments and scans", "no_shipments": "Not shipped yet.", "carrier": "Carrier",
        "tracking_no": "Tracking number", "payments": "Payments", "no_payments": "No payments.",
        "after_sales": "After-sales", "no_after_sales": "No after-sales.", "order_alerts": "Alerts",
        "customer": "Customer", "address": "Ship to", "hold_reasons": "Hold reasons", "amount": "Amount",
        "gateway": "Gateway", "reference": "Reference",
        "maps_title": "Status maps", "table": "Table", "code": "Platform code", "maps_to": "Maps to",
        "origin": "Origin", "version": "Version", "unmapped": "Not mapped", "edit": "Edit", "edit_entry": "Edit a mapping",
        "save": "Save", "order_status": "Order status", "payment_status": "Payment status",
        "after_sale_status": "After-sale status", "shipment_status": "Shipment status", "none": "—",
        "history": "History", "changed_by": "Changed by",
        "saved_mapping": "Saved as version {version}; {n} orders re-read.", "channels_tables": "Channels",
        "report_title": "Operations report", "report_sub": "The last {days} days, per day (Shanghai time).",
        "chart_orders": "Orders created per day", "chart_alerts": "Alerts raised per day",
        "chart_ack": "Median time to acknowledge an alert (minutes)", "chart_recon": "Orders differing in reconciliation",
        "no_data": "No data", "other_figures": "Other figures", "figure_stock": "Stock accuracy",
        "figure_ontime": "On-time shipping rate", "figure_webhooks": "Webhook delivery success",
        "open_alerts": "Open alerts now", "overdue_alerts": "of which overdue",
    },
}


def pick_lang(request: Request) -> tuple[str, bool]:
    """The language, and whether it was chosen just now (then remember it)."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked, True
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return cookie, False
    accept = request.headers.get("accept-language", "").lower()
    first = accept.split(",", 1)[0].strip()
    return ("en" if first.startswith("en") else "zh"), False


def t(lang: str, key: str, **values: object) -> str:
    text = TEXT[lang].get(key) or TEXT["en"].get(key) or key
    return text.format(**values) if values else text


def local_time(value: str | datetime | None, *, seconds: bool = False) -> str:
    """An ISO time from the API as Shanghai wall-clock time ('' for none)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
