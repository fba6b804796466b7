"""Walk a decoded JSON object while remembering where we are.

Parsers read fields through a :class:`Reader` so that every
:class:`PayloadError` carries the exact path of the bad field
(``"order_detail.product_infos[1].sku_cnt"``) without each parser building
paths by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from adapters import wire
from domain.inbound.normalized import PayloadError

T = TypeVar("T")
Convert = Callable[[Any, str], T]


def is_missing(value: object) -> bool:
    """JSON null and blank strings both mean 'not given' on these platforms."""
    return value is None or (isinstance(value, str) and not value.strip())


class Reader:
    """A JSON object plus its path inside the payload."""

    __slots__ = ("data", "path")

    def __init__(self, data: object, path: str = "") -> None:
        if not isinstance(data, Mapping):
            raise PayloadError(f"expected a JSON object, got {wire.describe(data)}", field=path or "$")
        self.data: Mapping[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        """The path of ``key`` inside this object."""
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return not is_missing(self.data.get(key))

    def req(self, key: str, convert: Convert[T]) -> T:
        """A required field, converted; missing or blank raises with its path."""
        value = self.data.get(key)
        if is_missing(value):
            raise PayloadError("required field is missing", field=self.at(key))
        return convert(value, self.at(key))

    def opt(self, key: str, convert: Convert[T], *, zero_is_missing: bool = False) -> T | None:
        """An optional field, converted, or ``None``; ``zero_is_missing`` for platforms that send 0 for 'unset'."""
        value = self.data.get(key)
        if is_missing(value) or (zero_is_missing and not isinstance(value, bool) and value in (0, "0")):
            return None
        return convert(value, self.at(key))

    def text(self, key: str) -> str:
        """Optional free text, ``""`` when absent."""
        return self.opt(key, wire.text) or ""

    def first_text(self, *keys: str) -> str:
        """The first non-blank text among ``keys`` (e.g. merchant SKU code, then its fallback field)."""
        for key in keys:
            found = self.text(key).strip()
            if found:
                return found
        return ""

    def obj(self, key: str, *, required: bool = True) -> Reader:
        """A nested object; an absent optional one reads as empty."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise PayloadError("required object is missing", field=self.at(key))
            value = {}
        return Reader(value, self.at(key))

    def objs(self, key: str, *, required: bool = True) -> list[Reader]:
        """A nested array of objects; an absent optional one reads as empty."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise PayloadError("required array is missing", field=self.at(key))
            return []
        if not isinstance(value, list):
            raise PayloadError(f"expected a JSON array, got {wire.describe(value)}", field=self.at(key))
        return [Reader(item, f"{self.at(key)}[{index}]") for index, item in enumerate(value)]
