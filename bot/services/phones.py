"""Phone numbers: parsing and formatting with the phonenumbers library."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "RU"


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Any common way of writing a number → E.164 (`+79161234567`).

    Telegram sends contacts without '+' (`79161234567`); billing files write `8 (916) ...`.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("empty")
    if text[0].isdigit() and not text.startswith("8") and len(text) > 10:
        text = "+" + text  # international digits without the plus, as Telegram sends them
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """`+79161234567` → `+7 *** ***-45-67`: enough to recognise, not enough to learn."""
    try:
        number = phonenumbers.parse(e164, None)
        country = f"+{number.country_code}"
        national = str(number.national_number)
    except phonenumbers.NumberParseException:
        country, national = "", e164.lstrip("+")
    tail = national[-4:]
    return f"{country} *** ***-{tail[:2]}-{tail[2:]}".strip()
