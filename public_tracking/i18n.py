"""Chinese (default) and English: the words, the language choice, local times and money.

Language comes from ``?lang=`` (remembered in a cookie), then that cookie, then
``Accept-Language``; Chinese when nothing says otherwise. Times are shown in
Asia/Shanghai whatever the server's clock zone.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from starlette.requests import Request

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "og_lang"
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "switch_to": "English",
        "switch_lang": "en",
        "page_title": "订单查询",
        "hero_title": "我的包裹到哪了？",
        "hero_sub": "输入订单号和手机号后 4 位，随时查看物流进度，无需等客服。",
        "tab_order": "订单号查询",
        "tab_sms": "手机验证码查询",
        "order_label": "订单号",
        "order_hint": "订单确认短信或小票上的订单号，各平台订单号均可",
        "last4_label": "收货手机号后 4 位",
        "lookup_button": "查询",
        "phone_label": "手机号",
        "phone_hint": "我们会向该号码发送 6 位验证码，查看该号码下的全部订单",
        "send_code": "获取验证码",
        "code_label": "6 位验证码",
        "code_sent": "验证码已发送至 {phone}，5 分钟内有效。",
        "verify_button": "验证并查看订单",
        "resend": "重新获取验证码",
        "no_match": "没有找到匹配的订单。请核对订单号和手机号后 4 位后重试。",
        "order_locked": "为保护您的信息，该订单号暂时只能通过手机验证码查询，请约 15 分钟后再试订单号查询。",
        "ip_limited": "尝试次数过多，请稍后再试。",
        "code_wrong": "验证码不正确，还可尝试 {left} 次。",
        "code_expired": "验证码已失效，请重新获取。",
        "code_wait": "验证码发送过于频繁，请稍后再试。",
        "sms_failed": "短信发送失败，请稍后重试。",
        "csrf_failed": "页面已过期，请重新提交。",
        "bad_input": "请检查输入内容。",
        "link_invalid": "该链接已失效或不完整，请通过订单号查询。",
        "privacy_note": "页面中的个人信息已做脱敏处理。",
        "my_orders": "我的订单",
        "orders_count": "共 {n} 个订单",
        "no_orders": "该手机号下暂无订单。",
        "look_up_another": "查询其他订单",
        "sign_out": "退出",
        "order_no": "订单号",
        "placed_on": "{date}下单",
        "items": "商品",
        "items_total": "共 {n} 件，实付 {amount}",
        "recipient": "收货信息",
        "carrier": "快递公司",
        "tracking_no": "运单号",
        "copy": "复制",
        "copied": "已复制",
        "eta": "预计 {date} 送达",
        "eta_label": "预计送达",
        "timeline": "物流详情",
        "progress": "订单进度",
        "confirm_receipt": "确认收货",
        "confirm_hint": "收到包裹了吗？确认后订单完成。",
        "confirmed": "已确认收货，感谢您的购买！",
        "rate_title": "为本次购物打分",
        "rating_legend": "评分（1–5 星）",
        "star_n": "{n} 星",
        "comment_label": "留言（选填）",
        "comment_placeholder": "商品、包装、配送感受如何？",
        "rate_button": "提交评价",
        "rated": "感谢您的评价！",
        "your_rating": "您的评价",
        "action_failed": "操作未能完成，订单状态可能已变化，请刷新后查看。",
        "updated_live": "{order} 有新进展：{status}",
        "live_on": "实时更新中",
        "not_found_title": "页面不存在",
        "stage.paid": "已付款",
        "stage.preparing": "备货中",
        "stage.shipped": "已发货",
        "stage.in_transit": "运输中",
        "stage.out_for_delivery": "派送中",
        "stage.delivered": "已签收",
        "headline.awaiting_payment": "等待付款",
        "headline.cancelled": "订单已取消",
        "headline.on_hold": "商家正在核实订单",
        "headline.trouble": "配送遇到问题",
        "headline.completed": "订单已完成",
        "headline.paid": "已付款，等待仓库处理",
        "headline.preparing": "仓库正在备货",
        "headline.shipped": "已交给快递",
        "headline.in_transit": "运输中",
        "headline.out_for_delivery": "派送中，请保持电话畅通",
        "headline.delivered": "已签收",
        "alert.awaiting_payment": "订单尚未付款，付款后我们会尽快安排发货。",
        "alert.on_hold": "您的订单暂缓处理，商家核实后会继续发货，如有需要会与您联系。",
        "alert.cancelled": "该订单已取消，如已付款，款项将原路退回。",
        "alert.trouble": "快递反馈配送异常，我们正在跟进，请留意快递员来电。",
        "step.placed": "订单已提交",
        "step.paid": "付款成功",
        "step.deposit_paid": "定金已支付",
        "step.allocated": "仓库已接单",
        "step.allocated_at": "{warehouse}仓已接单",
        "step.picking": "正在拣货",
        "step.packed": "已打包，等待快递揽收",
        "step.handed_over": "已交给{carrier}",
        "step.completed": "订单已完成",
        "step.receipt_confirmed": "您已确认收货",
        "step.rated": "您评价了 {rating} 星",
        "step.cancelled": "订单已取消",
        "step.on_hold": "订单暂缓处理",
        "step.resumed": "订单恢复处理",
        "carrier.LABEL_CREATED": "已打印面单",
        "carrier.PICKED_UP": "快递已揽收",
        "carrier.IN_TRANSIT": "运输中",
        "carrier.CUSTOMS": "清关中",
        "carrier.OUT_FOR_DELIVERY": "派送中",
        "carrier.AT_PICKUP_POINT": "已到达自提点",
        "carrier.DELIVERED": "已签收",
        "carrier.ATTEMPT_FAILED": "派送未成功",
        "carrier.EXCEPTION": "配送异常",
        "carrier.RETURNING": "退回中",
        "carrier.RETURNED": "已退回",
        "carrier.EXPIRED": "物流信息已过期",
        "today": "今天",
        "yesterday": "昨天",
        "tomorrow": "明天",
        "contact_shop": "联系商家",
        "confirm_question": "请确认已收到全部商品。确认后订单完成，不能撤销。",
        "confirm_yes": "是的，我已收到",
        "confirm_wait": "包裹开始派送或签收后，即可在这里确认收到。",
        "your_actions": "我的操作",
        "your_comment": "我的留言",
        "action.receipt_confirmed": "您已确认收货，感谢您的购买",
        "action.rated": "您评价了 {rating} 星",
        "action.return_requested": "您申请了{kind}",
        "carrier_words": "快递公司原文",
        "kind.refund_only": "仅退款",
        "kind.return_refund": "退货退款",
        "kind.exchange": "换货",
        "kind_title.refund_only": "仅退款",
        "kind_title.return_refund": "退货退款",
        "kind_title.exchange": "换货",
        "after_sales": "售后进度",
        "after_sale.REQUESTED": "{kind}申请已提交，等待商家处理",
        "after_sale.APPROVED": "商家已同意{kind}",
        "after_sale.REJECTED": "商家未同意此次{kind}申请",
        "after_sale.AWAITING_RETURN": "请寄回商品",
        "after_sale.AWAITING_RETURN_BY": "请于 {date} 前寄回商品",
        "after_sale.RECEIVED": "商家已收到退回的商品",
        "after_sale.REFUNDED": "已退款 {amount}",
        "after_sale.EXCHANGED": "换货已安排",
        "after_sale.CLOSED": "售后已结束",
        "sale_stage.REQUESTED": "已申请",
        "sale_stage.APPROVED": "已同意",
        "sale_stage.AWAITING_RETURN": "待寄回",
        "sale_stage.RECEIVED": "已收货",
        "sale_stage.REFUNDED": "已退款",
        "sale_stage.EXCHANGED": "已换货",
        "sale_amount.requested": "申请退款 {amount}",
        "sale_amount.approved": "同意退款 {amount}",
        "sale_amount.refunded": "已退款 {amount}",
        "start_return": "申请退货 / 退款 / 换货",
        "return_title": "申请售后",
        "return_intro": "选择要退换的商品和数量，写明原因，可附照片。",
        "return_items": "商品和数量",
        "return_none": "不退",
        "return_choose": "请选择",
        "return_of": "共 {n} 件",
        "return_asked": "已申请 {n} 件",
        "return_kind": "您希望",
        "return_reason": "原因",
        "reason.damaged": "商品破损",
        "reason.wrong_item": "发错商品",
        "reason.quality": "质量问题",
        "reason.not_as_described": "与描述不符",
        "reason.missing_parts": "少件 / 漏发",
        "reason.changed_mind": "不想要了",
        "reason.other": "其他",
        "return_note": "补充说明（选“其他”时必填）",
        "return_photos": "照片（选填）",
        "return_photos_hint": "最多 5 张，每张不超过 2 MB，JPG、PNG 或 WebP。",
        "return_submit": "提交申请",
        "return_back": "返回订单",
        "return_sent": "售后申请已提交，进度会显示在订单的物流详情中。",
        "return_too_many": "最多上传 5 张照片，请删掉几张后重试。",
        "return_too_big": "照片“{name}”超过 2 MB，请换一张小一些的。",
        "return_not_image": "“{name}”不是 JPG、PNG 或 WebP 图片。",
        "return_body_too_big": "上传的内容太大：最多 5 张照片，每张不超过 2 MB。",
        "return_bad_upload": "上传未能读取，请重新选择照片后再试。",
        "return_qty": "数量超过了已签收且尚未申请的数量，请重新选择。",
        "return_no_lines": "请选择要退换的商品和数量。",
        "return_reason_needed": "请选择原因。",
        "return_note_needed": "选择“其他”时，请写明原因。",
        "return_kind_needed": "请选择仅退款、退货退款或换货。",
        "return_unavailable": "该订单暂时不能申请售后：签收后才可申请，或商品都已申请过。",
        "return_amount": "该订单已没有可退的金额。",
        "return_failed": "申请未能提交，订单状态可能已变化，请刷新后再试。",
        "return_limited": "提交过于频繁，请稍后再试。",
        "return_nothing_saved": "本次申请未保存，请修改后重新提交。",
        "powered": "物流信息由 OrderGraph 实时同步",
    },
    "en": {
        "html_lang": "en",
        "switch_to": "中文",
        "switch_lang": "zh",
        "page_title": "Track your order",
        "hero_title": "Where is my parcel?",
        "hero_sub": "Enter your order number and the last 4 digits of your phone to see every step, any time.",
        "tab_order": "Order number",
        "tab_sms": "Text me a code",
        "order_label": "Order number",
        "order_hint": "From your confirmation or receipt; any shop's order number works",
        "last4_label": "Last 4 digits of your phone",
        "lookup_button": "Track",
        "phone_label": "Mobile number",
        "phone_hint": "We will text a 6-digit code to this number and show all its orders",
        "send_code": "Send code",
        "code_label": "6-digit code",
        "code_sent": "We sent a code to {phone}. It works for 5 minutes.",
        "verify_button": "Verify and see my orders",
        "resend": "Send a new code",
        "no_match": "No order matches that number and phone. Check both and try again.",
        "order_locked": "To protect your details, this order number can only be looked up with a text message code for about 15 minutes.",
        "ip_limited": "Too many attempts. Please try again later.",
        "code_wrong": "That code is not right. {left} tries left.",
        "code_expired": "That code has expired. Please ask for a new one.",
        "code_wait": "Codes were requested too often. Please wait a moment.",
        "sms_failed": "We could not send the text. Please try again shortly.",
        "csrf_failed": "This page had expired. Please submit again.",
        "bad_input": "Please check what you entered.",
        "link_invalid": "This link has expired or is incomplete. Please look your order up instead.",
        "privacy_note": "Personal details on this page are partly hidden.",
        "my_orders": "My orders",
        "orders_count": "{n} orders",
        "no_orders": "There are no orders for this number yet.",
        "look_up_another": "Track another order",
        "sign_out": "Sign out",
        "order_no": "Order",
        "placed_on": "Placed {date}",
        "items": "Items",
        "items_total": "{n} items, paid {amount}",
        "items_total_one": "1 item, paid {amount}",
        "recipient": "Ship to",
        "carrier": "Carrier",
        "tracking_no": "Tracking number",
        "copy": "Copy",
        "copied": "Copied",
        "eta": "Arriving by {date}",
        "eta_label": "Estimated delivery",
        "timeline": "Tracking details",
        "progress": "Order progress",
        "confirm_receipt": "I got it",
        "confirm_hint": "Has your parcel arrived? Confirm to complete the order.",
        "confirmed": "Receipt confirmed. Thank you for shopping with us!",
        "rate_title": "How did we do?",
        "rating_legend": "Rating (1 to 5 stars)",
        "star_n": "{n} stars",
        "comment_label": "Comment (optional)",
        "comment_placeholder": "The goods, the packing, the delivery…",
        "rate_button": "Send rating",
        "rated": "Thanks for your rating!",
        "your_rating": "Your rating",
        "action_failed": "That did not go through; the order may have changed. Please reload.",
        "updated_live": "{order} update: {status}",
        "live_on": "Live updates on",
        "not_found_title": "Page not found",
        "stage.paid": "Paid",
        "stage.preparing": "Packing",
        "stage.shipped": "Shipped",
        "stage.in_transit": "On the way",
        "stage.out_for_delivery": "Out for delivery",
        "stage.delivered": "Delivered",
        "headline.awaiting_payment": "Awaiting payment",
        "headline.cancelled": "Order cancelled",
        "headline.on_hold": "The shop is checking your order",
        "headline.trouble": "Delivery problem",
        "headline.completed": "Order complete",
        "headline.paid": "Paid, waiting for the warehouse",
        "headline.preparing": "Being packed",
        "headline.shipped": "Handed to the carrier",
        "headline.in_transit": "On the way",
        "headline.out_for_delivery": "Out for delivery today",
        "headline.delivered": "Delivered",
        "alert.awaiting_payment": "This order has not been paid yet. It ships soon after payment.",
        "alert.on_hold": "Your order is paused while the shop checks it. It will continue shortly; they will contact you if needed.",
        "alert.cancelled": "This order was cancelled. Any payment goes back the way it came.",
        "alert.trouble": "The carrier reported a delivery problem. We are on it; please keep your phone at hand.",
        "step.placed": "Order placed",
        "step.paid": "Payment received",
        "step.deposit_paid": "Deposit received",
        "step.allocated": "Warehouse accepted the order",
        "step.allocated_at": "{warehouse} warehouse accepted the order",
        "step.picking": "Picking your items",
        "step.packed": "Packed, waiting for pick-up",
        "step.handed_over": "Handed to {carrier}",
        "step.completed": "Order complete",
        "step.receipt_confirmed": "You confirmed receipt",
        "step.rated": "You rated it {rating} stars",
        "step.cancelled": "Order cancelled",
        "step.on_hold": "Order paused",
        "step.resumed": "Order resumed",
        "carrier.LABEL_CREATED": "Label created",
        "carrier.PICKED_UP": "Picked up by the carrier",
        "carrier.IN_TRANSIT": "In transit",
        "carrier.CUSTOMS": "In customs",
        "carrier.OUT_FOR_DELIVERY": "Out for delivery",
        "carrier.AT_PICKUP_POINT": "Ready at the pick-up point",
        "carrier.DELIVERED": "Delivered",
        "carrier.ATTEMPT_FAILED": "Delivery attempt failed",
        "carrier.EXCEPTION": "Delivery problem",
        "carrier.RETURNING": "Being returned",
        "carrier.RETURNED": "Returned",
        "carrier.EXPIRED": "Tracking expired",
        "today": "Today",
        "yesterday": "Yesterday",
        "tomorrow": "Tomorrow",
        "contact_shop": "Contact the shop",
        "confirm_question": "Please confirm everything has arrived. This completes the order and cannot be undone.",
        "confirm_yes": "Yes, I have it",
        "confirm_wait": "You can confirm receipt here once the parcel is out for delivery or delivered.",
        "your_actions": "What you did",
        "your_comment": "Your comment",
        "action.receipt_confirmed": "You confirmed receipt. Thank you for shopping with us",
        "action.rated": "You rated it {rating} stars",
        "action.return_requested": "You asked for {kind}",
        "carrier_words": "Carrier's note, in Chinese",
        "kind.refund_only": "a refund only",
        "kind.return_refund": "a return and refund",
        "kind.exchange": "an exchange",
        "kind_title.refund_only": "Refund only",
        "kind_title.return_refund": "Return and refund",
        "kind_title.exchange": "Exchange",
        "after_sales": "Returns and refunds",
        "after_sale.REQUESTED": "You asked for {kind}; waiting for the shop",
        "after_sale.APPROVED": "The shop agreed to {kind}",
        "after_sale.REJECTED": "The shop turned down the request for {kind}",
        "after_sale.AWAITING_RETURN": "Please send the goods back",
        "after_sale.AWAITING_RETURN_BY": "Please send the goods back by {date}",
        "after_sale.RECEIVED": "The shop received the goods back",
        "after_sale.REFUNDED": "Refunded {amount}",
        "after_sale.EXCHANGED": "Exchange arranged",
        "after_sale.CLOSED": "Request closed",
        "sale_stage.REQUESTED": "Asked",
        "sale_stage.APPROVED": "Agreed",
        "sale_stage.AWAITING_RETURN": "Send back",
        "sale_stage.RECEIVED": "Received",
        "sale_stage.REFUNDED": "Refunded",
        "sale_stage.EXCHANGED": "Exchanged",
        "sale_amount.requested": "Refund asked for: {amount}",
        "sale_amount.approved": "Refund agreed: {amount}",
        "sale_amount.refunded": "Refunded: {amount}",
        "start_return": "Return, refund or exchange",
        "return_title": "Return or refund",
        "return_intro": "Choose the items and how many, tell us why, and add photos if you like.",
        "return_items": "Items and quantities",
        "return_none": "None",
        "return_choose": "Choose…",
        "return_of": "of {n}",
        "return_asked": "{n} already asked for",
        "return_kind": "What would you like?",
        "return_reason": "Reason",
        "reason.damaged": "Arrived damaged",
        "reason.wrong_item": "Wrong item sent",
        "reason.quality": "Quality problem",
        "reason.not_as_described": "Not as described",
        "reason.missing_parts": "Something missing",
        "reason.changed_mind": "Changed my mind",
        "reason.other": "Something else",
        "return_note": "Details (needed for “Something else”)",
        "return_photos": "Photos (optional)",
        "return_photos_hint": "Up to 5 photos, 2 MB each at most: JPG, PNG or WebP.",
        "return_submit": "Send request",
        "return_back": "Back to the order",
        "return_sent": "Your request was sent. Its progress shows in the order's tracking details.",
        "return_too_many": "Up to 5 photos, please. Remove some and try again.",
        "return_too_big": "The photo “{name}” is larger than 2 MB. Please choose a smaller one.",
        "return_not_image": "“{name}” is not a JPG, PNG or WebP picture.",
        "return_body_too_big": "That upload is too large: up to 5 photos of 2 MB each.",
        "return_bad_upload": "The upload could not be read. Please choose the photos again.",
        "return_qty": "That is more than arrived (or was already asked for). Please choose again.",
        "return_no_lines": "Choose at least one item and how many.",
        "return_reason_needed": "Please choose a reason.",
        "return_note_needed": "Please tell us what is wrong.",
        "return_kind_needed": "Choose refund only, return and refund, or exchange.",
        "return_unavailable": "This order cannot be returned right now: only once it has arrived, and not twice for the same items.",
        "return_amount": "Nothing on this order can be refunded any more.",
        "return_failed": "The request was not sent; the order may have changed. Please reload and try again.",
        "return_limited": "Too many requests. Please try again later.",
        "return_nothing_saved": "Nothing was saved. Please correct it and send again.",
        "powered": "Tracking kept live by OrderGraph",
    },
}

#: Carrier codes as merchants store them -> the name a customer knows.
CARRIERS: dict[str, tuple[str, str]] = {
    "SF": ("顺丰速运", "SF Express"),
    "ZTO": ("中通快递", "ZTO Express"),
    "YTO": ("圆通速递", "YTO Express"),
    "STO": ("申通快递", "STO Express"),
    "YD": ("韵达快递", "Yunda Express"),
    "YUNDA": ("韵达快递", "Yunda Express"),
    "JD": ("京东物流", "JD Logistics"),
    "EMS": ("中国邮政 EMS", "China Post EMS"),
    "JTSD": ("极兔速递", "J&T Express"),
    "DBL": ("德邦快递", "Deppon Express"),
    "DHL": ("DHL", "DHL"),
    "UPS": ("UPS", "UPS"),
    "FEDEX": ("FedEx", "FedEx"),
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_CURRENCY = {"CNY": "¥", "USD": "US$", "HKD": "HK$", "EUR": "€", "GBP": "£", "JPY": "JP¥"}


def pick_lang(request: Request) -> tuple[str, bool]:
    """The language for this request, and whether ``?lang=`` asked to remember it."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked, True
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return cookie, False
    return from_accept_language(request.headers.get("accept-language", "")), False


def from_accept_language(header: str) -> str:
    """Highest-weighted of zh / en in an Accept-Language header (zh when neither appears)."""
    best, best_q = DEFAULT_LANG, -1.0
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q - index * 1e-6 > best_q:
            best, best_q = primary, q - index * 1e-6
    return best


def t(lang: str, key: str, **params: object) -> str:
    text = TEXT[lang].get(key) or TEXT[DEFAULT_LANG].get(key) or key
    return text.format(**params) if params else text


def carrier_name(code: str, lang: str) -> str:
    names = CARRIERS.get(code.strip().upper())
    if not names:
        return code
    return names[0] if lang == "zh" else names[1]


def local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_ZONE)


def fmt_time(moment: datetime | None, lang: str, now: datetime | None = None) -> str:
    """``今天 14:05`` / ``Yesterday 09:12`` / ``11月2日 14:05`` / ``2 Nov 2025 14:05`` in Shanghai time."""
    if moment is None:
        return ""
    when = local(moment)
    return f"{fmt_day(when, lang, now, weekday=False)} {when:%H:%M}"


def fmt_day(moment: datetime, lang: str, now: datetime | None = None, *, weekday: bool = True, inline: bool = False) -> str:
    """A day as people say it; ``inline`` for the middle of an English sentence ("arriving by tomorrow")."""
    when = local(moment)
    today = local(now or datetime.now(LOCAL_ZONE)).date()
    delta = (when.date() - today).days
    if delta in (-1, 0, 1):
        word = t(lang, {-1: "yesterday", 0: "today", 1: "tomorrow"}[delta])
        return word.lower() if inline and lang == "en" else word
    day = _WEEKDAYS[lang][when.weekday()] if weekday else ""
    if lang == "zh":
        text = f"{when.month}月{when.day}日" if when.year == today.year else f"{when.year}年{when.month}月{when.day}日"
        return f"{text} {day}".strip()
    text = f"{when.day} {_MONTHS[when.month - 1]}" + ("" if when.year == today.year else f" {when.year}")
    return f"{day} {text}".strip()


def fmt_money(amount: Decimal, currency: str) -> str:
    symbol = _CURRENCY.get(currency.upper())
    return f"{symbol}{amount:,.2f}" if symbol else f"{currency.upper()} {amount:,.2f}"
