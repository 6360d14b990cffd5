"""Payment in Telegram (Telegram Payments, a provider token from @BotFather).

The invoice's payload names the account, what is paid and the sum in kopecks; nothing in it
is trusted: the pre-checkout query is checked again (the link still active, the sum still
right, the currency RUB) and a successful payment is stored once, keyed by Telegram's
charge id, however often Telegram delivers it. A payment is kept even when the account
was unlinked between the check and the payment: the money has been taken, the supplier's
account is credited, the resident is told.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from bot.services.balance.money import CURRENCY, MAX_SUM, from_kopecks, to_kopecks
from bot.services.balance.service import BalanceService
from bot.services.balance.statement import AccountCard, Statement
from bot.services.clock import Clock
from bot.services.codes import DAY_ZONE
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.payments")

SOURCE = "Telegram"
PAID = "payment_telegram"  # audit action
#: the smallest sum an invoice asks (providers refuse less than about a dollar's worth)
MIN_PAYMENT = Decimal("10.00")
_PAYLOAD = re.compile(r"^kb1:(\d{1,10}):([ds]):(\d{1,12})$")


class InvoiceKind(enum.StrEnum):
    DUE = "d"  # the debt now
    SUM = "s"  # a sum the resident typed


class InvoiceOutcome(enum.StrEnum):
    READY = "ready"
    UNAVAILABLE = "unavailable"
    NOTHING_DUE = "nothing_due"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"


class CheckOutcome(enum.StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"  # not the payer's account (any more)
    INVALID = "invalid"  # a payload, currency or sum that is not ours
    CHANGED = "changed"  # the debt is not what the invoice asks any more


class RecordOutcome(enum.StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"  # this charge id is stored already
    INVALID = "invalid"  # not an invoice of ours: logged for operators


@dataclass(frozen=True)
class Invoice:
    outcome: InvoiceOutcome
    account: AccountCard | None = None
    amount: Decimal = Decimal(0)
    kind: InvoiceKind = InvoiceKind.DUE
    payload: str = ""

    @property
    def kopecks(self) -> int:
        return to_kopecks(self.amount)


@dataclass(frozen=True)
class Recorded:
    outcome: RecordOutcome
    amount: Decimal = Decimal(0)
    account_number: str = ""
    supplier_name: str = ""
    charge_id: str = ""
    statement: Statement | None = None  # the balance now (None when no longer linked)


def make_payload(account_id: int, kind: InvoiceKind, amount: Decimal) -> str:
    return f"kb1:{account_id}:{kind.value}:{to_kopecks(amount)}"


def parse_payload(payload: str) -> tuple[int, InvoiceKind, int] | None:
    match = _PAYLOAD.match(payload)
    if match is None:
        return None
    return int(match[1]), InvoiceKind(match[2]), int(match[3])


class PaymentsService:
    def __init__(self, uow: UnitOfWork, clock: Clock, balance: BalanceService) -> None:
        self.uow = uow
        self.clock = clock
        self.balance = balance

    async def invoice(
        self, user_id: int, account_id: int, amount: Decimal | None = None
    ) -> Invoice:
        """An invoice for the debt now (`amount` None) or for a typed sum."""
        statement = await self.balance.statement(user_id, account_id)
        if statement is None:
            return Invoice(InvoiceOutcome.UNAVAILABLE)
        kind = InvoiceKind.DUE if amount is None else InvoiceKind.SUM
        if amount is None:
            if statement.balance_now <= 0:
                return Invoice(InvoiceOutcome.NOTHING_DUE, statement.account)
            amount = statement.balance_now
        if amount < MIN_PAYMENT:
            return Invoice(InvoiceOutcome.TOO_SMALL, statement.account, amount, kind)
        if amount > MAX_SUM:
            return Invoice(InvoiceOutcome.TOO_LARGE, statement.account, amount, kind)
        payload = make_payload(account_id, kind, amount)
        return Invoice(InvoiceOutcome.READY, statement.account, amount, kind, payload)

    async def check(
        self, user_id: int, payload: str, currency: str, total_amount: int
    ) -> CheckOutcome:
        """The pre-checkout query, checked again before Telegram takes the money."""
        parsed = parse_payload(payload)
        if parsed is None or currency != CURRENCY:
            return CheckOutcome.INVALID
        account_id, kind, kopecks = parsed
        if total_amount != kopecks or not (MIN_PAYMENT <= from_kopecks(total_amount) <= MAX_SUM):
            return CheckOutcome.INVALID
        statement = await self.balance.statement(user_id, account_id)
        if statement is None:
            return CheckOutcome.UNAVAILABLE
        if kind is InvoiceKind.DUE and to_kopecks(statement.balance_now) != total_amount:
            return CheckOutcome.CHANGED
        return CheckOutcome.OK

    async def record(
        self,
        user_id: int,
        *,
        payload: str,
        currency: str,
        total_amount: int,
        charge_id: str,
        provider_charge_id: str,
    ) -> Recorded:
        """Store a successful payment once (Telegram's charge id is unique)."""
        repo = self.uow.balance
        if await repo.payment_by_charge_id(charge_id) is not None:
            log.info("successful_payment %s delivered again: already stored", charge_id)
            return Recorded(RecordOutcome.DUPLICATE, charge_id=charge_id)
        parsed = parse_payload(payload)
        account = await self.uow.links.account(parsed[0]) if parsed else None
        if parsed is None or account is None or currency != CURRENCY:
            log.error(
                "successful_payment %s (provider %s) of %s %s for payload %r matches no "
                "account: refund or credit it by hand",
                charge_id, provider_charge_id, total_amount, currency, payload,
            )  # fmt: skip
            return Recorded(RecordOutcome.INVALID, charge_id=charge_id)
        now = self.clock.now()
        amount = from_kopecks(total_amount)
        try:
            await repo.add_telegram_payment(
                account_id=account.id,
                paid_at=now.astimezone(DAY_ZONE).date(),
                amount=amount,
                source=SOURCE,
                charge_id=charge_id,
                recorded_at=now,
            )
            self.uow.audit.add(
                PAID,
                actor_kind="resident",
                actor_id=user_id,
                object_type="account",
                object_id=account.id,
                details={
                    "amount": str(amount),
                    "charge_id": charge_id,
                    "provider_charge_id": provider_charge_id,
                },
                at=now,
            )
            await self.uow.commit()  # stored before the resident is told
        except IntegrityError:  # the same update handled at the same moment elsewhere
            await self.uow.rollback()
            return Recorded(RecordOutcome.DUPLICATE, charge_id=charge_id)
        statement = await self.balance.statement(user_id, account.id)
        return Recorded(
            RecordOutcome.RECORDED,
            amount=amount,
            account_number=account.number,
            supplier_name=account.supplier.name,
            charge_id=charge_id,
            statement=statement,
        )
