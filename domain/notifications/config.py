"""Checking and normalising what a route sends to: a WeCom robot, a DingTalk robot or mailboxes.

    clean("wecom", {"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"})
    # -> {"key": "K", "base_url": "https://qyapi.weixin.qq.com"}
    clean("dingtalk", {"access_token": "T", "secret": "SEC…"}, previous=stored)   # "****…" values keep stored ones

The normalised shapes (what ``adapters.notify`` reads):

- ``wecom``: ``key``, ``base_url``;
- ``dingtalk``: ``access_token``, ``secret`` (may be empty: an unsigned robot), ``keyword``, ``base_url``;
- ``email``: ``host``, ``port``, ``starttls`` (true / false / null = when offered), ``tls``,
  ``username``, ``password``, ``from``, ``to`` (1-20 addresses), ``validate_certs``.

A robot's pasted webhook URL is accepted too (``webhook_url``), and split.
Every refusal is a ``ValidationFailed`` naming the config key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from email_validator import EmailNotValidError, validate_email

from domain.errors import ValidationFailed
from domain.notifications.ports import is_hidden

TARGETS = ("wecom", "dingtalk", "email")
WECOM_BASE = "https://qyapi.weixin.qq.com"
DINGTALK_BASE = "https://oapi.dingtalk.com"
MAX_RECIPIENTS = 20
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$")
_KNOWN = {
    "wecom": {"key", "base_url", "webhook_url"},
    "dingtalk": {"access_token", "secret", "keyword", "base_url", "webhook_url"},
    "email": {"host", "port", "starttls", "tls", "username", "password", "from", "to", "timeout", "validate_certs"},
}


def _field(key: str) -> str:
    return f"config.{key}"


def _text(config: Mapping[str, Any], key: str, *, limit: int = 200, required: bool = False) -> str:
    value = config.get(key)
    if value is None or value == "":
        if required:
            raise ValidationFailed(f"{key} is required", field=_field(key))
        return ""
    if not isinstance(value, str) or len(value) > limit or any(ch in value for ch in "\r\n\x00"):
        raise ValidationFailed(f"{key} must be a single line of at most {limit} characters", field=_field(key))
    return value.strip()


def base_url(value: Any, default: str, key: str = "base_url") -> str:
    """``scheme://host[:port]`` of a robot service (a simulator in tests); nothing else may be in it."""
    if value in (None, ""):
        return default
    if not isinstance(value, str) or len(value) > 300:
        raise ValidationFailed(f"{key} must be a URL", field=_field(key))
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValidationFailed(f"{key} is not a valid URL", field=_field(key)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"{key} must be an http(s) URL with a host", field=_field(key))
    if parts.username or parts.password or parts.query or parts.fragment or parts.path.strip("/"):
        raise ValidationFailed(f"{key} is the service's origin only, e.g. {default}", field=_field(key))
    return f"{parts.scheme}://{parts.netloc}"


def _from_webhook_url(config: Mapping[str, Any], path: str, param: str) -> tuple[str, str] | None:
    """(origin, token) from a pasted robot URL such as ``https://…/cgi-bin/webhook/send?key=K``."""
    url = config.get("webhook_url")
    if url in (None, ""):
        return None
    if not isinstance(url, str) or len(url) > 500:
        raise ValidationFailed("webhook_url must be the robot's URL", field=_field("webhook_url"))
    parts = urlsplit(url.strip())
    tokens = parse_qs(parts.query).get(param) or [""]
    if parts.path.rstrip("/") != path or not tokens[0]:
        raise ValidationFailed(f"webhook_url must look like https://host{path}?{param}=…", field=_field("webhook_url"))
    origin = base_url(f"{parts.scheme}://{parts.netloc}", "", "webhook_url")
    return origin, tokens[0]


def _token(value: str, key: str) -> str:
    if not _TOKEN.match(value):
        raise ValidationFailed(f"{key} holds characters a robot token never has", field=_field(key))
    return value


def _email(value: Any, key: str) -> str:
    if not isinstance(value, str) or len(value) > 254:
        raise ValidationFailed(f"{key}: not an email address", field=_field(key))
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationFailed(f"{key}: {value[:60]!r} is not an email address ({error})"[:300], field=_field(key)) from None


def _flag(config: Mapping[str, Any], key: str, default: bool | None) -> bool | None:
    value = config.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise ValidationFailed(f"{key} must be true or false", field=_field(key))
    return value


def _wecom(config: Mapping[str, Any]) -> dict[str, Any]:
    pasted = _from_webhook_url(config, "/cgi-bin/webhook/send", "key")
    origin, key = pasted if pasted else (base_url(config.get("base_url"), WECOM_BASE), _text(config, "key", required=True))
    return {"key": _token(key, "key"), "base_url": origin}


def _dingtalk(config: Mapping[str, Any]) -> dict[str, Any]:
    pasted = _from_webhook_url(config, "/robot/send", "access_token")
    origin, token = pasted if pasted else (base_url(config.get("base_url"), DINGTALK_BASE),
                                           _text(config, "access_token", required=True))
    return {"access_token": _token(token, "access_token"), "secret": _text(config, "secret"),
            "keyword": _text(config, "keyword", limit=50), "base_url": origin}


def _mail(config: Mapping[str, Any]) -> dict[str, Any]:
    host = _text(config, "host", limit=253, required=True)
    if not _HOST.match(host):
        raise ValidationFailed("host must be a host name or an IPv4 address", field=_field("host"))
    port = config.get("port", 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationFailed("port must be a number from 1 to 65535", field=_field("port"))
    timeout = config.get("timeout", 20)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 1 <= timeout <= 120:
        raise ValidationFailed("timeout must be 1-120 seconds", field=_field("timeout"))
    recipients = config.get("to")
    if isinstance(recipients, str):
        recipients = [part for part in re.split(r"[,;\s]+", recipients) if part]
    if not isinstance(recipients, list) or not recipients:
        raise ValidationFailed("to must list at least one recipient", field=_field("to"))
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationFailed(f"at most {MAX_RECIPIENTS} recipients", field=_field("to"))
    tls = _flag(config, "tls", False)
    username = _text(config, "username", limit=254)
    password = _text(config, "password", limit=500)
    if password and not username:
        raise ValidationFailed("a password needs a username", field=_field("username"))
    return {
        "host": host, "port": port, "starttls": None if tls else _flag(config, "starttls", None), "tls": tls,
        "username": username, "password": password, "from": _email(config.get("from"), "from"),
        "to": sorted({_email(address, "to") for address in recipients}), "timeout": timeout,
        "validate_certs": _flag(config, "validate_certs", True),
    }


_CLEANERS = {"wecom": _wecom, "dingtalk": _dingtalk, "email": _mail}


def clean(target: str, config: Any, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The normalised config of ``target``; values sent back hidden (``****…``) keep ``previous`` ones."""
    if target not in _CLEANERS:
        raise ValidationFailed(f"target must be one of {', '.join(TARGETS)}", field="target")
    if not isinstance(config, Mapping):
        raise ValidationFailed("config must be an object", field="config")
    unknown = sorted(set(config) - _KNOWN[target])
    if unknown:
        raise ValidationFailed(f"unknown config keys for {target}: {', '.join(unknown)[:200]}", field="config")
    merged = dict(config)
    for key, value in config.items():
        if is_hidden(value):
            if not previous or key not in previous:
                raise ValidationFailed(f"{key} is hidden; send the real value", field=_field(key))
            merged[key] = previous[key]
    return _CLEANERS[target](merged)


def target_urls(target: str, config: Mapping[str, Any]) -> list[str]:
    """The URLs a route's messages go to (checked against the server's URL policy at save time)."""
    return [f"{config['base_url']}/"] if target in ("wecom", "dingtalk") else []
