"""Payments: sendInvoice and answerPreCheckoutQuery, and what a test plays as the payer.

A bot sends an invoice; a test pays it with :func:`pay` (``sandbox.methods.payments.pay``):
the bot gets a ``pre_checkout_query`` and has 10 seconds to answer it, as in Telegram; on
``ok`` the payer's chat gets a ``successful_payment`` service message, with a fresh
``telegram_payment_charge_id``. :func:`deliver_again` sends that same update once more,
as Telegram may. Invoices and checkouts are kept per bot beside its state.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sandbox.compose import new_bot_message, validate_markup
from sandbox.core import BotState, Params, api_method, bad
from sandbox.records import StoredMessage
from sandbox.views import SandboxError, SandboxMessage

if TYPE_CHECKING:
    from sandbox.actors import User
    from sandbox.server import SandboxServer

#: Telegram cancels a payment whose pre-checkout query is not answered within 10 s
CHECKOUT_TIMEOUT = 10.0
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


@dataclass
class InvoiceRecord:
    chat_id: int
    message_id: int
    title: str
    payload: str
    currency: str
    total_amount: int
    provider_token: str


@dataclass
class CheckoutRecord:
    id: str
    user_id: int
    invoice: InvoiceRecord
    created: float
    answered: bool = False
    ok: bool | None = None
    error_message: str | None = None


@dataclass
class Payments:
    """One bot's invoices (by chat and message id) and pre-checkout queries (by id)."""

    invoices: dict[tuple[int, int], InvoiceRecord] = field(default_factory=dict)
    checkouts: dict[str, CheckoutRecord] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


_PAYMENTS: WeakKeyDictionary[BotState, Payments] = WeakKeyDictionary()


def payments_of(state: BotState) -> Payments:
    found = _PAYMENTS.get(state)
    if found is None:
        found = _PAYMENTS[state] = Payments()
    return found


def _prices(p: Params) -> int:
    prices = p.json("prices")
    if not isinstance(prices, list) or not prices:
        raise bad("can't parse prices JSON object")
    total = 0
    for price in prices:
        if not isinstance(price, dict) or not isinstance(price.get("label"), str):
            raise bad("can't parse prices JSON object")
        amount = price.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise bad("can't parse prices JSON object")
        total += amount
    if total <= 0:
        raise bad("CURRENCY_TOTAL_AMOUNT_INVALID")
    return total


@api_method("sendInvoice")
async def send_invoice(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    title, description = p.string("title") or "", p.string("description") or ""
    payload, currency = p.string("payload") or "", p.string("currency") or ""
    token = p.string("provider_token") or ""
    if not 1 <= len(title) <= 32:
        raise bad("INVOICE_TITLE_INVALID" if title else "INVOICE_TITLE_EMPTY")
    if not 1 <= len(description) <= 255:
        raise bad("INVOICE_DESCRIPTION_INVALID" if description else "INVOICE_DESCRIPTION_EMPTY")
    if not 1 <= len(payload.encode("utf-8")) <= 128:
        raise bad("INVOICE_PAYLOAD_INVALID")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise bad("CURRENCY_INVALID")
    if currency != "XTR" and not token:
        raise bad("PAYMENT_PROVIDER_INVALID")
    total = _prices(p)
    markup = validate_markup(p, inline_only=True)
    invoice = {
        "title": title,
        "description": description,
        "start_parameter": p.string("start_parameter") or "",
        "currency": currency,
        "total_amount": total,
    }
    msg = new_bot_message(st, chat_id, p, {"invoice": invoice}, markup=markup)
    payments_of(st).invoices[(chat_id, msg.message_id)] = InvoiceRecord(
        chat_id, msg.message_id, title, payload, currency, total, token
    )
    return msg.data


@api_method("answerPreCheckoutQuery")
async def answer_pre_checkout_query(srv: SandboxServer, st: BotState, p: Params) -> Any:
    record = payments_of(st).checkouts.get(p.string("pre_checkout_query_id") or "")
    if record is None or record.answered or time.monotonic() - record.created > CHECKOUT_TIMEOUT:
        raise bad(QUERY_INVALID)
    ok = p.flag("ok")
    error = p.string("error_message")
    if not ok and not error:
        raise bad("ERROR_MESSAGE_EMPTY")
    if error is not None and len(error) > 255:
        raise bad("ERROR_MESSAGE_INVALID")
    record.answered, record.ok, record.error_message = True, ok, error
    st.notify()
    return True


# --------------------------------------------------------------------------- the payer


@dataclass
class Paid:
    """What became of a payment a test made."""

    ok: bool
    error_message: str | None = None
    charge_id: str | None = None
    update: dict[str, Any] | None = None  # the successful_payment message, for deliver_again


async def pay(user: User, invoice: SandboxMessage, *, timeout: float = CHECKOUT_TIMEOUT) -> Paid:
    """The user pays `invoice` (a message with an invoice in the user's chat): the bot gets
    a pre_checkout_query; when it answers ok, a successful_payment message follows."""
    st: BotState = user._state
    payments = payments_of(st)
    record = payments.invoices.get((invoice.chat_id, invoice.message_id))
    if record is None or invoice.chat_id != user.id:
        raise SandboxError(f"{invoice!r} is not an invoice in the private chat of {user!r}")
    number = next(payments.ids)
    checkout = CheckoutRecord(f"pcq{number}", user.id, record, time.monotonic())
    payments.checkouts[checkout.id] = checkout
    query = {
        "id": checkout.id,
        "from": user.record.to_api(),
        "currency": record.currency,
        "total_amount": record.total_amount,
        "invoice_payload": record.payload,
    }
    if st.enqueue("pre_checkout_query", query) is None:
        raise SandboxError("the bot does not receive pre_checkout_query updates")
    notifier = st.server.notifier
    if not await notifier.wait_for(lambda: checkout.answered, timeout):
        return Paid(ok=False, error_message="no answer to the pre-checkout query in time")
    if not checkout.ok:
        return Paid(ok=False, error_message=checkout.error_message)
    charge_id = f"stub_tg_{number}_{int(time.time())}"
    data = st.message_base(user.id, user.record.to_api(), None)
    data["successful_payment"] = {
        "currency": record.currency,
        "total_amount": record.total_amount,
        "invoice_payload": record.payload,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": f"stub_provider_{number}",
    }
    st.store(StoredMessage(user.id, data["message_id"], data, from_bot=False, service=True))
    st.enqueue("message", data)
    return Paid(ok=True, charge_id=charge_id, update=data)


def deliver_again(user: User, paid: Paid) -> None:
    """Telegram delivers the same successful_payment message once more."""
    if paid.update is None:
        raise SandboxError("nothing was paid")
    user._state.enqueue("message", paid.update)
