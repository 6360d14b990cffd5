"""The payment QR code of a receipt, per ГОСТ Р 56042-2014 («Стандарты финансовых
операций. Двумерные символы штрихового кода для осуществления платежей физических лиц»).

    ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|PayeeINN=…|KPP=…|Sum=…|
    Purpose=…|PersAcc=…|PaymPeriod=MMYYYY|payerAddress=…

`ST0001` is the format and its version, `2` says UTF-8; `|` separates the fields, so no
value may hold one (it is replaced by `/`). Sum is in kopecks, an integer. The five
required fields come first, in the standard's order. Every Russian bank app reads this
("Оплата по QR-коду" / "Оплата ЖКУ").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import segno

from bot.services.balance.money import to_kopecks
from bot.services.balance.statement import Payee

HEADER = "ST00012"  # ST, version 0001, encoding 2 = UTF-8
SEPARATOR = "|"
#: error correction of the symbol: M restores 15 % (a crease, a smudge on paper)
ERROR = "M"
#: the largest QR version the receipt may need: bank apps read up to it from a phone
#: screen or a printout at ~5 cm; a payload that needs more is shortened (see `fit`)
MAX_VERSION = 19
#: the standard's lengths (characters) of the fields this project fills
LIMITS = {
    "Name": 160,
    "PersonalAcc": 20,
    "BankName": 45,
    "BIC": 9,
    "CorrespAcc": 20,
    "PayeeINN": 12,
    "KPP": 9,
    "Sum": 18,
    "Purpose": 210,
    "PersAcc": 32,
    "PaymPeriod": 6,
    "payerAddress": 210,
    "PayerINN": 12,
}
#: bytes a symbol of each version 1…40 holds at level M in byte mode (ISO/IEC 18004
#: table 7): the payload is fitted by arithmetic, and encoded once
BYTE_CAPACITY_M = (
    14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560,
    624, 666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628,
    1722, 1809, 1911, 1989, 2099, 2213, 2331,
)  # fmt: skip
#: shortened first, in this order, when the payload does not fit MAX_VERSION
SHORTENED = ("payerAddress", "Purpose", "Name", "BankName")

_SPACES = re.compile(r"\s+")


def clean(value: str) -> str:
    """A value safe inside the payload: no separator, no line breaks, single spaces."""
    return _SPACES.sub(" ", value.replace(SEPARATOR, "/")).strip()


def payment_period(period: str) -> str:
    """'2026-11' → '112026' (PaymPeriod is MMYYYY)."""
    return f"{period[5:7]}{period[:4]}"


@dataclass(frozen=True)
class PaymentOrder:
    """What a bank app fills in from the code."""

    payee: Payee
    amount: Decimal
    purpose: str
    account_number: str
    period: str  # YYYY-MM
    payer_address: str = ""
    payer_inn: str = ""  # an organisation's or an ИП's ИНН (issue 14); "" for a flat

    def fields(self) -> list[tuple[str, str]]:
        p = self.payee
        pairs = [
            ("Name", p.name),
            ("PersonalAcc", p.settlement_account),
            ("BankName", p.bank_name),
            ("BIC", p.bic),
            ("CorrespAcc", p.corr_account),
            ("PayeeINN", p.inn),
            ("KPP", p.kpp),
            ("Sum", str(to_kopecks(self.amount))),
            ("Purpose", self.purpose),
            ("PersAcc", self.account_number),
            ("PaymPeriod", payment_period(self.period)),
            ("payerAddress", self.payer_address),
            ("PayerINN", self.payer_inn),
        ]
        out = []
        for name, value in pairs:
            value = clean(value)[: LIMITS[name]].rstrip()
            if value:
                out.append((name, value))
        return out


def join(fields: list[tuple[str, str]]) -> str:
    return SEPARATOR.join([HEADER, *(f"{name}={value}" for name, value in fields)])


def make_symbol(payload: str) -> segno.QRCode:
    """The QR symbol of a payload: UTF-8 bytes (no ECI, as bank apps expect), level M."""
    return segno.make_qr(payload, error=ERROR, encoding="utf-8", eci=False, boost_error=False)


def fit(fields: list[tuple[str, str]], max_version: int = MAX_VERSION) -> str:
    """The payload of `fields`, with the long free-text fields cut until its symbol is at
    most `max_version` (the amounts, accounts and codes are never touched)."""
    fields = list(fields)
    capacity = BYTE_CAPACITY_M[max_version - 1]
    while True:
        payload = join(fields)
        if len(payload.encode("utf-8")) <= capacity:
            return payload
        for name in SHORTENED:
            index = next((i for i, (n, v) in enumerate(fields) if n == name and len(v) > 20), None)
            if index is not None:
                value = fields[index][1]
                fields[index] = (name, value[: max(20, len(value) - 20)].rstrip())
                break
        else:
            raise ValueError("the payment details do not fit a QR code")


def payload(order: PaymentOrder) -> str:
    return fit(order.fields())
