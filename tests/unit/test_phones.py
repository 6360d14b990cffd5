"""Phone numbers: a Telegram contact is international; a typed or billing number may be Russian."""

from __future__ import annotations

import pytest

from bot.services.phones import InvalidPhone, contact_phone_to_e164, typed_phone_to_e164


@pytest.mark.parametrize(
    ("contact", "e164"),
    [
        ("84822123456", "+84822123456"),  # Vietnam, not the Tver landline +74822123456
        ("8613812345678", "+8613812345678"),  # China
        ("819012345678", "+819012345678"),  # Japan
        ("77012345678", "+77012345678"),  # Kazakhstan (+7 7xx)
        ("79161234567", "+79161234567"),
        ("+79161234567", "+79161234567"),  # some clients send the '+'
        ("+84 822 123 456", "+84822123456"),  # spaces
        ("7-916-123-45-67", "+79161234567"),  # dashes
        ("７９１６１２３４５６７", "+79161234567"),  # full-width digits
    ],
)
def test_a_contact_is_international(contact: str, e164: str) -> None:
    assert contact_phone_to_e164(contact) == e164


@pytest.mark.parametrize(
    "contact",
    ["", "   ", "89161234567", "8 (916) 123-45-67", "12345", "7000000000000000000", "79161234567a"],
)
def test_a_contact_that_is_no_number_is_refused(contact: str) -> None:
    """`89161234567` is a Russian number only as people write it: as a contact it is +89…,
    which no country has."""
    with pytest.raises(InvalidPhone):
        contact_phone_to_e164(contact)


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("8 (916) 123-45-67", "+79161234567"),
        ("+7 916 123-45-67", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("89161234567", "+79161234567"),
        ("79161234567", "+79161234567"),
        ("8.916.123.45.67", "+79161234567"),  # dots
        ("8\u00a0916\u00a0123\u201145\u201167", "+79161234567"),  # NBSP, non-breaking hyphens
        ("８ (９１６) １２３-４５-６７", "+79161234567"),  # full-width digits
        ("٨ ٩١٦ ١٢٣ ٤٥ ٦٧", "+79161234567"),  # Arabic-Indic digits
        ("84822123456", "+74822123456"),  # typed without '+': Russia's 8 prefix (Tver)
        ("+84 822 123 456", "+84822123456"),  # a foreign number written with '+'
        ("+7 701 234 56 78", "+77012345678"),  # Kazakhstan
        ("+86 138 1234 5678", "+8613812345678"),
    ],
)
def test_a_typed_number(typed: str, e164: str) -> None:
    assert typed_phone_to_e164(typed) == e164


@pytest.mark.parametrize(
    "typed", ["", "abc", "8 916 FLOWERS", "123", "8 (916) 123-45-6", "+7 916 123 45 67 ext 1", "+"]
)
def test_a_typed_non_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidPhone):
        typed_phone_to_e164(typed)


# ------------------------------------------------------------------ the import's shortcut
def _library(text: str) -> str:
    """What `phonenumbers` itself says of a typed number, with no cache or shortcut."""
    from bot.services import phones

    try:
        return phones._e164(phones._written(text), "RU", text)
    except InvalidPhone as exc:
        return f"invalid: {exc}"


def _ours(text: str) -> str:
    try:
        return typed_phone_to_e164(text)
    except InvalidPhone as exc:
        return f"invalid: {exc}"


def test_the_template_shortcut_gives_the_librarys_answer_for_every_area_code() -> None:
    """Every 3-digit code after 8/7/+7/nothing, in several spellings, valid or not."""
    import random

    rng = random.Random(13)
    forms = [
        "8 ({a}) {b}-{c}-{d}", "8{a}{b}{c}{d}", "7{a}{b}{c}{d}", "{a}{b}{c}{d}",
        "+7 {a} {b} {c} {d}", "8-{a}-{b}-{c}-{d}", "8.{a}.{b}.{c}{d}", "810 7 {a} {b}{c}{d}",
        "810 44 {a} {b}{c}{d}", "8{a}{b}{c}{d}{c}", " 8 ({a}) {b}{c}-{d} ", "{c}{d}", "8{a}{c}",
    ]  # fmt: skip
    seen = 0
    for code in range(1000):
        for form in forms:
            digits = (
                f"{rng.randrange(1000):03d}",
                f"{rng.randrange(100):02d}",
                f"{rng.randrange(100):02d}",
            )
            text = form.format(a=f"{code:03d}", b=digits[0], c=digits[1], d=digits[2])
            assert _ours(text) == _library(text), text
            seen += 1
    assert seen == 13_000


def test_numbers_that_share_a_template_keep_their_own_last_digits() -> None:
    assert [typed_phone_to_e164(f"8 (916) 123-45-{n:02d}") for n in (0, 1, 99)] == [
        "+79161234500", "+79161234501", "+79161234599",
    ]  # fmt: skip
    with pytest.raises(InvalidPhone):  # +7 000 …: no such number, template or not
        typed_phone_to_e164("8 (000) 123-45-67")


def test_the_shortcut_is_taken_only_where_the_metadata_allows_it() -> None:
    from bot.services import phones

    assert phones._tail_free(7)  # Russia and Kazakhstan: every pattern ends in \d{n}, n ≥ 4
    # the United Kingdom's patterns do look at the last digits: the library reads each number
    assert not phones._tail_free(44)
