"""The billing files: their columns, and the parsing of one row into a typed record.

Pure functions, no database: a row either becomes a record or a list of field errors.
Checks that need the database (does this account exist?) are made by the importer.

Every value that is a number, a code, an amount, a reading or a date is normalised
(bot/services/textnorm.py) before it is checked, so CSV and JSON, and what residents type
in the bot, meet in one form: ASCII digits, no odd spaces, account numbers without spaces
and dashes, access codes as `normalize_access_code` gives them.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.services.inn import InvalidInn, InvalidKpp, is_legal_entity, normalize_inn, normalize_kpp
from bot.services.phones import InvalidPhone, typed_phone_to_e164
from bot.services.textnorm import (
    CENT,
    NotANumber,
    ascii_digits,
    compact_number,
    compile_account_pattern,
    normalize_access_code,
    parse_decimal,
)


class Kind(enum.StrEnum):
    SUPPLIERS = "suppliers"
    ACCOUNTS = "accounts"
    CHARGES = "charges"
    PAYMENTS = "payments"
    METERS = "meters"


@dataclass(frozen=True, slots=True)
class FieldError:
    column: str
    reason: str


class BadValue(ValueError):
    """A value that does not fit its column; the message is the reason shown to the user."""


# ---------------------------------------------------------------------------- columns
#: required: the column must be in the header and the value non-empty.
#: optional: the column may be left out of the header or the value left empty.
COLUMNS: dict[Kind, tuple[tuple[str, bool], ...]] = {
    Kind.SUPPLIERS: (
        ("code", True),
        ("name", True),
        ("account_pattern", True),
        ("account_hint", False),
        ("window_start_day", False),
        ("window_end_day", False),
        ("inn", False),
        ("kpp", False),
        ("bank_name", False),
        ("bic", False),
        ("corr_account", False),
        ("settlement_account", False),
    ),
    Kind.ACCOUNTS: (
        ("supplier_code", True),
        ("account_number", True),
        ("address", False),
        ("holder_name", False),
        ("phones", False),
        ("access_code", False),
        # organisations (issue 14): ИНН (10/12 digits, control digits checked), a branch's
        # КПП, the contract; all three empty for a flat
        ("holder_inn", False),
        ("holder_kpp", False),
        ("contract_number", False),
    ),
    Kind.CHARGES: (
        ("supplier_code", True),
        ("account_number", True),
        ("period", True),
        ("service", True),
        ("charged", True),
        ("paid", False),
    ),
    Kind.PAYMENTS: (
        ("supplier_code", True),
        ("account_number", True),
        ("paid_at", True),
        ("amount", True),
        ("source", False),
    ),
    Kind.METERS: (
        ("supplier_code", True),
        ("account_number", True),
        ("serial", True),
        ("service", True),
        ("zones", False),
        ("digits", False),
        ("decimals", False),
        ("verification_due", False),
        ("last_t1", False),
        ("last_t2", False),
        ("last_t3", False),
        ("last_date", False),
    ),
}


def column_names(kind: Kind) -> list[str]:
    return [name for name, _ in COLUMNS[kind]]


def check_header(kind: Kind, header: list[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    known = set(column_names(kind))
    seen: set[str] = set()
    for name in header:
        if name in seen:
            errors.append(FieldError("header", f"column {name!r} appears twice"))
        seen.add(name)
        if name not in known:
            hint = (
                "; columns are separated by ',' or ';'" if any(sep in name for sep in "\t|") else ""
            )
            errors.append(
                FieldError(
                    "header",
                    f"unknown column {name!r} (expected: {', '.join(column_names(kind))}){hint}",
                )
            )
    for name, required in COLUMNS[kind]:
        if required and name not in seen:
            errors.append(FieldError("header", f"missing required column {name!r}"))
    return errors


# ---------------------------------------------------------------------------- values
MONEY_MAX = Decimal(10) ** 12  # Numeric(14, 2)
PERIOD_RE = re.compile(r"(\d{4})-(\d{2})", re.ASCII)  # \d alone takes any script's digits
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
INTEGER_RE = re.compile(r"[+-]?\d{1,9}", re.ASCII)
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
MAX_DIGITS = 10  # integer digits of a meter (a reading fits Numeric(18, 6) exactly on SQLite)
MAX_DECIMALS = 4


def text(value: str, *, max_len: int) -> str:
    value = value.strip()
    if len(value) > max_len:
        raise BadValue(f"longer than {max_len} characters")
    if CONTROL_RE.search(value):
        raise BadValue("contains control characters")
    return value


def integer(value: str, *, low: int, high: int) -> int:
    value = ascii_digits(value).strip()
    if not INTEGER_RE.fullmatch(value):
        raise BadValue(f"not a whole number: {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise BadValue(f"must be from {low} to {high}, got {number}")
    return number


def decimal(value: str, *, places: int, low: Decimal | None = None, high: Decimal) -> Decimal:
    """`1234.56`, `1234,56`, `1 234,56` → Decimal (textnorm.parse_decimal: NBSP and U+202F
    between groups too); at most `places` decimals; low ≤ x < high."""
    try:
        number = parse_decimal(value, places=places)
    except NotANumber as exc:
        raise BadValue(str(exc)) from None
    if low is not None and number < low:
        raise BadValue("must not be negative" if low == 0 else f"must be at least {low}")
    if abs(number) >= high:
        raise BadValue(f"too large (must be below {high:,})".replace(",", " "))
    return number


def period(value: str) -> str:
    value = ascii_digits(value).strip()
    match = PERIOD_RE.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise BadValue(f"not a period YYYY-MM: {value!r}")
    return value


def iso_date(value: str) -> dt.date:
    value = ascii_digits(value).strip()
    if not DATE_RE.fullmatch(value):
        raise BadValue(f"not a date YYYY-MM-DD: {value!r}")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadValue(f"no such date: {value!r}") from None
    if not 2000 <= day.year <= 2100:
        raise BadValue(f"date out of range: {value!r}")
    return day


def digits_only(value: str, *, lengths: tuple[int, ...], what: str) -> str:
    value = compact_number(value)  # `40702 810 9 …` as bank documents group it
    if not value.isascii() or not value.isdigit() or len(value) not in lengths:
        want = " or ".join(str(n) for n in lengths)
        raise BadValue(f"{what} must be {want} digits")
    return value


_PHONE_SEPARATORS = re.compile(r"[;,]")


def phones(value: str) -> tuple[str, ...]:
    """Phones separated by ';' (or ',': a number never holds one), each as people write
    it (`phones.typed_phone_to_e164`: Russia's 8 prefix, foreign numbers with '+')."""
    out: list[str] = []
    for part in _PHONE_SEPARATORS.split(value):
        if not part.strip():
            continue
        try:
            phone = typed_phone_to_e164(part)
        except InvalidPhone:
            raise BadValue(f"not a phone number: {part.strip()!r}") from None
        if phone not in out:
            out.append(phone)
    if len(out) > 10:
        raise BadValue("more than 10 phones")
    return tuple(sorted(out))


def access_code(value: str) -> str:
    """The code as it will be hashed: `normalize_access_code`, the function the bot applies
    to what a resident types (Cyrillic look-alikes, case, digits, spaces and dashes)."""
    value = normalize_access_code(value)
    if not 4 <= len(value) <= 64 or CONTROL_RE.search(value):
        raise BadValue("an access code is 4 to 64 characters without spaces")
    return value


#: a quantifier right after a group: `(\d{2})+`, `(a|aa)*` — the shape of nested repetition,
#: which Python's backtracking `re` can take minutes over, inside the bot's event loop
_QUANTIFIED_GROUP = re.compile(r"(?<!\\)\)\s*[*+?{]")


def regex(value: str) -> str:
    value = value.strip()
    if len(value) > 255:
        raise BadValue("longer than 255 characters")
    try:
        compile_account_pattern(value)  # as the importer and the bot match: \\d is [0-9]
    except re.error as exc:
        raise BadValue(f"not a valid regular expression: {exc}") from None
    if _QUANTIFIED_GROUP.search(value) or re.search(r"\\[1-9]", value):
        raise BadValue(
            "a repeated group or a back-reference is not allowed (checking a number could "
            "take minutes); write a plain pattern such as \\d{10} or (?:58|59)\\d{8}"
        )
    return value


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# ---------------------------------------------------------------------------- records
@dataclass(slots=True)
class SupplierRecord:
    code: str
    name: str
    account_pattern: str
    account_hint: str
    window_start_day: int
    window_end_day: int
    inn: str
    kpp: str
    bank_name: str
    bic: str
    corr_account: str
    settlement_account: str

    def key(self) -> tuple[str, ...]:
        return (self.code,)

    def values(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "account_pattern": self.account_pattern,
            "account_hint": self.account_hint,
            "window_start_day": self.window_start_day,
            "window_end_day": self.window_end_day,
            "inn": self.inn,
            "kpp": self.kpp,
            "bank_name": self.bank_name,
            "bic": self.bic,
            "corr_account": self.corr_account,
            "settlement_account": self.settlement_account,
        }


@dataclass(slots=True)
class AccountRecord:
    supplier_code: str
    number: str
    address: str
    holder_name: str
    phones: tuple[str, ...]
    access_code: str | None
    holder_inn: str | None = None
    holder_kpp: str | None = None
    contract_number: str | None = None

    def key(self) -> tuple[str, ...]:
        return (self.supplier_code, self.number)

    def organisation(self) -> dict[str, str | None]:
        """The organisation columns as stored on the account (None for a flat)."""
        return {
            "holder_inn": self.holder_inn,
            "holder_kpp": self.holder_kpp,
            "contract_number": self.contract_number,
        }


@dataclass(slots=True)
class ChargeRecord:
    supplier_code: str
    number: str
    period: str
    service: str
    charged: Decimal
    paid: Decimal

    def key(self) -> tuple[str, ...]:
        return (self.supplier_code, self.number, self.period, self.service)


@dataclass(slots=True)
class PaymentRecord:
    supplier_code: str
    number: str
    paid_at: dt.date
    amount: Decimal
    source: str

    def key(self) -> tuple[str, ...]:
        return (self.supplier_code, self.number, self.paid_at.isoformat(), str(self.amount))


@dataclass(slots=True)
class MeterRecord:
    supplier_code: str
    number: str
    serial: str
    service: str
    zones: int
    digits: int
    decimals: int
    verification_due: dt.date | None
    last: tuple[Decimal, ...] = field(default=())  # zone 1..zones, or () when no reading
    last_date: dt.date | None = None

    def key(self) -> tuple[str, ...]:
        return (self.supplier_code, self.number, self.serial)


Record = SupplierRecord | AccountRecord | ChargeRecord | PaymentRecord | MeterRecord


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What parsing needs to know: the suppliers (code → compiled pattern) and today."""

    patterns: Mapping[str, re.Pattern[str]]
    today: dt.date


class _Row:
    """Reads the values of one row, collecting an error per bad field."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.errors: list[FieldError] = []

    def get(
        self,
        column: str,
        parse: Callable[[str], Any] | None = None,
        *,
        required: bool = False,
        default: Any = None,
    ) -> Any:
        raw = self.values.get(column)
        if not raw or raw.isspace():  # = not raw.strip(), without a copy of every value
            if required:
                self.errors.append(FieldError(column, "required, but empty"))
            return default
        if parse is None:
            return raw.strip()
        try:
            return parse(raw)
        except BadValue as exc:
            self.errors.append(FieldError(column, str(exc)))
            return default

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(FieldError(column, reason))


def supplier_code(value: str) -> str:
    return text(ascii_digits(value), max_len=32)


def account_number(value: str) -> str:
    """Stored as the bot looks it up: `compact_number` (ASCII digits, no spaces or dashes)."""
    if value.isascii() and value.isalnum():  # the usual number: compact_number leaves it
        return text(value, max_len=32)
    return text(compact_number(value), max_len=32)


def _supplier_and_number(row: _Row, ctx: ParseContext) -> tuple[str, str]:
    code = row.get("supplier_code", supplier_code, required=True) or ""
    number = row.get("account_number", account_number, required=True) or ""
    if code:
        pattern = ctx.patterns.get(code)
        if pattern is None:
            row.fail("supplier_code", f"unknown supplier {code!r} (import the suppliers first)")
        elif number and not pattern.fullmatch(number):
            row.fail(
                "account_number",
                f"{number!r} does not match the pattern of supplier {code!r} ({pattern.pattern})",
            )
    return code, number


def _parse_supplier(row: _Row, ctx: ParseContext) -> SupplierRecord:
    code = row.get("code", lambda v: ascii_digits(v).strip(), required=True) or ""
    if code and not CODE_RE.fullmatch(code):
        row.fail("code", "1 to 32 latin letters, digits, '-' or '_'")
    start = row.get("window_start_day", lambda v: integer(v, low=1, high=31), default=15)
    end = row.get("window_end_day", lambda v: integer(v, low=1, high=31), default=25)
    return SupplierRecord(
        code=code,
        name=row.get("name", lambda v: text(v, max_len=255), required=True) or "",
        account_pattern=row.get("account_pattern", regex, required=True) or "",
        account_hint=row.get("account_hint", lambda v: text(v, max_len=255), default=""),
        window_start_day=start,
        window_end_day=end,
        inn=row.get("inn", lambda v: digits_only(v, lengths=(10, 12), what="INN"), default=""),
        kpp=row.get("kpp", lambda v: digits_only(v, lengths=(9,), what="KPP"), default=""),
        bank_name=row.get("bank_name", lambda v: text(v, max_len=255), default=""),
        bic=row.get("bic", lambda v: digits_only(v, lengths=(9,), what="BIC"), default=""),
        corr_account=row.get(
            "corr_account",
            lambda v: digits_only(v, lengths=(20,), what="a correspondent account"),
            default="",
        ),
        settlement_account=row.get(
            "settlement_account",
            lambda v: digits_only(v, lengths=(20,), what="a settlement account"),
            default="",
        ),
    )


def holder_inn(value: str) -> str:
    """An organisation's (10 digits) or an ИП's (12 digits) ИНН, control digits checked."""
    try:
        return normalize_inn(value)
    except InvalidInn as exc:
        raise BadValue(str(exc)) from None


def holder_kpp(value: str) -> str:
    try:
        return normalize_kpp(value)
    except InvalidKpp as exc:
        raise BadValue(str(exc)) from None


def contract_number(value: str) -> str:
    """As printed on the contract (ASCII digits); the bot compares `compact_number` forms,
    so «Д-15/2024» is found whether typed with the dash or without."""
    return text(ascii_digits(value), max_len=64)


def _organisation(row: _Row) -> tuple[str | None, str | None, str | None]:
    """holder_inn, holder_kpp, contract_number of an account row: a КПП or a contract
    without an ИНН, or a КПП of an ИП (12 digits), is an error."""
    inn = row.get("holder_inn", holder_inn)
    kpp = row.get("holder_kpp", holder_kpp)
    contract = row.get("contract_number", contract_number)
    has_inn = bool((row.values.get("holder_inn") or "").strip())
    if not has_inn and (kpp or contract):
        row.fail("holder_inn", "required when holder_kpp or contract_number is given")
    if inn and kpp and not is_legal_entity(inn):
        row.fail("holder_kpp", "an ИП (12-digit INN) has no KPP")
    return inn, kpp, contract


def _parse_account(row: _Row, ctx: ParseContext) -> AccountRecord:
    code, number = _supplier_and_number(row, ctx)
    inn, kpp, contract = _organisation(row)
    return AccountRecord(
        supplier_code=code,
        number=number,
        address=row.get("address", lambda v: text(v, max_len=512), default=""),
        holder_name=row.get("holder_name", lambda v: text(v, max_len=255), default=""),
        phones=row.get("phones", phones, default=()),
        access_code=row.get("access_code", access_code),
        holder_inn=inn,
        holder_kpp=kpp,
        contract_number=contract,
    )


def _money(low: Decimal | None) -> Callable[[str], Decimal]:
    return lambda v: decimal(v, places=2, low=low, high=MONEY_MAX).quantize(CENT)


def _parse_charge(row: _Row, ctx: ParseContext) -> ChargeRecord:
    code, number = _supplier_and_number(row, ctx)
    return ChargeRecord(
        supplier_code=code,
        number=number,
        period=row.get("period", period, required=True) or "",
        service=row.get("service", lambda v: text(v, max_len=128), required=True) or "",
        # a recalculation (перерасчёт) may be negative; what was paid may not
        charged=row.get("charged", _money(None), required=True, default=Decimal(0)),
        paid=row.get("paid", _money(Decimal(0)), default=Decimal(0)),
    )


def _parse_payment(row: _Row, ctx: ParseContext) -> PaymentRecord:
    code, number = _supplier_and_number(row, ctx)
    paid_at = row.get("paid_at", iso_date, required=True)
    if paid_at is not None and paid_at > ctx.today + dt.timedelta(days=1):
        row.fail("paid_at", f"in the future: {paid_at.isoformat()}")
    amount = row.get("amount", _money(Decimal("0.01")), required=True, default=Decimal(0))
    return PaymentRecord(
        supplier_code=code,
        number=number,
        paid_at=paid_at or dt.date(2000, 1, 1),
        amount=amount,
        source=row.get("source", lambda v: text(v, max_len=64), default=""),
    )


def _parse_meter(row: _Row, ctx: ParseContext) -> MeterRecord:
    code, number = _supplier_and_number(row, ctx)
    zones = row.get("zones", lambda v: integer(v, low=1, high=3), default=1)
    digits = row.get("digits", lambda v: integer(v, low=1, high=MAX_DIGITS), default=5)
    decimals = row.get("decimals", lambda v: integer(v, low=0, high=MAX_DECIMALS), default=3)
    due = row.get("verification_due", iso_date)
    last_date = row.get("last_date", iso_date)
    if last_date is not None and last_date > ctx.today + dt.timedelta(days=1):
        row.fail("last_date", f"in the future: {last_date.isoformat()}")
    high = Decimal(10) ** digits
    last: list[Decimal] = []
    for zone in (1, 2, 3):
        column = f"last_t{zone}"
        value = row.get(column, lambda v: decimal(v, places=decimals, low=Decimal(0), high=high))
        given = bool((row.values.get(column) or "").strip())
        if zone > zones:
            if given:
                row.fail(column, f"the meter has {zones} zone(s), so no value for zone {zone}")
            continue
        if last_date is not None and not given:
            row.fail(column, "required when last_date is given")
        if value is not None:
            last.append(value)
    if last_date is None and any((row.values.get(f"last_t{z}") or "").strip() for z in (1, 2, 3)):
        row.fail("last_date", "required when a last reading is given")
    return MeterRecord(
        supplier_code=code,
        number=number,
        serial=row.get("serial", lambda v: text(ascii_digits(v), max_len=64), required=True) or "",
        service=row.get("service", lambda v: text(v, max_len=128), required=True) or "",
        zones=zones,
        digits=digits,
        decimals=decimals,
        verification_due=due,
        last=tuple(last) if last_date is not None and len(last) == zones else (),
        last_date=last_date,
    )


_PARSERS: dict[Kind, Callable[[_Row, ParseContext], Record]] = {
    Kind.SUPPLIERS: _parse_supplier,
    Kind.ACCOUNTS: _parse_account,
    Kind.CHARGES: _parse_charge,
    Kind.PAYMENTS: _parse_payment,
    Kind.METERS: _parse_meter,
}


def parse_row(
    kind: Kind, values: Mapping[str, str], ctx: ParseContext
) -> tuple[Record | None, list[FieldError]]:
    """One row (column → raw text) → its record, or None and the reasons it is wrong."""
    row = _Row(values)
    record = _PARSERS[kind](row, ctx)
    if row.errors:
        return None, row.errors
    return record, []


def to_text(value: Any) -> str:
    """A JSON value → the text a CSV cell would hold (numbers keep their digits exactly)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise BadValue("true/false is not a valid value here")
    if isinstance(value, str | int | Decimal):
        text = str(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ";".join(value)
    else:
        raise BadValue("expected a string or a number")
    if not text.isascii():
        try:
            text.encode("utf-8")  # JSON may carry a lone surrogate ("\\ud800")
        except UnicodeEncodeError:
            raise BadValue("not valid Unicode text") from None
    return text
