"""Checking a phone number or an email address someone typed, with the field named when it is wrong.

    >>> valid_phone("+86 138-1234-1234", "customer.phone")
    '+8613812341234'
    >>> valid_email("Li.Si@Example.COM", "customer.email")
    'Li.Si@example.com'

Phone numbers are judged by ``phonenumbers`` (Google's libphonenumber data:
length and number ranges per country; a number without ``+`` is read as
Chinese), email addresses by ``email-validator`` (syntax and domain form, no
DNS look-up).
"""

from __future__ import annotations

import email_validator
import phonenumbers

from domain.errors import ValidationFailed


def valid_phone(value: str, field: str, region: str = "CN") -> str:
    """The E.164 form of a real-looking number, or ``ValidationFailed`` on ``field``."""
    text = value.strip()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or len(text) > 32 or not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed("not a valid phone number (a mainland mobile, or +country code and number)", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def valid_email(value: str, field: str) -> str:
    """The normalised address (domain lower-cased), or ``ValidationFailed`` on ``field``."""
    try:
        return email_validator.validate_email(value.strip(), check_deliverability=False).normalized
    except email_validator.EmailNotValidError as error:
        raise ValidationFailed(f"not a valid email address: {str(error)[:120]}", field=field) from None
