"""Email over SMTP (``aiosmtplib``): a subject, a plain-text part and a simple HTML part.

    await EmailSender().send({"host": "smtp.example.com", "port": 587, "starttls": True,
                              "username": "alerts@example.com", "password": "…",
                              "from": "alerts@example.com", "to": ["ops@example.com"]}, notice)

Config: ``host``, ``port`` (587), ``starttls`` (true: required, false: never,
absent: when the server offers it), ``tls`` (implicit TLS, port 465),
``username`` / ``password`` (optional), ``from``, ``to`` (a list), ``timeout``
(seconds, 20), ``validate_certs`` (true; false only for a private server's self-signed certificate). A server that cannot be reached, times out or answers 4xx is
worth retrying; a 5xx answer (refused sender or recipients, failed login) is not.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib

from domain.notifications.ports import Notice, NotifyFailed

DEFAULT_PORT = 587
TIMEOUT = 20.0
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_URL = re.compile(r"https?://[^\s<>\"')]+")
_ADDRESS = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def _said(message: object) -> str:
    """What the server said, cut, with any address in it masked (it may quote the recipient)."""
    return _ADDRESS.sub("***@***", str(message))[:200]


def plain(notice: Notice) -> str:
    """The Markdown body as plain text (no ``**``)."""
    return _BOLD.sub(r"\1", notice.body).strip() + "\n"


def as_html(notice: Notice) -> str:
    """A minimal HTML rendering: bold, links, list items, one paragraph per line."""
    lines = []
    for line in notice.body.strip().splitlines():
        text = html.escape(line.removeprefix("- ").removeprefix("> "))
        text = _BOLD.sub(r"<b>\1</b>", text)
        text = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', text)
        lines.append(f"<li>{text}</li>" if line.startswith("- ") else f"<p>{text}</p>")
    lang = "zh-CN" if notice.language == "zh" else "en"
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(notice.title)}</title>'
            f'</head><body><h3>{html.escape(notice.title)}</h3>{"".join(lines)}</body></html>')


def build(config: Mapping[str, Any], notice: Notice) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notice.title
    message["From"] = str(config.get("from") or "")
    message["To"] = ", ".join(config.get("to") or [])
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="ordergraph")
    message.set_content(plain(notice))
    message.add_alternative(as_html(notice), subtype="html")
    return message


def _starttls(config: Mapping[str, Any]) -> bool | None:
    value = config.get("starttls")
    return None if value is None else bool(value)


class EmailSender:
    async def send(self, config: Mapping[str, Any], notice: Notice) -> None:
        host = str(config.get("host") or "")
        try:
            await aiosmtplib.send(
                build(config, notice),
                hostname=host,
                port=int(config.get("port") or DEFAULT_PORT),
                use_tls=bool(config.get("tls")),
                start_tls=False if config.get("tls") else _starttls(config),
                username=config.get("username") or None,
                password=config.get("password") or None,
                timeout=float(config.get("timeout") or TIMEOUT),
                validate_certs=config.get("validate_certs", True) is not False,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refused.code for refused in error.recipients]
            raise NotifyFailed(f"SMTP {host}: recipients refused ({', '.join(map(str, codes))})",
                               retryable=all(400 <= code < 500 for code in codes)) from None
        except aiosmtplib.SMTPResponseException as error:
            raise NotifyFailed(f"SMTP {host}: {error.code} {_said(error.message)}",
                               retryable=400 <= error.code < 500) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise NotifyFailed(f"SMTP {host}: {type(error).__name__}", retryable=True) from None
