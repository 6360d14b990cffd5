"""Receipts: the PDF payment document of a period, with a ГОСТ Р 56042-2014 QR code.

Three kinds: the amount due (the month's services plus the debt or advance before it),
one service's difference between charged and paid (as gardening partnerships do), or a
sum the resident typed (validated by `bot.services.balance.money.parse_sum`).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_date

from bot.services.balance import BalanceService, Statement
from bot.services.balance.render import Renderer
from bot.services.balance.statement import ZERO, period_date
from bot.services.clock import Clock
from bot.services.codes import DAY_ZONE
from bot.services.receipts import document
from bot.services.receipts.document import ReceiptData, ReceiptLine
from bot.services.receipts.gost import PaymentOrder
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.receipts")

ISSUED = "receipt_issued"  # audit action
FIELD_NAMES = {
    "name": "наименование",
    "inn": "ИНН",
    "kpp": "КПП",
    "bank_name": "банк",
    "bic": "БИК",
    "corr_account": "корр. счёт",
    "settlement_account": "расчётный счёт",
}


class ReceiptKind(enum.StrEnum):
    DUE = "due"
    SERVICE = "service"
    SUM = "sum"


class ReceiptOutcome(enum.StrEnum):
    READY = "ready"
    UNAVAILABLE = "unavailable"  # not the resident's account (any more), or no such charge
    NO_CHARGES = "no_charges"
    NOTHING_DUE = "nothing_due"  # the amount due (or the service's difference) is not > 0


@dataclass(frozen=True)
class ReceiptFile:
    filename: str
    pdf: bytes
    qr_png: bytes | None
    payload: str | None
    amount: Decimal
    period: str
    account_number: str
    supplier_name: str


@dataclass(frozen=True)
class ReceiptResult:
    outcome: ReceiptOutcome
    file: ReceiptFile | None = None


@dataclass(frozen=True)
class ReceiptDraft:
    """A receipt checked and computed, not drawn yet (`ReceiptService.draft`)."""

    outcome: ReceiptOutcome
    user_id: int
    kind: ReceiptKind
    statement: Statement | None = None
    data: ReceiptData | None = None


def period_label(period: str) -> str:
    """'2026-11' → 'ноябрь 2026 г.'"""
    return f"{format_date(period_date(period), 'LLLL yyyy', locale='ru')} г."


def _purpose(statement: Statement, service: str | None) -> str:
    assert statement.period is not None
    month = f"{statement.period[5:7]}.{statement.period[:4]}"
    number = statement.account.number
    if service:
        return f"Оплата: {service} за {month}, л/с {number}"
    return f"Оплата по л/с {number} за {month}"


def _carried(statement: Statement) -> list[ReceiptLine]:
    out = []
    if statement.opening > 0:
        out.append(ReceiptLine("Долг на начало периода", None, None, statement.opening))
    elif statement.opening < 0:
        out.append(ReceiptLine("Аванс на начало периода", None, None, statement.opening))
    if statement.is_latest and statement.pending:
        out.append(
            ReceiptLine("Оплачено в Telegram, ещё не учтено", None, None, -statement.pending)
        )
    return out


def receipt_data(
    statement: Statement,
    kind: ReceiptKind,
    *,
    now: dt.datetime,
    charge_id: int | None = None,
    amount: Decimal | None = None,
) -> ReceiptData | None:
    """What the page shows; None when this kind has nothing to ask for."""
    if statement.period is None:
        return None
    service = None
    lines = [ReceiptData.line_of(line) for line in statement.lines]
    if kind is ReceiptKind.DUE:
        total, total_label = statement.to_pay, "Итого к оплате"
        lines += _carried(statement)
    elif kind is ReceiptKind.SERVICE:
        line = statement.line(charge_id or 0)
        if line is None:
            return None
        total, total_label, service = line.due, "К оплате", line.service
        lines = [ReceiptData.line_of(line)]
    else:
        assert amount is not None
        total, total_label = amount, "Сумма платежа"
        lines += _carried(statement)
    if total <= ZERO:
        return None
    account, payee = statement.account, statement.account.payee
    purpose = _purpose(statement, service)
    missing = payee.missing()
    order = None
    reason = None
    if missing:
        names = ", ".join(FIELD_NAMES[m] for m in missing)
        reason = (
            "QR-код для оплаты не сформирован: у поставщика не заполнены платёжные "
            f"реквизиты ({names}). Оплатите по реквизитам из бумажной квитанции или "
            "уточните их у поставщика."
        )
    else:
        order = PaymentOrder(
            payee,
            total,
            purpose,
            account.number,
            statement.period,
            account.address,
            payer_inn=account.holder_inn or "",
        )
    return ReceiptData(
        title="Платёжный документ (квитанция)",
        period_label=period_label(statement.period),
        payee=payee,
        account_number=account.number,
        holder_name=account.holder_name,
        address=account.address,
        lines=tuple(lines),
        total_label=total_label,
        total=total,
        purpose=purpose,
        order=order,
        no_qr_reason=reason,
        issued=now.astimezone(DAY_ZONE).strftime("%d.%m.%Y %H:%M (МСК)"),
        payer_inn=account.holder_inn or "",
    )


def filename(account_number: str, period: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in account_number)
    return f"receipt_{safe}_{period}.pdf"


class ReceiptService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, renderer: Renderer, balance: BalanceService
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.renderer = renderer
        self.balance = balance

    async def draft(
        self,
        user_id: int,
        account_id: int,
        period: str | None,
        kind: ReceiptKind,
        *,
        charge_id: int | None = None,
        amount: Decimal | None = None,
    ) -> ReceiptDraft:
        """What the receipt would say, without drawing it (a few milliseconds of reads).

        `period` None means the latest month with charges; `amount` is roubles (kind SUM
        only); `charge_id` names the service (kind SERVICE only). Anything but a READY
        draft says why no receipt can be made: the caller answers that at once, before
        telling the resident a PDF is on its way.
        """
        statement = await self.balance.statement(user_id, account_id, period)
        if statement is None:
            return ReceiptDraft(ReceiptOutcome.UNAVAILABLE, user_id, kind)
        if statement.period is None:
            return ReceiptDraft(ReceiptOutcome.NO_CHARGES, user_id, kind)
        if kind is ReceiptKind.SERVICE and statement.line(charge_id or 0) is None:
            return ReceiptDraft(ReceiptOutcome.UNAVAILABLE, user_id, kind)
        data = receipt_data(
            statement, kind, now=self.clock.now(), charge_id=charge_id, amount=amount
        )
        if data is None:
            return ReceiptDraft(ReceiptOutcome.NOTHING_DUE, user_id, kind)
        return ReceiptDraft(ReceiptOutcome.READY, user_id, kind, statement, data)

    async def render(self, draft: ReceiptDraft) -> ReceiptResult:
        """The PDF and the QR code of a READY draft (hundreds of milliseconds, off the
        event loop), recorded in the audit log; any other draft's outcome as it is."""
        statement, data = draft.statement, draft.data
        if draft.outcome is not ReceiptOutcome.READY or statement is None or data is None:
            return ReceiptResult(draft.outcome)
        assert statement.period is not None
        # a named commit point: nothing is written yet, but the session's connection goes
        # back to the pool for the render's hundreds of milliseconds (20 residents
        # rendering at once would otherwise hold the pool and stall everyone's menu)
        await self.uow.commit()
        payee = statement.account.payee
        if data.order is None:
            self.renderer.warn_once(
                ("payee", payee.id),
                "supplier %r (id %s) lacks payment details (%s): its receipts go out "
                "without a QR code until they are imported",
                payee.name,
                payee.id,
                ", ".join(payee.missing()),
            )
        rendered = await self.renderer.run(document.render, data)
        self.uow.audit.add(
            ISSUED,
            actor_kind="resident",
            actor_id=draft.user_id,
            object_type="account",
            object_id=statement.account.id,
            details={
                "period": statement.period,
                "kind": draft.kind.value,
                "amount": str(data.total),
            },
            at=self.clock.now(),
        )
        return ReceiptResult(
            ReceiptOutcome.READY,
            ReceiptFile(
                filename=filename(statement.account.number, statement.period),
                pdf=rendered.pdf,
                qr_png=rendered.qr_png,
                payload=rendered.payload,
                amount=data.total,
                period=statement.period,
                account_number=statement.account.number,
                supplier_name=payee.name,
            ),
        )
