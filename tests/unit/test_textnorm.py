"""Digits of other scripts, odd spaces, look-alike letters: one canonical text (textnorm)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.services.textnorm import (
    NotANumber,
    ascii_digits,
    compact_number,
    compile_account_pattern,
    normalize_access_code,
    parse_decimal,
    parse_money,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("１０２０００００", "10200000"),  # full-width
        ("١٠٢٠٠٠٠٠", "10200000"),  # Arabic-Indic
        ("۱۰۲۰۰۰۰۰", "10200000"),  # Extended Arabic-Indic (Persian keyboards)
        ("१०२०००००", "10200000"),  # Devanagari
        ("১০২০০০০০", "10200000"),  # Bengali
        ("𝟏𝟎𝟐𝟎", "1020"),  # mathematical bold (NFKC)
        ("1\u00a0234", "1 234"),  # NBSP
        ("1\u202f234", "1 234"),  # narrow NBSP (the Russian locale's group separator)
        ("1\u2009234", "1 234"),  # thin space
        ("1\u2007234", "1 234"),  # figure space
        ("1\u3000234", "1 234"),  # ideographic space
        ("10\u200b20", "1020"),  # zero width space
        ("ＡＢ-12", "AB-12"),  # full-width Latin letters
        ("ул. Ленина", "ул. Ленина"),  # letters of other scripts stay
        ("10200000", "10200000"),
    ],
)
def test_ascii_digits(typed: str, expected: str) -> None:
    assert ascii_digits(typed) == expected


@pytest.mark.parametrize(
    "typed", ["１０２０００００", " 10-200 000 ", "10\u2011200\u2013000", "10\u00a0200\u202f000"]
)
def test_compact_number(typed: str) -> None:
    assert compact_number(typed) == "10200000"


@pytest.mark.parametrize(
    "typed",
    [
        "AB12KC",
        "ab12kc",
        "АВ12КС",  # Cyrillic look-alikes, upper case
        "ав12кс",  # … and lower case
        "Ав １２ кC",  # mixed scripts, full-width digits, a space
        "AB-12-KC",
    ],
)
def test_access_code_typed_either_way_is_the_same(typed: str) -> None:
    assert normalize_access_code(typed) == "AB12KC"


def test_every_look_alike_letter_maps_to_latin() -> None:
    assert normalize_access_code("АВЕКМНОРСТУХ") == "ABEKMHOPCTYX"
    assert normalize_access_code("авекмнорстух") == "ABEKMHOPCTYX"
    assert normalize_access_code("Д7Ж9") == "Д7Ж9"  # no Latin twin: kept (upper case)


def test_account_patterns_match_ascii_digits_only() -> None:
    pattern = compile_account_pattern(r"\d{8}")
    assert pattern.fullmatch("10200000")
    assert not pattern.fullmatch("１０２０００００")  # compact_number it first
    assert pattern.fullmatch(compact_number("１０２０００００"))
    assert compile_account_pattern(r"\w+").fullmatch("Ab_1")
    assert not compile_account_pattern(r"\w+").fullmatch("Аб")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1234.56", Decimal("1234.56")),
        ("1234,56", Decimal("1234.56")),
        ("1 234,56", Decimal("1234.56")),
        ("1\u00a0234,56", Decimal("1234.56")),
        ("1\u202f234,56", Decimal("1234.56")),
        ("12\u202f345\u202f678,9", Decimal("12345678.9")),
        ("１２３４，５６", Decimal("1234.56")),  # full-width digits and comma
        ("-262,15", Decimal("-262.15")),
        ("\u2212262,15", Decimal("-262.15")),  # the minus sign
        (" 0 ", Decimal("0")),
    ],
)
def test_parse_decimal(written: str, expected: Decimal) -> None:
    assert parse_decimal(written, places=2) == expected


@pytest.mark.parametrize(
    "written", ["", "abc", "1.2.3", "12 34", "1234 567", "1,23.5", "1e3", "١٢ ٣٤", "--1"]
)
def test_not_a_number(written: str) -> None:
    with pytest.raises(NotANumber, match="not a number"):
        parse_decimal(written, places=2)


def test_too_many_decimals() -> None:
    with pytest.raises(NotANumber, match="more than 2 digits after the decimal point"):
        parse_decimal("1,234", places=2)
    assert parse_decimal("1,234", places=3) == Decimal("1.234")


def test_parse_money_keeps_two_decimals() -> None:
    assert str(parse_money("1,234.56")) == "1234.56"  # as English speakers write it
    assert parse_money("9" * 5000) > 10**4000  # huge, not an error: the caller's range says no
    assert str(parse_money("1\u202f234,5")) == "1234.50"
    assert str(parse_money("7")) == "7.00"
