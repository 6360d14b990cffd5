"""ИНН and КПП of organisations: one set of rules for billing files, the API and the bot.

Pure functions, no I/O. What a person types or a billing file holds goes through
`textnorm.compact_number` first (digits of any script → ASCII, spaces and dashes dropped),
so ``７７０７ ０８３８９３`` and ``7707-083-893`` read as ``7707083893``.

Sources of the rules:

- ИНН (идентификационный номер налогоплательщика): 10 digits for a legal entity, 12 for a
  person (an ИП). The control digits follow the algorithm of the ФНС (Приказ МНС России от
  03.03.2004 № БГ-3-09/178, «Порядок и условия присвоения, применения, а также изменения
  идентификационного номера налогоплательщика»): each control digit is the weighted sum of
  the digits before it, modulo 11, then modulo 10. Weights:

  * 10 digits, the 10th: 2 4 10 3 5 9 4 6 8;
  * 12 digits, the 11th: 7 2 4 10 3 5 9 4 6 8; the 12th: 3 7 2 4 10 3 5 9 4 6 8.

- КПП (код причины постановки на учёт): 9 characters ``NNNNPPXXX`` (Приказ ФНС России от
  29.06.2012 № ММВ-7-6/435@): NNNN the code of the tax office (digits), PP the reason of
  registration (two digits, or capital latin letters A–Z since 2013), XXX a sequence number
  (digits). It has no control digit. An organisation's branches (обособленные
  подразделения) share its ИНН and differ by КПП. An ИП has no КПП.
"""

from __future__ import annotations

import enum
import re

from bot.services.textnorm import compact_number

LEGAL_ENTITY_LENGTH = 10
PERSON_LENGTH = 12
KPP_LENGTH = 9

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}", re.ASCII)


class InnProblem(enum.StrEnum):
    """Why a string is not an ИНН (each gets its own answer to the person who typed it)."""

    EMPTY = "empty"
    NOT_DIGITS = "not_digits"  # letters or other signs among the digits
    LENGTH = "length"  # digits, but neither 10 nor 12 of them
    CHECKSUM = "checksum"  # 10 or 12 digits whose control digit(s) do not match


class KppProblem(enum.StrEnum):
    EMPTY = "empty"
    FORMAT = "format"  # not NNNNPPXXX


class InvalidInn(ValueError):
    def __init__(self, problem: InnProblem, value: str) -> None:
        super().__init__(inn_problem_text(problem))
        self.problem = problem
        self.value = value


class InvalidKpp(ValueError):
    def __init__(self, problem: KppProblem, value: str) -> None:
        super().__init__(
            "KPP must be 9 characters: 4 digits, 2 digits or capital latin letters, 3 digits"
        )
        self.problem = problem
        self.value = value


def _control(digits: str, weights: tuple[int, ...]) -> int:
    """The ФНС control digit: Σ digit×weight mod 11 mod 10."""
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_checksum_ok(inn: str) -> bool:
    """Whether 10 or 12 ASCII digits carry the right control digit(s) (ФНС algorithm)."""
    if not (inn.isascii() and inn.isdigit()):
        return False
    if len(inn) == LEGAL_ENTITY_LENGTH:
        return _control(inn[:9], _W10) == int(inn[9])
    if len(inn) == PERSON_LENGTH:
        return _control(inn[:10], _W11) == int(inn[10]) and _control(inn[:11], _W12) == int(inn[11])
    return False


def inn_problem(raw: str | None) -> InnProblem | None:
    """Why `raw` is not a valid ИНН, or None when it is one (after `compact_number`)."""
    value = compact_number(raw or "")
    if not value:
        return InnProblem.EMPTY
    if not (value.isascii() and value.isdigit()):
        return InnProblem.NOT_DIGITS
    if len(value) not in (LEGAL_ENTITY_LENGTH, PERSON_LENGTH):
        return InnProblem.LENGTH
    if not inn_checksum_ok(value):
        return InnProblem.CHECKSUM
    return None


def normalize_inn(raw: str | None) -> str:
    """The ИНН as stored (10 or 12 ASCII digits); raises InvalidInn (with the problem)."""
    problem = inn_problem(raw)
    if problem is not None:
        raise InvalidInn(problem, raw or "")
    return compact_number(raw or "")


def is_legal_entity(inn: str) -> bool:
    """10 digits: an organisation (it may have КПП and branches); 12: an ИП."""
    return len(inn) == LEGAL_ENTITY_LENGTH


def normalize_kpp(raw: str | None) -> str:
    """The КПП as stored (9 characters, latin capitals); raises InvalidKpp."""
    value = compact_number(raw or "").upper()
    if not value:
        raise InvalidKpp(KppProblem.EMPTY, raw or "")
    if not _KPP.fullmatch(value):
        raise InvalidKpp(KppProblem.FORMAT, raw or "")
    return value


def inn_problem_text(problem: InnProblem) -> str:
    """An English sentence for billing files and the API (the bot has its own texts)."""
    return {
        InnProblem.EMPTY: "INN is empty",
        InnProblem.NOT_DIGITS: "INN must be digits only",
        InnProblem.LENGTH: "INN must be 10 digits (an organisation) or 12 digits (an ИП)",
        InnProblem.CHECKSUM: "INN control digit does not match (FNS algorithm): a typo?",
    }[problem]
