"""Numbers, codes and amounts as people and files write them → one canonical text.

Residents type on phones with other keyboards (full-width digits, Arabic-Indic digits,
a Russian layout), billing clerks paste from Excel (NBSP and U+202F between digit groups).
Everything that is a number, a code, an amount, a reading or a date goes through these
functions before it is checked, compared, hashed or stored, wherever it enters: Telegram
text, a billing CSV file, the billing API. Names and addresses are not numbers: leave
them alone (NFKC would turn «№» into «No»).

No aiogram, no database: pure functions, safe to call from any layer.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

__all__ = [
    "NotANumber",
    "ascii_digits",
    "compact_number",
    "compile_account_pattern",
    "normalize_access_code",
    "parse_decimal",
    "parse_money",
]

#: invisible characters that copy-paste brings along inside numbers: removed
_INVISIBLE = {
    0x200B: None,  # zero width space
    0x200C: None,  # zero width non-joiner
    0x200D: None,  # zero width joiner
    0x2060: None,  # word joiner
    0xFEFF: None,  # zero width no-break space (a BOM in the middle of text)
    0x00AD: None,  # soft hyphen
}


class _DigitsAndSpaces(dict[int, int | str | None]):
    """A `str.translate` table built on demand: any decimal digit → its ASCII digit,
    any space separator (category Zs: U+00A0, U+2007, U+2009, U+202F, U+3000 …) → ' '."""

    def __missing__(self, code_point: int) -> int | str | None:
        char = chr(code_point)
        value = unicodedata.decimal(char, None)
        mapped: int | str | None
        if value is not None:
            mapped = str(value)
        elif unicodedata.category(char) == "Zs":
            mapped = " "
        else:
            mapped = code_point  # unchanged
        self[code_point] = mapped
        return mapped


_TABLE = _DigitsAndSpaces(_INVISIBLE)


def ascii_digits(text: str) -> str:
    """NFKC, then every Unicode decimal digit of any script to ASCII, odd spaces to ' '.

    `１０２０` (full-width), `١٠٢٠` (Arabic-Indic), `१०२०` (Devanagari) → `1020`;
    U+00A0, U+202F, U+2009, U+2007 and every other space separator → a plain space;
    zero-width characters and the soft hyphen are dropped. Nothing is stripped and
    letters are kept (NFKC folds full-width Latin letters to ASCII ones).
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_TABLE)


#: dashes of every kind (Unicode category Pd) and the minus sign
_DASHES = (
    "".join(chr(c) for c in range(0x2000, 0x2070) if unicodedata.category(chr(c)) == "Pd")
    + "-\u2212\ufe58\ufe63\uff0d"
)
_SEPARATORS = re.compile(rf"[\s{re.escape(_DASHES)}]+")


def compact_number(text: str) -> str:
    """An account number, a meter serial or a one-time code as typed → the stored form.

    `ascii_digits`, then spaces and dashes of every kind removed: `１０-２００ ０００` and
    `10-200 000` → `10200000`. The billing import stores account numbers this way, so the
    bot must compact what a resident types with this same function before it looks one up.
    """
    return _SEPARATORS.sub("", ascii_digits(text))


# ---------------------------------------------------------------------------- access codes
#: Cyrillic letters that look like Latin ones (a Russian keyboard types them instead)
_LOOK_ALIKES = str.maketrans(
    "АВЕКМНОРСТУХаеорсухвкмнт",
    "ABEKMHOPCTYXAEOPCYXBKMHT",
)


def normalize_access_code(text: str) -> str:
    """A receipt access code as typed or as the billing file holds it → the form hashed.

    `ascii_digits`, spaces and dashes removed (as `compact_number`), the Cyrillic letters
    that look like Latin ones (А В Е К М Н О Р С Т У Х, either case) mapped to those Latin
    letters, then upper case: `ав-12 кс`, `AB12KC` and `ab12kc` are the same code.

    The billing import hashes `normalize_access_code(file value)`; the bot must check
    `normalize_access_code(what the resident typed)` against that hash.
    """
    return compact_number(text).translate(_LOOK_ALIKES).upper()


# ---------------------------------------------------------------------------- patterns
@lru_cache(maxsize=256)
def compile_account_pattern(pattern: str) -> re.Pattern[str]:
    """A supplier's account-number pattern, compiled with ASCII semantics (cached).

    With `re.ASCII`, `\\d` is `[0-9]` and `\\w` is `[A-Za-z0-9_]`: a number in other
    digits must be `compact_number`-ed first, never matched as it is. Match with
    `.fullmatch(number)`. Raises `re.error` for a pattern that does not compile, `(?u)`
    included (the import refuses those, so only a pattern stored by hand can).
    """
    try:
        return re.compile(pattern, re.ASCII)
    except ValueError as exc:  # "ASCII and UNICODE flags are incompatible"
        raise re.error(str(exc)) from None


# ---------------------------------------------------------------------------- numbers
class NotANumber(ValueError):
    """The text is not a number in an accepted form; the message says why (English)."""


#: `1234`, `1234.5`, `1234,56`, `1 234 567,89` (groups of three after the first)
_DECIMAL = re.compile(r"[+-]?(?:\d+|\d{1,3}(?: \d{3})+)(?:[.,]\d+)?", re.ASCII)
#: the English way: «1,234.56», «12,345» is not it (a comma alone is a decimal comma)
_ENGLISH = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+", re.ASCII)


def parse_decimal(text: str, *, places: int) -> Decimal:
    """`1234.56`, `1234,56`, `1 234,56`, `1,234.56` → `Decimal('1234.56')`; at most
    `places` decimals.

    The text is `ascii_digits`-ed first, so the thousands separators U+00A0 (Excel) and
    U+202F (the Russian locale of glibc and of many phones) read as a space, and other
    digits as ASCII ones. Spaces separate groups of three digits only (`12 34` is refused:
    it may be two numbers). A minus sign (U+2212) reads as '-'. Raises `NotANumber`.
    """
    raw = " ".join(ascii_digits(text).replace("\u2212", "-").split())
    if _ENGLISH.fullmatch(raw):  # «1,234.56»: commas between thousands, a point before cents
        raw = raw.replace(",", "")
    if not _DECIMAL.fullmatch(raw):
        raise NotANumber(f"not a number: {text.strip()!r} (write 1234.56 or 1234,56)")
    try:
        number = Decimal(raw.replace(" ", "").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise NotANumber(f"not a number: {text.strip()!r}") from None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise NotANumber(f"more than {places} digits after the decimal point")
    return number


CENT = Decimal("0.01")


def parse_money(text: str) -> Decimal:
    """An amount of roubles: `parse_decimal(text, places=2)` with two decimals always
    (`1 234,5` → `Decimal('1234.50')`). Raises `NotANumber`; the range is the caller's."""
    number = parse_decimal(text, places=2)
    if number.adjusted() >= 20:  # beyond any sum; quantize would exceed Decimal's precision
        return number
    return number.quantize(CENT)
