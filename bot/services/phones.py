"""Phone numbers: two ways in (a Telegram contact, a typed or billing-file number), E.164 out.

The two differ on purpose. A Telegram contact's number is always international: `8…` there
is the start of a country code (+84 Vietnam, +86 China, +81 Japan), never Russia's trunk
prefix. Only a number a person typed or a billing file holds may be national
(`8 (916) 123-45-67`), read with Russia as the default region. Mixing them up once linked
a Vietnamese resident to the account of a Tver landline (+7 482 …) in one tap.

Both use the `phonenumbers` library (Google's libphonenumber metadata), accept any valid
number of any country, return E.164 (`+79161234567`) and raise `InvalidPhone`.
"""

from __future__ import annotations

import re

import phonenumbers

from bot.services.textnorm import ascii_digits

DEFAULT_REGION = "RU"

#: what a written number may hold besides digits: '+' first, spaces, dashes, dots, brackets
_WRITTEN = re.compile(r"\+?[0-9 ()\-.\u2010-\u2015\u2212]+", re.ASCII)
_NOT_DIGIT = re.compile(r"[^0-9]", re.ASCII)
MAX_DIGITS = 17  # E.164 allows 15; a little slack for a trunk prefix, refuse the rest early


class InvalidPhone(ValueError):
    """Not a valid phone number; the message says why (English, for logs and reports)."""


def _written(raw: str) -> str:
    text = ascii_digits(raw or "").strip()
    if not text:
        raise InvalidPhone("empty")
    if not _WRITTEN.fullmatch(text) or not 0 < len(_NOT_DIGIT.sub("", text)) <= MAX_DIGITS:
        raise InvalidPhone(f"not a phone number: {raw!r}")
    return text


def _e164(text: str, region: str | None, raw: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {raw!r} ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"not a valid number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contact_phone_to_e164(phone_number: str) -> str:
    """Telegram's `Contact.phone_number` → E.164. Use it for contacts and nothing else.

    Shape: the international number, digits with or without a leading '+' (Telegram sends
    `79161234567`, some clients `+79161234567`); spaces, dashes, brackets and digits of
    other scripts are tolerated. Every number is read as international — a leading 8 is
    a country code, never Russia's trunk prefix: `84822123456` → `+84822123456` (Vietnam),
    `8613812345678` → `+8613812345678` (China), `819012345678` → `+819012345678` (Japan),
    `77012345678` → `+77012345678` (Kazakhstan), `79161234567` → `+79161234567`.

    Rule: Telegram's Bot API `Contact.phone_number` is the number of the account in
    international form (E.164 without the '+', as the Telegram apps store it); validity
    by the `phonenumbers` library (libphonenumber metadata). Raises `InvalidPhone` for an
    empty text, anything but a number, or a number no country has (`+7 000 …`).
    """
    text = _written(phone_number)
    return _e164("+" + _NOT_DIGIT.sub("", text), None, phone_number)


def typed_phone_to_e164(text: str, region: str = DEFAULT_REGION) -> str:
    """A number a person typed or a billing file holds → E.164.

    Shape: international with '+' (`+7 916 123-45-67`, `+84 822 123 456`), or national
    of `region` (Russia by default): `8 (916) 123-45-67`, `89161234567`, `9161234567`,
    and also `79161234567` (digits starting with the region's country code); spaces,
    dashes, dots, brackets, NBSP and digits of other scripts (full-width, Arabic-Indic)
    are accepted. Without '+', a leading 8 is Russia's trunk prefix: `84822123456` is the
    Tver number +74822123456 here, which is why a Telegram contact must not come this way.

    Rule: the national numbering plan of `region` as the `phonenumbers` library
    (libphonenumber metadata) knows it; foreign numbers are accepted when written with '+'
    (or Russia's international prefix 810). Raises `InvalidPhone` for an empty text,
    letters or other characters, or a number that is not valid.
    """
    written = _written(text)
    return _e164(written, region, text)


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
