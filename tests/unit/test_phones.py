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
