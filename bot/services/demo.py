"""Demo data: a housing-management company and a gas supplier with a year of history.

Everything is generated as billing-file rows and fed to the same importer as the real
files, so running it twice changes nothing. Values are derived from seeded random
generators keyed by account and month, so a later run (a month on) only adds the new month.

    summary = await seed_demo(db_or_uow, clock)
    summary.debtor.number, summary.access_code.access_code, ...
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from bot.services.billing import ImportSummary, Kind, RawRow, import_rows
from bot.services.billing.sources import Rows
from bot.services.clock import Clock
from bot.services.phones import typed_phone_to_e164
from storage.db import Database
from storage.uow import UnitOfWork

UK = "uk-zarechye"
GAS = "gorgaz"
MONTHS = 12
HISTORY_FROM = (2024, 1)  # meter values accumulate from here, so a period's value never moves
CENT = Decimal("0.01")

SUPPLIERS = [
    {
        "code": UK,
        "name": "ООО «УК Заречье»",
        "account_pattern": r"\d{8}",
        "account_hint": "8 цифр, например 10200137 — в левом верхнем углу квитанции",
        "window_start_day": "15",
        "window_end_day": "25",
        "inn": "6950123456",
        "kpp": "695001001",
        "bank_name": "Тверское отделение № 8607 ПАО Сбербанк",
        "bic": "042809679",
        "corr_account": "30101810700000000679",
        "settlement_account": "40702810763000001234",
    },
    {
        "code": GAS,
        "name": "ООО «Горгаз-Сервис»",
        "account_pattern": r"\d{10}",
        "account_hint": "10 цифр: код участка (2 цифры) и номер (8 цифр), например 5812345678",
        # a window over the month end (the 26th to the 14th of the next month): with the
        # UK's 15..25 some window is open on any day, so readings can be tried any day
        "window_start_day": "26",
        "window_end_day": "14",
        "inn": "6950654321",
        "kpp": "695001001",
        "bank_name": "ПАО «Банк ВТБ»",
        "bic": "044525187",
        "corr_account": "30101810700000000187",
        "settlement_account": "40702810500230004567",
    },
]

SURNAMES = [
    ("Иванов", "Иванова"), ("Смирнов", "Смирнова"), ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"), ("Васильев", "Васильева"), ("Петров", "Петрова"),
    ("Соколов", "Соколова"), ("Михайлов", "Михайлова"), ("Новиков", "Новикова"),
    ("Фёдоров", "Фёдорова"), ("Морозов", "Морозова"), ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"), ("Лебедев", "Лебедева"), ("Семёнов", "Семёнова"),
    ("Егоров", "Егорова"), ("Павлов", "Павлова"), ("Козлов", "Козлова"),
]  # fmt: skip
MALE = ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Михаил", "Игорь", "Николай"]
FEMALE = ["Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Марина"]
MALE_PATRONYMIC = ["Иванович", "Сергеевич", "Петрович", "Николаевич", "Викторович"]
FEMALE_PATRONYMIC = ["Ивановна", "Сергеевна", "Петровна", "Николаевна", "Викторовна"]
STREETS = [
    ("ул. Советская", 12), ("ул. Заречная", 5), ("пр-т Победы", 41),
    ("ул. Благоева", 8), ("наб. Афанасия Никитина", 22),
]  # fmt: skip
GAS_STREETS = [("ул. Садовая", 3), ("пер. Луговой", 7), ("ул. Лесная", 15)]
CITY = "г. Тверь"
MOBILE_CODES = ["903", "905", "906", "909", "915", "916", "917", "920", "925", "926", "960"]
PAY_SOURCES = ["Сбербанк Онлайн", "Госуслуги", "касса УК", "Почта России", "ВТБ Онлайн"]

# tariffs, ₽
T_COLD = Decimal("52.43")  # м³
T_HOT = Decimal("248.10")  # м³
T_SEWAGE = Decimal("41.87")  # м³ (cold + hot)
T_DAY = Decimal("7.45")  # кВт·ч
T_NIGHT = Decimal("3.21")  # кВт·ч
T_MAINTENANCE = Decimal("34.60")  # м² a month
T_HEAT = Decimal("2841.56")  # Гкал
HEAT_PER_M2 = Decimal("0.0163")  # Гкал/м² a month in the heating season
HEATING_MONTHS = {1, 2, 3, 4, 10, 11, 12}
T_GAS = Decimal("8.37")  # м³


@dataclass(frozen=True)
class DemoAccount:
    case: str  # what it demonstrates
    supplier_code: str
    number: str
    holder_name: str
    address: str
    phones: tuple[str, ...]  # E.164
    access_code: str | None = None
    holder_inn: str | None = None  # an organisation's account (issue 14)
    holder_kpp: str | None = None
    contract_number: str | None = None


@dataclass
class DemoSummary:
    periods: tuple[str, str]  # first and last month of history
    accounts: int
    typical: DemoAccount
    overpaid: DemoAccount
    debtor: DemoAccount
    expired_meter: DemoAccount
    no_meters: DemoAccount
    two_phones: DemoAccount
    access_code: DemoAccount
    no_phone: DemoAccount
    gas: DemoAccount  # a gas account; its phone is also on `typical` (two suppliers, one phone)
    no_charges: DemoAccount  # opened this month: no charges yet
    recalculation: DemoAccount  # this month holds only a negative charge (перерасчёт)
    imports: list[ImportSummary] = field(default_factory=list)
    #: an organisation with two branches (issue 14): the first account of its contract
    organisation: DemoAccount | None = None

    @property
    def notable(self) -> list[DemoAccount]:
        return [
            self.typical, self.gas, self.overpaid, self.debtor, self.expired_meter,
            self.no_meters, self.two_phones, self.access_code, self.no_phone,
        ]  # fmt: skip

    def text(self) -> str:
        changed = sum(s.inserted + s.updated for s in self.imports)
        lines = [
            f"demo data: 2 suppliers ({UK}, {GAS}), {self.accounts} accounts, "
            f"history {self.periods[0]} … {self.periods[1]}; "
            + (f"{changed} rows inserted or updated" if changed else "nothing changed"),
            "accounts to try:",
        ]
        for acc in [*self.notable, self.no_charges, self.recalculation]:
            phones = ", ".join(acc.phones) or "no phone on file"
            code = f", access code {acc.access_code}" if acc.access_code else ""
            lines.append(
                f"  {acc.case:<16} {acc.supplier_code:<12} {acc.number:<11} {phones}{code}"
            )
        if (org := self.organisation) is not None:
            lines.append(
                f"  organisation     {org.holder_name}: ИНН {org.holder_inn}, КПП "
                f"{ORG_BRANCHES[0]} or {ORG_BRANCHES[1]}, contract {org.contract_number} "
                "(«I represent an organisation»)"
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------- helpers
def _month_back(today: dt.date, back: int) -> tuple[int, int]:
    index = today.year * 12 + (today.month - 1) - back
    return index // 12, index % 12 + 1


def _period(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _phone(rng: random.Random) -> str:
    while True:
        code = rng.choice(MOBILE_CODES)
        digits = f"{rng.randrange(10**7):07d}"
        written = f"8 ({code}) {digits[:3]}-{digits[3:5]}-{digits[5:]}"
        try:
            typed_phone_to_e164(written)
        except ValueError:
            continue
        return written


@dataclass
class _Meter:
    serial: str
    service: str
    zones: int
    digits: int
    decimals: int
    due: dt.date
    usage: tuple[tuple[int, int], ...]  # per zone: monthly consumption range (whole units)


@dataclass
class _Acc:
    supplier: str
    number: str
    holder: str
    address: str
    phones: list[str]
    area: Decimal = Decimal(0)
    access_code: str | None = None
    meters: list[_Meter] = field(default_factory=list)
    case: str = ""
    unpaid_months: int = 0  # the debtor stops paying
    advance: Decimal = Decimal(0)  # the overpaid account pays ahead
    no_charges: bool = False  # a new account: billing has charged nothing yet
    recalculation: Decimal = Decimal(0)  # this month: only this refund (перерасчёт)
    inn: str = ""  # an organisation's (issue 14)
    kpp: str = ""
    contract: str = ""


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _person(rng: random.Random) -> str:
    male, female = rng.choice(SURNAMES)
    if rng.random() < 0.5:
        return f"{male} {rng.choice(MALE)} {rng.choice(MALE_PATRONYMIC)}"
    return f"{female} {rng.choice(FEMALE)} {rng.choice(FEMALE_PATRONYMIC)}"


def _build_accounts(today: dt.date) -> list[_Acc]:
    rng = random.Random(20_261)
    accounts: list[_Acc] = []
    for i in range(40):
        street, house = STREETS[i % len(STREETS)]
        flat = 3 + i * 2
        number = f"{10_200_000 + i * 137:08d}"
        acc = _Acc(
            supplier=UK,
            number=number,
            holder=_person(rng),
            address=f"{CITY}, {street}, д. {house}, кв. {flat}",
            phones=[_phone(rng)],
            area=Decimal(rng.randrange(320, 860)) / 10,
        )
        years = rng.randrange(2, 6)
        acc.meters = [
            _Meter(f"ХВ{rng.randrange(10**7):07d}", "Холодная вода", 1, 5, 3,
                   _years_later(today, years), ((3, 7),)),
            _Meter(f"ГВ{rng.randrange(10**7):07d}", "Горячая вода", 1, 5, 3,
                   _years_later(today, years), ((2, 4),)),
            _Meter(f"Э{rng.randrange(10**8):08d}", "Электроэнергия", 2, 6, 1,
                   _years_later(today, years + 8), ((110, 210), (50, 120))),
        ]  # fmt: skip
        accounts.append(acc)
    for i in range(10):
        sector = ("58", "61", "63")[i % 3]
        street, house = GAS_STREETS[i % len(GAS_STREETS)]
        acc = _Acc(
            supplier=GAS,
            number=f"{sector}{31_400_000 + i * 2_711:08d}",
            holder=_person(rng),
            address=f"{CITY}, {street}, д. {house + i}",
            phones=[_phone(rng)],
        )
        acc.meters = [
            _Meter(f"ГС{rng.randrange(10**8):08d}", "Газ", 1, 5, 3,
                   _years_later(today, rng.randrange(3, 9)), ((12, 45),)),
        ]  # fmt: skip
        accounts.append(acc)

    # the edge cases
    accounts[0].case = "typical"
    accounts[40].case = "gas"
    accounts[40].phones = list(accounts[0].phones)  # one resident, two suppliers
    accounts[1].case = "overpaid"
    accounts[1].advance = Decimal("3000.00")
    accounts[2].case = "debtor"
    accounts[2].unpaid_months = 5
    accounts[3].case = "expired meter"
    accounts[3].meters[1].due = today - dt.timedelta(days=47)  # hot water, overdue
    accounts[4].case = "no meters"
    accounts[4].meters = []
    accounts[5].case = "two phones"
    accounts[5].phones.append(_phone(rng))
    accounts[6].case = "access code"
    accounts[6].access_code = "73190482"
    accounts[7].case = "no phone"
    accounts[7].phones = []
    accounts[8].case = "no charges"
    accounts[8].no_charges = True
    accounts[9].case = "recalculation"
    accounts[9].recalculation = Decimal("1843.27")
    for acc in accounts[30:36]:  # some more without a phone, as in real billing data
        acc.phones = []
    accounts += _organisation_accounts(today)
    return accounts


#: the demo organisation (issue 14): a valid ИНН (ФНС control digit), two branches
ORG_NAME = "ТСЖ «Заречье-Сервис»"
ORG_INN = "6950123450"
ORG_BRANCHES = ("695001001", "695002001")
ORG_CONTRACTS = ("Д-101/2025", "Д-102/2025")


def _organisation_accounts(today: dt.date) -> list[_Acc]:
    """Three accounts of one organisation: the office and the workshop on contract
    Д-101/2025 (the main branch), the boiler room on Д-102/2025 (the second branch).
    A random generator of their own, so the other accounts stay as they were."""
    rng = random.Random(14)
    places = ("офис", "мастерская", "котельная")
    out = []
    for i, place in enumerate(places):
        branch = 0 if i < 2 else 1
        acc = _Acc(
            supplier=UK,
            number=f"{10_200_000 + (40 + i) * 137:08d}",
            holder=ORG_NAME,
            address=f"{CITY}, ул. Советская, д. 12, {place}",
            phones=[],
            area=Decimal(rng.randrange(600, 1800)) / 10,
            case="organisation" if i == 0 else "",
            inn=ORG_INN,
            kpp=ORG_BRANCHES[branch],
            contract=ORG_CONTRACTS[branch],
        )
        acc.meters = [
            _Meter(f"ХВ{rng.randrange(10**7):07d}", "Холодная вода", 1, 5, 3,
                   _years_later(today, 4), ((8, 15),)),
        ]  # fmt: skip
        out.append(acc)
    return out


def _usage(acc: _Acc, meter: _Meter, year: int, month: int) -> list[int]:
    return list(_usage_of(acc.number, meter.serial, meter.usage, year, month))


@functools.lru_cache(maxsize=65_536)
def _usage_of(
    number: str, serial: str, ranges: tuple[tuple[int, int], ...], year: int, month: int
) -> tuple[int, ...]:
    rng = random.Random(f"{number}:{serial}:{year}-{month}")
    return tuple(rng.randint(low, high) for low, high in ranges)


def _reading_values(acc: _Acc, meter: _Meter, upto: tuple[int, int]) -> list[Decimal]:
    """The meter's cumulative values at the end of month `upto`."""
    rng = random.Random(f"{acc.number}:{meter.serial}:start")
    values = [Decimal(rng.randrange(100, 900)) for _ in meter.usage]
    year, month = HISTORY_FROM
    while (year, month) <= upto:
        for zone, used in enumerate(_usage(acc, meter, year, month)):
            values[zone] += used
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    frac = random.Random(f"{acc.number}:{meter.serial}:{upto}").randrange(10**meter.decimals)
    tail = Decimal(frac).scaleb(-meter.decimals) if meter.decimals else Decimal(0)
    return [v + tail for v in values]


def _charges_of(acc: _Acc, year: int, month: int, last: bool) -> list[tuple[str, Decimal]]:
    if last and acc.recalculation:
        return [("Перерасчёт: отопление", -acc.recalculation)]
    if acc.supplier == GAS:
        used = sum(sum(_usage(acc, m, year, month)) for m in acc.meters)
        return [("Газоснабжение", _money(T_GAS * used))]
    by_service = {m.service: _usage(acc, m, year, month) for m in acc.meters}
    rng = random.Random(f"{acc.number}:{year}-{month}:norm")
    cold = Decimal(by_service.get("Холодная вода", [rng.randint(5, 8)])[0])
    hot = Decimal(by_service.get("Горячая вода", [rng.randint(3, 5)])[0])
    day, night = by_service.get("Электроэнергия", [rng.randint(150, 230), rng.randint(60, 100)])
    out = [
        ("Содержание жилья", _money(T_MAINTENANCE * acc.area)),
        ("Холодное водоснабжение", _money(T_COLD * cold)),
        ("Горячее водоснабжение", _money(T_HOT * hot)),
        ("Водоотведение", _money(T_SEWAGE * (cold + hot))),
        ("Электроэнергия", _money(T_DAY * day + T_NIGHT * night)),
    ]
    if month in HEATING_MONTHS:
        out.append(("Отопление", _money(T_HEAT * HEAT_PER_M2 * acc.area)))
    return out


def _rows(values: list[dict[str, str]]) -> Rows:
    for index, row in enumerate(values):
        yield RawRow(line=index + 2, item=None, values=row)


# --------------------------------------------------------------------------- files
def _account_rows(accounts: list[_Acc]) -> list[dict[str, str]]:
    return [
        {
            "supplier_code": a.supplier,
            "account_number": a.number,
            "address": a.address,
            "holder_name": a.holder,
            "phones": "; ".join(a.phones),
            "access_code": a.access_code or "",
            "holder_inn": a.inn,
            "holder_kpp": a.kpp,
            "contract_number": a.contract,
        }
        for a in accounts
    ]


def _files(accounts: list[_Acc], today: dt.date) -> Iterator[tuple[Kind, list[dict[str, str]]]]:
    months = [_month_back(today, back) for back in range(MONTHS - 1, -1, -1)]
    yield Kind.SUPPLIERS, SUPPLIERS
    yield Kind.ACCOUNTS, _account_rows(accounts)
    charges: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
    for acc in accounts:
        rng = random.Random(f"{acc.number}:payments")
        source = rng.choice(PAY_SOURCES)
        for index, (year, month) in enumerate([] if acc.no_charges else months):
            lines = _charges_of(acc, year, month, last=index == len(months) - 1)
            pay_year, pay_month = _month_back(dt.date(year, month, 1), -1)
            pay_day = dt.date(pay_year, pay_month, 5 + rng.randrange(10))
            current = index == len(months) - 1
            paid = not (index >= len(months) - acc.unpaid_months) and pay_day <= today
            if current and acc.advance:
                paid, pay_day = True, today - dt.timedelta(days=1)
            total = Decimal(0)
            for n, (service, amount) in enumerate(lines):
                extra = acc.advance if current and n == 0 else Decimal(0)
                got = amount + extra if paid else Decimal(0)
                total += got
                charges.append(
                    {
                        "supplier_code": acc.supplier,
                        "account_number": acc.number,
                        "period": _period(year, month),
                        "service": service,
                        "charged": str(amount),
                        "paid": str(got),
                    }
                )
            if paid and total:
                payments.append(
                    {
                        "supplier_code": acc.supplier,
                        "account_number": acc.number,
                        "paid_at": pay_day.isoformat(),
                        "amount": str(total),
                        "source": source,
                    }
                )
    yield Kind.CHARGES, charges
    yield Kind.PAYMENTS, payments
    for year, month in months:  # the meters file as billing sent it each month
        taken = dt.date(year, month, 20)
        if taken > today:
            taken = today
        rows: list[dict[str, str]] = []
        for acc in accounts:
            for meter in acc.meters:
                values = _reading_values(acc, meter, (year, month))
                row = {
                    "supplier_code": acc.supplier,
                    "account_number": acc.number,
                    "serial": meter.serial,
                    "service": meter.service,
                    "zones": str(meter.zones),
                    "digits": str(meter.digits),
                    "decimals": str(meter.decimals),
                    "verification_due": meter.due.isoformat(),
                    "last_date": taken.isoformat(),
                }
                for zone, value in enumerate(values, start=1):
                    row[f"last_t{zone}"] = str(value)
                rows.append(row)
        yield Kind.METERS, rows


def _demo_account(acc: _Acc) -> DemoAccount:
    return DemoAccount(
        case=acc.case,
        supplier_code=acc.supplier,
        number=acc.number,
        holder_name=acc.holder,
        address=acc.address,
        phones=tuple(typed_phone_to_e164(p) for p in acc.phones),
        access_code=acc.access_code,
        holder_inn=acc.inn or None,
        holder_kpp=acc.kpp or None,
        contract_number=acc.contract or None,
    )


async def seed_demo(target: Database | UnitOfWork, clock: Clock) -> DemoSummary:
    """Seed (or refresh) the demo data through the billing importer.

    With a Database every file is its own transaction (as `import` from the command line);
    with a UnitOfWork everything joins its transaction and the caller commits.
    """
    today = clock.now().date()
    accounts = _build_accounts(today)
    imports: list[ImportSummary] = []
    for kind, rows in _files(accounts, today):
        if isinstance(target, UnitOfWork):
            imports.append(await import_rows(target, kind, _rows(rows), clock=clock))
        else:
            async with UnitOfWork(target.session_maker) as uow:
                imports.append(await import_rows(uow, kind, _rows(rows), clock=clock))
    by_case = {a.case: _demo_account(a) for a in accounts if a.case}
    first, last = _month_back(today, MONTHS - 1), _month_back(today, 0)
    return DemoSummary(
        periods=(_period(*first), _period(*last)),
        accounts=len(accounts),
        typical=by_case["typical"],
        overpaid=by_case["overpaid"],
        debtor=by_case["debtor"],
        expired_meter=by_case["expired meter"],
        no_meters=by_case["no meters"],
        two_phones=by_case["two phones"],
        access_code=by_case["access code"],
        no_phone=by_case["no phone"],
        gas=by_case["gas"],
        no_charges=by_case["no charges"],
        recalculation=by_case["recalculation"],
        imports=imports,
        organisation=by_case["organisation"],
    )
