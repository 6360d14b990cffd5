"""Demo data: realistic edge cases, seeded through the importer, idempotent."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from bot.services.clock import FrozenClock
from bot.services.demo import DemoAccount, seed_demo
from bot.services.hashing import verify_secret
from storage.db import Database
from storage.models import (
    Account,
    AccountPhone,
    Base,
    Charge,
    Meter,
    Payment,
    Reading,
    Supplier,
)
from storage.uow import UnitOfWork

MODELS: list[type[Base]] = [Supplier, Account, AccountPhone, Charge, Payment, Meter, Reading]


async def counts(db: Database) -> dict[str, int]:
    async with db.session_maker() as session:
        return {
            m.__name__: int(
                (await session.execute(select(func.count()).select_from(m))).scalar_one()
            )
            for m in MODELS
        }


async def account_of(db: Database, demo: DemoAccount) -> Account:
    async with db.session_maker() as session:
        return (
            await session.execute(
                select(Account)
                .join(Supplier)
                .where(Supplier.code == demo.supplier_code, Account.number == demo.number)
            )
        ).scalar_one()


async def balance(db: Database, account_id: int) -> Decimal:
    async with db.session_maker() as session:
        charged, paid = (
            await session.execute(
                select(func.sum(Charge.charged), func.sum(Charge.paid)).where(
                    Charge.account_id == account_id
                )
            )
        ).one()
    return Decimal(charged) - Decimal(paid)


async def test_twice_creates_no_duplicates(db: Database, clock: FrozenClock) -> None:
    first = await seed_demo(db, clock)
    after_first = await counts(db)
    second = await seed_demo(db, clock)
    assert await counts(db) == after_first
    assert all(s.inserted == s.updated == 0 for s in second.imports)
    assert after_first["Supplier"] == 2
    assert 45 <= after_first["Account"] <= 60
    assert after_first["Reading"] > 12 * 80  # a year of history for every meter zone
    assert first.periods == ("2025-12", "2026-11")  # the clock's month is the last
    assert "nothing changed" in second.text()


async def test_edge_cases(db: Database, clock: FrozenClock) -> None:
    demo = await seed_demo(db, clock)
    today = clock.now().date()

    overpaid = await account_of(db, demo.overpaid)
    assert await balance(db, overpaid.id) < 0
    debtor = await account_of(db, demo.debtor)
    typical = await account_of(db, demo.typical)
    assert await balance(db, debtor.id) > 3 * await balance(db, typical.id) > 0

    async with db.session_maker() as session:
        expired = await account_of(db, demo.expired_meter)
        dues = (
            await session.execute(
                select(Meter.verification_due).where(Meter.account_id == expired.id)
            )
        ).scalars()
        assert any(d is not None and d < today for d in dues)
        no_meters = await account_of(db, demo.no_meters)
        assert (
            await session.execute(
                select(func.count()).select_from(Meter).where(Meter.account_id == no_meters.id)
            )
        ).scalar_one() == 0
        zones = (
            await session.execute(
                select(Meter.zones).where(Meter.account_id == typical.id).order_by(Meter.zones)
            )
        ).scalars()
        assert list(zones) == [1, 1, 2]  # cold, hot water, two-zone electricity
        payments = (
            await session.execute(
                select(func.count()).select_from(Payment).where(Payment.account_id == typical.id)
            )
        ).scalar_one()
        assert payments >= 10

    assert len(demo.two_phones.phones) == 2
    two = await account_of(db, demo.two_phones)
    assert sorted(p.phone for p in two.phones) == sorted(demo.two_phones.phones)

    coded = await account_of(db, demo.access_code)
    assert demo.access_code.access_code is not None
    assert verify_secret(demo.access_code.access_code, coded.access_code_hash)

    nobody = await account_of(db, demo.no_phone)
    assert nobody.phones == [] and nobody.access_code_hash is None
    assert demo.no_phone.phones == () and demo.no_phone.access_code is None

    gas = await account_of(db, demo.gas)
    assert len(gas.number) == 10 and gas.number.isdigit()
    assert demo.gas.phones == demo.typical.phones  # one resident with two suppliers
    assert gas.supplier.account_hint.startswith("10 цифр")


async def test_inside_a_unit_of_work(db: Database, clock: FrozenClock) -> None:
    async with UnitOfWork(db.session_maker) as uow:
        demo = await seed_demo(uow, clock)
    assert (await account_of(db, demo.debtor)).number == demo.debtor.number


async def test_a_month_later_only_the_new_month_is_added(db: Database, clock: FrozenClock) -> None:
    await seed_demo(db, clock)
    before = await counts(db)
    clock.advance(days=31)
    later = await seed_demo(db, clock)
    assert later.periods == ("2026-01", "2026-12")
    after = await counts(db)
    assert after["Account"] == before["Account"]
    assert after["Reading"] > before["Reading"]
