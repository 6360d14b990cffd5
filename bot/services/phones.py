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

import functools
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
    if not written.startswith("+"):
        fast = _by_template(written, region)
        if fast is not None:
            return fast
    return _typed_e164(written, region, text)


# ---------------------------------------------------------------------------- speed
# A billing file of a million accounts holds a million phones; `phonenumbers` takes
# ~110 µs for one (parse + is_valid_number): two minutes. Two caches make the import's
# phones cheap without a second rule (so the result is the library's, always):
# - every written form once (`_typed_e164`): the same phone on many accounts;
# - the subscriber digits are not looked at (`_by_template`): for the countries whose
#   every national-number pattern ends in `\d{n}` with n ≥ 4 (Russia and Kazakhstan,
#   checked at run time in the library's metadata, not assumed), parsing and validity
#   do not depend on the last four digits, so `8 (916) 123-45-67` is read once as the
#   template `8 (916) 123-00-00` and its E.164 gets the four digits back. One library call
#   per distinct template (area code + exchange), ~1 µs for every other number.

_TAIL = 4
_ENDS_FREE = re.compile(r"\\d\{(\d+)(?:,\d*)?\}$")
_SHORT_PREFIX = re.compile(r"(?:\d|\[[\d-]+\]){1,5}")  # ≤ 5 digits of a 10-digit number


def _top_alternatives(pattern: str) -> list[str]:
    """`a|(?:b|c)d` → [`a`, `(?:b|c)d`]: the alternatives outside any group."""
    out, depth, start = [], 0, 0
    escaped = False
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
    out.append(pattern[start:])
    return out


@functools.cache
def _tail_free(country_code: int) -> bool:
    """Whether no number pattern of the country looks at a national number's last 4 digits."""
    regions = phonenumbers.region_codes_for_country_code(country_code)
    if not regions:
        return False
    for region in regions:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is None or meta.national_prefix_transform_rule:
            return False
        # what is read at the start of a number (`8`, `[3489]`, `33|7`): a few digits only
        for prefix in (meta.leading_digits, meta.national_prefix_for_parsing):
            if prefix and not all(
                _SHORT_PREFIX.fullmatch(alt) for alt in _top_alternatives(prefix)
            ):
                return False
        for desc in (
            meta.general_desc, meta.fixed_line, meta.mobile, meta.toll_free,
            meta.premium_rate, meta.shared_cost, meta.personal_number, meta.voip,
            meta.pager, meta.uan, meta.voicemail, meta.no_international_dialling,
        ):  # fmt: skip
            pattern = desc.national_number_pattern if desc is not None else None
            if not pattern:
                continue
            for alternative in _top_alternatives(pattern):
                match = _ENDS_FREE.search(alternative)
                if match is None or int(match.group(1)) < _TAIL:
                    return False
    return True


@functools.lru_cache(maxsize=65_536)
def _template_e164(template: str, region: str) -> str | None:
    """E.164 of a written number whose last 4 digits are zeros, if the shortcut holds."""
    try:
        number = phonenumbers.parse(template, region)
    except phonenumbers.NumberParseException:
        return None
    if not _tail_free(number.country_code) or not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164 if e164.endswith("0" * _TAIL) else None


#: the last four digits of a number written backwards, and what stands between them
_FOUR_DIGITS = re.compile(r"[0-9][^0-9]*[0-9][^0-9]*[0-9][^0-9]*[0-9]", re.ASCII)
_ZERO = str.maketrans("123456789", "000000000")


def _by_template(written: str, region: str) -> str | None:
    """A national number (10 digits or more) through its template; None: ask the library."""
    match = _FOUR_DIGITS.search(written[::-1])
    if match is None or len(_NOT_DIGIT.sub("", written)) < 10:
        return None
    cut = len(written) - match.end()
    tail = written[cut:]
    e164 = _template_e164(written[:cut] + tail.translate(_ZERO), region)
    if e164 is None:
        return None
    return e164[:-_TAIL] + _NOT_DIGIT.sub("", tail)


@functools.lru_cache(maxsize=65_536)
def _typed_e164(written: str, region: str, raw: str) -> str:
    return _e164(written, region, raw)


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
