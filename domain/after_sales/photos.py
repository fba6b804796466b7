"""The customer's photos of a return: at most five, each at most 2 MB, JPEG, PNG or WebP by their own bytes.

    checked = check_photos([("image/jpeg", data)])     # [(detected type, bytes)]

The type a client claims is ignored: a file is what its first bytes say it
is, so an HTML page or a script renamed ``.jpg`` is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from domain.errors import ValidationFailed

MAX_PHOTOS = 5
MAX_BYTES = 2 * 1024 * 1024


def sniff(data: bytes) -> str | None:
    """The image type the bytes are (``image/jpeg``, ``image/png``, ``image/webp``), or ``None``."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photos(photos: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes, str]]:
    """(detected content type, bytes, sha256) of each photo; ``ValidationFailed`` naming the first bad one."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"at most {MAX_PHOTOS} photos, got {len(photos)}", field="photos")
    checked = []
    for index, (_claimed, data) in enumerate(photos):
        where = f"photos.{index}"
        if not isinstance(data, (bytes, bytearray)) or not data:
            raise ValidationFailed("a photo must not be empty", field=where)
        if len(data) > MAX_BYTES:
            raise ValidationFailed(f"a photo may be at most {MAX_BYTES // (1024 * 1024)} MB, this one is "
                                   f"{len(data) / (1024 * 1024):.1f} MB", field=where)
        kind = sniff(bytes(data[:16]))
        if kind is None:
            raise ValidationFailed("a photo must be a JPEG, PNG or WebP image (judged by its content, not its name)",
                                   field=where)
        checked.append((kind, bytes(data), hashlib.sha256(data).hexdigest()))
    return checked
