"""Money as residents read and type it: Babel formatting, kopecks, typed sums.

Decimal only, never float. Pure functions, no aiogram, no database.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency

CURRENCY = "RUB"
CENT = Decimal("0.01")
#: the largest sum a resident may type for a receipt or a payment: a year of a large
#: house's charges with arrears is far below; a typo of three extra zeros is not
MAX_SUM = Decimal("1000000.00")
MIN_SUM = CENT

#: `1234`, `1234.5`, `1234,56`, `1 234 567,89` (groups of three after the first)
_DECIMAL = re.compile(r"(?:\d+|\d{1,3}(?: \d{3})+)(?:[.,]\d+)?", re.ASCII)
#: what residents write after a sum: ₽, р., руб., рублей, rub
_CURRENCY_TAIL = re.compile(r"\s*(?:₽|р\.?|руб\.?|рубл[ьяей]{1,2}|rub\.?|rur)\s*$", re.IGNORECASE)
#: a letter symbol right before a digit ("RUB1,234.56"): CLDR's currency spacing, which
#: Babel does not apply, puts a no-break space there
_SYMBOL_DIGIT = re.compile(r"([A-Za-z]{3})(?=\d)")


class SumProblem(enum.StrEnum):
    NOT_A_NUMBER = "not_a_number"
    TOO_PRECISE = "too_precise"  # more than two decimals (kopecks)
    NOT_POSITIVE = "not_positive"
    TOO_LARGE = "too_large"


class SumRejected(ValueError):
    def __init__(self, problem: SumProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def format_money(amount: Decimal, locale: str) -> str:
    """`1 234,56 ₽` in Russian, `RUB 1,234.56` in English (no-break spaces)."""
    text = format_currency(amount, CURRENCY, locale=locale)
    return _SYMBOL_DIGIT.sub("\\1\u00a0", text)


def to_kopecks(amount: Decimal) -> int:
    """Roubles → whole kopecks, half a kopeck up (the QR code's Sum, Telegram's amount)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_kopecks(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / 100).quantize(CENT)


def _ascii_digits(text: str) -> str:
    """NFKC, every Unicode decimal digit → ASCII, every space separator (NBSP, U+202F, …)
    → ' ', zero-width characters dropped: the digits rule of bot/services/textnorm.py
    (real-input), which this yields to once both are on main."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for char in text:
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            out.append(str(digit))
        elif unicodedata.category(char) == "Zs":
            out.append(" ")
        elif unicodedata.category(char) != "Cf":
            out.append(char)
    return "".join(out)


def parse_sum(text: str) -> Decimal:
    """A sum a resident typed → Decimal with two places; raises `SumRejected`.

    Comma or dot before the kopecks, spaces between groups of three digits, digits of
    any script, ₽ / руб. / RUB after it. Positive, at most two decimals, at most MAX_SUM.
    """
    raw = _CURRENCY_TAIL.sub("", " ".join(_ascii_digits(text).split()))
    raw = raw.replace("\u2212", "-")
    if raw.startswith("-"):
        raise SumRejected(SumProblem.NOT_POSITIVE)
    if not _DECIMAL.fullmatch(raw):
        raise SumRejected(SumProblem.NOT_A_NUMBER)
    try:
        value = Decimal(raw.replace(" ", "").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise SumRejected(SumProblem.NOT_A_NUMBER) from None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise SumRejected(SumProblem.TOO_PRECISE)
    if value < MIN_SUM:
        raise SumRejected(SumProblem.NOT_POSITIVE)
    if value > MAX_SUM:
        raise SumRejected(SumProblem.TOO_LARGE)
    return value.quantize(CENT)
