"""A tenant's look on customer pages: name, logo, accent colour, made safe and readable.

    >>> accent_palette("#ffd400").solid, accent_palette("#ffd400").on_solid
    ('#ffd400', '#1a1a1a')
    >>> accent_palette("#e4393c").on_solid
    '#ffffff'

The colour goes into CSS and the logo into an ``img`` tag, so both are
validated here, and an accent too light to carry white text (or to be read as
text on white) gets a readable companion instead of a page that fails contrast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import NotFound, ValidationFailed
from models import Tenant

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_LOGO = re.compile(r"^(?:https://[^\s\"'<>()\\]{1,490}|/(?!/)[A-Za-z0-9._~/-]{1,490})$")
_CONTACT = re.compile(r"^(?:https://[^\s\"'<>()\\]{1,490}|mailto:[^\s\"'<>()\\:/]{3,200}|tel:\+?[0-9][0-9 -]{2,30})$")
DEFAULT_ACCENT = "#e4393c"
DARK_TEXT = "#1a1a1a"


@dataclass(frozen=True, slots=True)
class Palette:
    accent: str  # decoration: dots, rings, tints
    solid: str  # fills that carry text: header band, buttons
    on_solid: str  # the text on them, at least 4.5:1
    ink: str  # the accent darkened until it reads as text on white (>= 4.5:1)


def _rgb(color: str) -> tuple[float, float, float]:
    digits = color[1:]
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two hex colours (1 to 21)."""
    la, lb = sorted((_luminance(_rgb(a)), _luminance(_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def accent_palette(accent: str | None) -> Palette:
    color = accent if accent and _HEX.match(accent) else DEFAULT_ACCENT
    color = _hex(_rgb(color))
    rgb = _rgb(color)
    while contrast(_hex(rgb), "#ffffff") < 4.5:
        rgb = tuple(c * 0.92 for c in rgb)  # type: ignore[assignment]
    ink = _hex(rgb)
    if contrast(color, DARK_TEXT) >= 4.5 and contrast(color, DARK_TEXT) > contrast(color, "#ffffff"):
        return Palette(accent=color, solid=color, on_solid=DARK_TEXT, ink=ink)
    return Palette(accent=color, solid=ink, on_solid="#ffffff", ink=ink)


def safe_logo_url(url: str | None) -> str | None:
    """An https (or same-site path) logo URL, or None: nothing that could break out of an attribute."""
    if url and _LOGO.match(url):
        return url
    return None


def safe_contact_url(url: str | None) -> str | None:
    """Where customers contact the shop: an https page, a ``mailto:`` or a ``tel:`` link, or None."""
    if url and _CONTACT.match(url):
        return url
    return None


async def set_branding(
    tenant_id: int, *, name: str | None = None, logo_url: str | None = None, accent_color: str | None = None,
    contact_url: str | None = None,
) -> Tenant:
    """Change what customers see; refuses colours and URLs the page could not use safely (``""`` clears a URL)."""
    tenant = await Tenant.filter(id=tenant_id).first()
    if tenant is None:
        raise NotFound("no such tenant", field="tenant")
    if accent_color is not None:
        if not _HEX.match(accent_color):
            raise ValidationFailed("accent colour must be #rgb or #rrggbb", field="accentColor")
        tenant.accent_color = accent_color.lower()
    if logo_url is not None:
        if logo_url and safe_logo_url(logo_url) is None:
            raise ValidationFailed("logo URL must be https:// or a path on this site", field="logoUrl")
        tenant.logo_url = logo_url or None
    if contact_url is not None:
        contact_url = contact_url.strip()
        if contact_url and safe_contact_url(contact_url) is None:
            raise ValidationFailed("contact URL must be https://, mailto: or tel:", field="contactUrl")
        tenant.contact_url = contact_url
    if name is not None:
        if not name.strip():
            raise ValidationFailed("name must not be empty", field="name")
        tenant.name = name.strip()[:200]
    await tenant.save()
    return tenant
