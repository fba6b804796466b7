"""What every catalogue use case checks the same way: who may set up, codes, text sizes, numbers, money.

Each check raises ``ValidationFailed`` naming the field and what is wrong,
so a refusal reads the same from GraphQL, the CLI or a spreadsheet row.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from collections.abc import Callable, Mapping
from typing import Any

from domain.actor import Actor, Role
from domain.errors import Forbidden, ValidationFailed

#: Roles that set up what orders refer to (warehouses, items, aliases, opening stock); everyone else reads.
SETUP_ROLES = frozenset({Role.ADMIN, Role.OPS})

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_POSTAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]*$")
#: Largest whole number a 32-bit integer column holds.
MAX_INT = 2**31 - 1


#: A column's GraphQL/CSV path and the check that cleans its value.
FieldCheck = tuple[str, Callable[[Any, str], Any]]


def checked(values: Mapping[str, Any], fields: Mapping[str, FieldCheck], nullable: frozenset[str], what: str) -> dict[str, Any]:
    """Every value cleaned by its column's check; unknown columns and nulls where none is allowed refused by name."""
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValidationFailed(f"unknown {what} field(s) {', '.join(unknown)}", field=unknown[0])
    result = {}
    for column, value in values.items():
        path, check = fields[column]
        if value is None and column not in nullable:
            raise ValidationFailed(f"{path} cannot be null", field=path)
        result[column] = check(value, path)
    return result


def require_setup(actor: Actor, what: str) -> None:
    if actor.role not in SETUP_ROLES:
        raise Forbidden(f"role {actor.role} may not {what}; an admin or ops key may")


def code(value: Any, field: str, *, max_length: int, what: str) -> str:
    """A machine code (warehouse ``SH-01``): letters, digits, ``_ . -``, starting with a letter or digit."""
    text = str(value or "").strip()
    if not text:
        raise ValidationFailed(f"{what} must not be empty", field=field)
    if len(text) > max_length:
        raise ValidationFailed(f"{what} {text!r} is longer than {max_length} characters", field=field)
    if not _CODE.match(text):
        raise ValidationFailed(f"{what} {text!r} may hold only letters, digits, '_', '.' and '-'", field=field)
    return text


def label(value: Any, field: str, *, max_length: int, what: str, required: bool = False) -> str:
    """Free text shown to people (a name, a city): trimmed, bounded, no control characters."""
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise ValidationFailed(f"{what} must not be empty", field=field)
    if len(text) > max_length:
        raise ValidationFailed(f"{what} is longer than {max_length} characters", field=field)
    if _CONTROL.search(text):
        raise ValidationFailed(f"{what} contains control characters", field=field)
    return text


def identifier(value: Any, field: str, *, max_length: int, what: str) -> str:
    """An identifier someone else chose (a SKU code, a channel's alias): any printable text without spaces at its ends."""
    text = label(value, field, max_length=max_length, what=what, required=True)
    if any(character.isspace() for character in text):
        raise ValidationFailed(f"{what} {text!r} must not contain spaces", field=field)
    return text


def country(value: Any, field: str) -> str:
    text = str(value or "").strip().upper()
    if not _COUNTRY.match(text):
        raise ValidationFailed(f"country code {value!r} is not an ISO 3166-1 alpha-2 code such as CN or US", field=field)
    return text


def postal_code(value: Any, field: str) -> str:
    text = str(value or "").strip()
    if text and (len(text) > 20 or not _POSTAL.match(text)):
        raise ValidationFailed(f"postal code {text!r} may hold up to 20 letters, digits, spaces and '-'", field=field)
    return text


def whole(value: Any, field: str, *, what: str, minimum: int = 0, maximum: int = MAX_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{what} must be a whole number", field=field)
    if not minimum <= value <= maximum:
        raise ValidationFailed(f"{what} must be between {minimum:,} and {maximum:,}, got {value:,}", field=field)
    return value


def flag(value: Any, field: str, *, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(f"{what} must be true or false", field=field)
    return value


def coordinate(value: Any, field: str, *, limit: float, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationFailed(f"{what} must be a number of degrees", field=field)
    if not -limit <= value <= limit:
        raise ValidationFailed(f"{what} must be between -{limit:g} and {limit:g} degrees, got {value:g}", field=field)
    return float(value)


def money(value: Any, field: str, *, what: str, max_digits: int = 10) -> Decimal | None:
    """A non-negative amount with at most 2 decimals that fits the column; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, (bool, float)):
        raise ValidationFailed(f"{what} must be a decimal string such as \"2.50\" (never a float)", field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{what} {value!r} is not a number", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(f"{what} must not be negative", field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{what} {amount} has more than 2 decimals", field=field)
    if amount >= Decimal(10) ** (max_digits - 2):
        raise ValidationFailed(f"{what} {amount} is too large", field=field)
    return amount.quantize(Decimal("0.01"))
