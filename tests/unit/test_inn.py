"""ИНН/КПП rules (bot/services/inn.py) with real control digits (ФНС algorithm)."""

from __future__ import annotations

import pytest

from bot.services.inn import (
    InnProblem,
    InvalidInn,
    InvalidKpp,
    inn_checksum_ok,
    inn_problem,
    is_legal_entity,
    normalize_inn,
    normalize_kpp,
)

#: ИНН of real organisations (public registry data) and the ФНС's example of a person's ИНН
REAL_LEGAL = ["7707083893", "7736207543", "7702070139", "7728168971", "7710140679"]
REAL_PERSON = ["500100732259"]


@pytest.mark.parametrize("inn", REAL_LEGAL + REAL_PERSON)
def test_real_inns_pass(inn: str) -> None:
    assert inn_checksum_ok(inn)
    assert inn_problem(inn) is None
    assert normalize_inn(inn) == inn
    assert is_legal_entity(inn) is (len(inn) == 10)


@pytest.mark.parametrize(
    ("inn", "problem"),
    [
        ("7707083894", InnProblem.CHECKSUM),  # Сбербанк's with the last digit off by one
        ("7707083839", InnProblem.CHECKSUM),  # two digits swapped
        ("500100732258", InnProblem.CHECKSUM),  # the 12th digit wrong
        ("500100732269", InnProblem.CHECKSUM),  # the 11th digit wrong
        ("0000000001", InnProblem.CHECKSUM),
        ("77070838930", InnProblem.LENGTH),  # 11 digits
        ("770708389", InnProblem.LENGTH),  # 9
        ("1027700132195", InnProblem.LENGTH),  # an ОГРН, not an ИНН
        ("77O7083893", InnProblem.NOT_DIGITS),  # a letter O
        ("ИНН7707083893", InnProblem.NOT_DIGITS),
        ("", InnProblem.EMPTY),
        ("   ", InnProblem.EMPTY),
    ],
)
def test_wrong_inns_say_why(inn: str, problem: InnProblem) -> None:
    assert inn_problem(inn) is problem
    with pytest.raises(InvalidInn) as info:
        normalize_inn(inn)
    assert info.value.problem is problem


def test_inn_as_people_type_it() -> None:
    assert normalize_inn("７７０７ ０８３８９３") == "7707083893"  # full-width digits, a space
    assert normalize_inn("7707-083-893") == "7707083893"
    assert normalize_inn("٧٧٠٧٠٨٣٨٩٣") == "7707083893"  # Arabic-Indic digits


@pytest.mark.parametrize("kpp", ["773601001", "7736AB001", " 7736 01 001 ", "７７３６０１００１"])
def test_kpp_accepted(kpp: str) -> None:
    assert len(normalize_kpp(kpp)) == 9


def test_kpp_letters_are_capitalised() -> None:
    assert normalize_kpp("7736ab001") == "7736AB001"


@pytest.mark.parametrize("kpp", ["77360100", "7736010011", "77A601001", "7736010O1", "", "КПП"])
def test_kpp_refused(kpp: str) -> None:
    with pytest.raises(InvalidKpp):
        normalize_kpp(kpp)
