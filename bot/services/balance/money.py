"""Money as residents read and type it: Babel formatting, kopecks, typed sums.

Decimal only, never float. Pure functions, no aiogram, no database.
"""

from __future__ import annotations

import enum
import functools
import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency

from bot.services.textnorm import NotANumber, parse_decimal, parse_money

CURRENCY = "RUB"
CENT = Decimal("0.01")
#: the largest sum a resident may type for a receipt or a payment: a year of a large
#: house's charges with arrears is far below; a typo of three extra zeros is not
MAX_SUM = Decimal("1000000.00")
MIN_SUM = CENT

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
    """`1 234,56 ₽` in Russian, `RUB 1,234.56` in English (no-break spaces); a negative
    sum with the minus sign U+2212 (`−50,00 ₽`), not CLDR's hyphen-minus (ГОСТ Р 7.0.97)."""
    return _format_money(amount.quantize(CENT, rounding=ROUND_HALF_UP) + 0, locale)


@functools.lru_cache(maxsize=8192)
def _format_money(amount: Decimal, locale: str) -> str:
    # Babel takes ~35 µs a sum and a balance screen shows a dozen or two: remembered (the
    # amount is quantized to kopecks and -0 made 0 first, so equal keys format alike)
    text = format_currency(amount, CURRENCY, locale=locale)
    if amount < 0:
        text = text.replace("-", "\u2212", 1)
    return _SYMBOL_DIGIT.sub("\\1\u00a0", text)


def to_kopecks(amount: Decimal) -> int:
    """Roubles → whole kopecks, half a kopeck up (the QR code's Sum, Telegram's amount)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_kopecks(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / 100).quantize(CENT)


def parse_sum(text: str) -> Decimal:
    """A sum a resident typed → Decimal with two places; raises `SumRejected`.

    The digits rule of the whole project (`bot.services.textnorm.parse_money`): comma or
    dot before the kopecks, spaces (NBSP, U+202F …) between groups of three digits,
    digits of any script; here also ₽ / руб. / RUB after it. Positive, at most two
    decimals, at most MAX_SUM.
    """
    raw = _CURRENCY_TAIL.sub("", text.strip())
    try:
        value = parse_money(raw)
    except NotANumber:
        try:
            parse_decimal(raw, places=64)
        except NotANumber:
            raise SumRejected(SumProblem.NOT_A_NUMBER) from None
        raise SumRejected(SumProblem.TOO_PRECISE) from None
    if value < MIN_SUM:
        raise SumRejected(SumProblem.NOT_POSITIVE)
    if value > MAX_SUM:
        raise SumRejected(SumProblem.TOO_LARGE)
    return value
