"""Every check of a meter reading as a pure rule, with its edges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.services.enums import ReminderKind
from bot.services.readings_rules import (
    Caution,
    Limit,
    Problem,
    Progress,
    ServiceKind,
    against_last,
    largest,
    limit_of,
    monthly_average,
    parse_value,
    reminder_due,
    service_kind,
    unusual,
    verification_overdue,
    window_of,
    window_state,
)

D = Decimal


# --------------------------------------------------------------------------- the number
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("123,456", D("123.456")),
        ("123.456", D("123.456")),
        ("  123,4 ", D("123.400")),
        ("123", D("123.000")),
        ("123,", D("123.000")),
        (",5", D("0.500")),
        ("00123,456", D("123.456")),  # the dial shows leading zeros
        ("12 345,6", D("12345.600")),  # groups of three
        ("12\u00a0345,6", D("12345.600")),  # NBSP, as phones type it
        ("12\u202f345,6", D("12345.600")),  # U+202F, the Russian locale's separator
        ("１２３，４５６", D("123.456")),  # full-width digits and comma
        ("١٢٣٫٤", D("123.400")),  # Arabic-Indic digits and decimal sign
        ("5,100", D("5.100")),
        ("-0", D("0.000")),
        ("99999,999", D("99999.999")),  # the largest a 5 + 3 dial shows
    ],
)
def test_numbers_as_people_type_them(typed: str, expected: Decimal) -> None:
    assert parse_value(typed, 5, 3) == expected


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", Problem.NOT_A_NUMBER),
        ("abc", Problem.NOT_A_NUMBER),
        ("12a", Problem.NOT_A_NUMBER),
        ("1.234,5", Problem.NOT_A_NUMBER),  # two separators
        ("12 34", Problem.NOT_A_NUMBER),  # not digit groups: perhaps two numbers
        ("1e5", Problem.NOT_A_NUMBER),
        ("1" * 41, Problem.TOO_MANY_DIGITS),  # a long run of digits: too many of them
        ("9" * 5000, Problem.TOO_MANY_DIGITS),
        ("1" * 30 + "x" * 20, Problem.NOT_A_NUMBER),
        ("-5", Problem.NEGATIVE),
        ("−5,5", Problem.NEGATIVE),  # the minus sign
        ("100000", Problem.TOO_MANY_DIGITS),  # 6 digits on a 5-digit dial
        ("000100000", Problem.TOO_MANY_DIGITS),
        ("1,2345", Problem.TOO_MANY_DECIMALS),
    ],
)
def test_what_is_not_a_reading(typed: str, problem: Problem) -> None:
    assert parse_value(typed, 5, 3) is problem


def test_decimals_edges() -> None:
    assert parse_value("12,5", 6, 1) == D("12.5")
    assert parse_value("12,50", 6, 1) == D("12.5")  # trailing zeros are no decimals
    assert parse_value("12,55", 6, 1) is Problem.TOO_MANY_DECIMALS
    assert parse_value("12,0", 5, 0) == D("12")
    assert parse_value("12,5", 5, 0) is Problem.TOO_MANY_DECIMALS
    assert largest(5, 3) == D("99999.999") and largest(6, 0) == D("999999")


# --------------------------------------------------------------------------- the last value
def test_not_less_than_the_last() -> None:
    assert against_last(D("130"), D("123.456"), 5) == Progress(D("6.544"))
    assert against_last(D("123.456"), D("123.456"), 5) == Progress(D("0"))
    assert against_last(D("123.455"), D("123.456"), 5) is Problem.LESS_THAN_LAST


@pytest.mark.parametrize(
    ("last", "new", "expected"),
    [
        ("99990", "5", Progress(D("15"), rollover=True)),
        ("90000", "9999.999", Progress(D("19999.999"), rollover=True)),  # both edges inside
        ("89999.999", "5", Problem.LESS_THAN_LAST),  # the last one was not near the top
        ("99990", "10000", Problem.LESS_THAN_LAST),  # the new one is not small
    ],
)
def test_rollover_edges(last: str, new: str, expected: object) -> None:
    assert against_last(D(new), D(last), 5) == expected


# --------------------------------------------------------------------------- consumption
def _months(start: str, values: list[str]) -> list[tuple[str, Decimal]]:
    year, month = int(start[:4]), int(start[5:7])
    out = []
    for value in values:
        out.append((f"{year:04d}-{month:02d}", D(value)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def test_average_needs_six_months() -> None:
    six = _months("2026-04", ["100", "105", "110", "115", "120", "125", "130"])
    assert monthly_average(six, 5) == D(5)
    assert monthly_average(six[1:], 5) is None  # five months of history: not enough
    assert monthly_average([], 5) is None


def test_average_over_a_gap_and_a_rollover() -> None:
    gap = [("2026-01", D("100")), ("2026-06", D("150")), ("2026-08", D("170"))]
    assert monthly_average(gap, 5) == D("10")  # from January: 70 over 7 months
    rolled = [("2026-01", D("99980")), ("2026-04", D("99995")), ("2026-07", D("40"))]
    assert monthly_average(rolled, 5) == D("10")  # 60 over 6 months, across the rollover
    replaced = [("2026-01", D("500")), ("2026-07", D("10"))]  # a new meter, same serial
    assert monthly_average(replaced, 5) is None


def test_spike_against_the_average() -> None:
    limit = limit_of(D(5), D(30), D(5))
    assert limit == Limit(Caution.SPIKE, D(25))
    assert unusual(D(25), 1, limit) is None  # exactly factor × average: not a spike
    assert unusual(D("25.001"), 1, limit) is Caution.SPIKE
    assert unusual(D(50), 2, limit) is None  # two months since the last reading
    assert unusual(D("50.002"), 2, limit) is Caution.SPIKE


def test_a_tiny_average_does_not_make_everything_a_spike() -> None:
    limit = limit_of(D("0.1"), D(30), D(5))  # an empty flat: 0.5 a month × 5
    assert limit == Limit(Caution.SPIKE, D(3))  # a tenth of the ceiling is the floor
    assert unusual(D(3), 1, limit) is None
    assert unusual(D("3.1"), 1, limit) is Caution.SPIKE


def test_ceiling_with_little_history() -> None:
    limit = limit_of(None, D(30), D(5))
    assert limit == Limit(Caution.CEILING, D(30))
    assert unusual(D(30), 1, limit) is None
    assert unusual(D("30.001"), 1, limit) is Caution.CEILING
    assert limit_of(None, None, D(5)) is None  # an unknown service: nothing to compare
    assert unusual(D(10**6), 1, None) is None


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Холодная вода", ServiceKind.WATER),
        ("ГВС", ServiceKind.WATER),
        ("Горячее водоснабжение", ServiceKind.WATER),
        ("Электроэнергия", ServiceKind.ELECTRICITY),
        ("Тепловая энергия", ServiceKind.HEAT),
        ("Отопление", ServiceKind.HEAT),
        ("Газ", ServiceKind.GAS),
        ("Gas", ServiceKind.GAS),
        ("Домофон", ServiceKind.OTHER),
    ],
)
def test_service_kinds(name: str, kind: ServiceKind) -> None:
    assert service_kind(name) is kind


def test_verification_date() -> None:
    due = dt.date(2026, 11, 20)
    assert not verification_overdue(due, dt.date(2026, 11, 20))  # the date itself is fine
    assert verification_overdue(due, dt.date(2026, 11, 21))
    assert not verification_overdue(None, dt.date(2026, 11, 21))


# --------------------------------------------------------------------------- windows
def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("today", "is_open", "period", "opens", "closes"),
    [
        ("2026-11-14", False, "2026-11", "2026-11-15", "2026-11-25"),
        ("2026-11-15", True, "2026-11", "2026-11-15", "2026-11-25"),  # the first day
        ("2026-11-25", True, "2026-11", "2026-11-15", "2026-11-25"),  # the last day
        ("2026-11-26", False, "2026-12", "2026-12-15", "2026-12-25"),
    ],
)
def test_a_plain_window(today: str, is_open: bool, period: str, opens: str, closes: str) -> None:
    state = window_state(day(today), 15, 25)
    assert state.open is is_open
    assert state.window == window_of(period, 15, 25)
    assert (state.window.opens_on, state.window.closes_on) == (day(opens), day(closes))
    assert not state.window.wraps


@pytest.mark.parametrize(
    ("today", "is_open", "period"),
    [
        ("2026-11-27", False, "2026-11"),  # closed: the next window is November's
        ("2026-11-28", True, "2026-11"),  # the first day
        ("2026-11-30", True, "2026-11"),
        ("2026-12-01", True, "2026-11"),  # next month, still November's readings
        ("2026-12-05", True, "2026-11"),  # the last day
        ("2026-12-06", False, "2026-12"),
        ("2026-12-31", True, "2026-12"),  # over the year end…
        ("2027-01-03", True, "2026-12"),  # …December's readings in January
    ],
)
def test_a_wrapped_window_belongs_to_the_month_it_opens_in(
    today: str, is_open: bool, period: str
) -> None:
    state = window_state(day(today), 28, 5)
    assert (state.open, state.window.period) == (is_open, period)
    assert state.window.wraps


def test_short_months() -> None:
    feb = window_of("2026-02", 30, 31)  # both days clamp to the month's last day
    assert (feb.opens_on, feb.closes_on) == (day("2026-02-28"), day("2026-02-28"))
    leap = window_of("2028-02", 29, 5)
    assert (leap.opens_on, leap.closes_on) == (day("2028-02-29"), day("2028-03-05"))
    jan = window_of("2026-01", 31, 30)  # wraps into February: ends on its last day
    assert (jan.opens_on, jan.closes_on) == (day("2026-01-31"), day("2026-02-28"))
    # 28 February belongs to January's window (closing) and February's (opening, clamped
    # 31 → 28): the closing one wins
    assert window_state(day("2026-02-28"), 31, 30).window.period == "2026-01"
    assert window_state(day("2026-03-01"), 31, 30).window.period == "2026-02"


def test_always_open() -> None:
    for n in range(365):
        today = day("2026-01-01") + dt.timedelta(days=n)
        state = window_state(today, 1, 31)
        assert state.open and state.window.period == today.isoformat()[:7]


def test_early_readings_for_the_coming_period() -> None:
    early = window_state(day("2026-11-12"), 15, 25, early_days=3)
    assert (early.open, early.early, early.window.period) == (True, True, "2026-11")
    assert not window_state(day("2026-11-11"), 15, 25, early_days=3).open
    assert not window_state(day("2026-11-12"), 15, 25).open  # off by default
    late = window_state(day("2026-11-26"), 15, 25, early_days=20)
    assert (late.open, late.early, late.window.period) == (True, True, "2026-12")


# --------------------------------------------------------------------------- reminders
@pytest.mark.parametrize(
    ("today", "due"),
    [
        ("2026-11-14", None),
        ("2026-11-15", ReminderKind.START),
        ("2026-11-22", ReminderKind.START),  # a missed start is caught up…
        ("2026-11-23", ReminderKind.END),  # …until two days before the end
        ("2026-11-25", ReminderKind.END),
        ("2026-11-26", None),
    ],
)
def test_reminder_days(today: str, due: ReminderKind | None) -> None:
    assert reminder_due(day(today), window_of("2026-11", 15, 25)) is due


def test_reminders_of_short_and_wrapped_windows() -> None:
    short = window_of("2026-11", 15, 17)  # two days before the end is the first day
    assert [reminder_due(day(f"2026-11-{d}"), short) for d in (15, 16, 17)] == [
        ReminderKind.START
    ] * 3
    wrapped = window_of("2026-11", 28, 5)
    assert reminder_due(day("2026-11-28"), wrapped) is ReminderKind.START
    assert reminder_due(day("2026-12-02"), wrapped) is ReminderKind.START
    assert reminder_due(day("2026-12-03"), wrapped) is ReminderKind.END


def test_the_window_rule_reads_right_in_both_languages() -> None:
    """QA found «from the 15 to the 25 day of each month» in English."""
    from types import SimpleNamespace

    from bot.i18n import create_i18n
    from handlers.readings.texts import window_rule

    i18n = create_i18n("ru")
    within = SimpleNamespace(window_start_day=15, window_end_day=25)
    across = SimpleNamespace(window_start_day=25, window_end_day=5)
    with i18n.context(), i18n.use_locale("en"):
        assert window_rule(within) == "from day 15 to day 25 of each month"  # type: ignore[arg-type]
        assert window_rule(across) == "from day 25 of a month to day 5 of the next one"  # type: ignore[arg-type]
    with i18n.context(), i18n.use_locale("ru"):
        assert window_rule(within) == "с 15 по 25 число каждого месяца"  # type: ignore[arg-type]
        assert window_rule(across) == "с 25 числа месяца по 5 число следующего"  # type: ignore[arg-type]
