"""Keyboards of Balance."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.balance import Statement
from handlers.balance import texts
from handlers.balance.callbacks import BalanceAction, BalanceCb, PeriodsPageCb, ServiceReceiptCb
from handlers.common.callbacks import SendReadingsCb
from handlers.common.texts import BTN_SEND_READINGS

#: months per page of the month picker (4 rows of 3)
PERIODS_PAGE = 12
#: services offered one by one in the receipt menu (the rest: the amount due covers them)
MAX_SERVICE_BUTTONS = 10
LABEL_LIMIT = 48


def _label(text: str) -> str:
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1] + "…"


def account_actions(account_id: int) -> list[InlineKeyboardButton]:
    """Buttons other features put under an account's balance.

    «📟 Send readings» (the seeds' gas cabinet lets a resident send readings while paying):
    its callback data and label live in handlers/common, so that no feature imports another;
    the readings feature handles the press. Drawn above «Other account», one per row.
    """
    return [
        InlineKeyboardButton(
            text=_(BTN_SEND_READINGS),
            callback_data=SendReadingsCb(account_id=account_id).pack(),
        )
    ]


def balance(
    statement: Statement,
    *,
    can_pay: bool,
    several_accounts: bool,
    extra: Sequence[InlineKeyboardButton] = (),
) -> InlineKeyboardMarkup:
    """Under a month's balance: receipt, history, pay, another month, `extra`, another account.

    Rows drawn directly, not with InlineKeyboardBuilder: this keyboard goes with every
    press of «💳 Баланс», and the builder's copies and checks cost a tenth of the press."""
    account_id, period = statement.account.id, statement.period or ""

    def button(text: str, action: BalanceAction, with_period: bool = False) -> InlineKeyboardButton:
        data = BalanceCb(action=action, account_id=account_id, period=period if with_period else "")
        return InlineKeyboardButton(text=text, callback_data=data.pack())

    rows: list[list[InlineKeyboardButton]] = []
    if statement.period is not None:
        rows.append([button(_("🧾 Receipt"), BalanceAction.RECEIPT, with_period=True),
                     button(_("📈 History"), BalanceAction.HISTORY)])  # fmt: skip
        if can_pay:
            rows.append([button(_("💳 Pay in Telegram"), BalanceAction.PAY)])
        if len(statement.periods) > 1:
            rows.append([button(_("🗓 Another month"), BalanceAction.PERIODS, with_period=True)])
    rows.extend([extra_button] for extra_button in extra)
    if several_accounts:
        rows.append([button(_("🏠 Another account"), BalanceAction.ACCOUNTS)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def periods(statement: Statement, page: int = 0) -> InlineKeyboardMarkup:
    """The months with charges, newest first, paged; the month shown is marked."""
    account_id, shown = statement.account.id, statement.period or ""
    months = list(statement.periods)
    pages = max(1, -(-len(months) // PERIODS_PAGE))
    page = min(max(page, 0), pages - 1)
    kb = InlineKeyboardBuilder()
    for period in months[page * PERIODS_PAGE : (page + 1) * PERIODS_PAGE]:
        mark = "• " if period == shown else ""
        kb.button(
            text=mark + texts.short_month(period),
            callback_data=BalanceCb(
                action=BalanceAction.SHOW, account_id=account_id, period=period
            ),
        )
    kb.adjust(3)
    if pages > 1:
        nav = InlineKeyboardBuilder()
        if page > 0:
            nav.button(
                text="◀️",
                callback_data=PeriodsPageCb(account_id=account_id, period=shown, page=page - 1),
            )
        nav.button(
            text=f"{page + 1}/{pages}",
            callback_data=PeriodsPageCb(account_id=account_id, period=shown, page=page),
        )
        if page < pages - 1:
            nav.button(
                text="▶️",
                callback_data=PeriodsPageCb(account_id=account_id, period=shown, page=page + 1),
            )
        kb.attach(nav)
    kb.row(_back(account_id, shown))
    return kb.as_markup()


def _back(account_id: int, period: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("⬅️ Back"),
        callback_data=BalanceCb(
            action=BalanceAction.SHOW, account_id=account_id, period=period
        ).pack(),
    )


def receipt_menu(statement: Statement) -> InlineKeyboardMarkup:
    """The amount due, each service with something to pay, a typed sum, back."""
    account_id, period = statement.account.id, statement.period or ""
    kb = InlineKeyboardBuilder()
    if statement.to_pay > 0:
        kb.button(
            text=_("Amount due: {amount}").format(amount=texts.money(statement.to_pay)),
            callback_data=BalanceCb(
                action=BalanceAction.RECEIPT_DUE, account_id=account_id, period=period
            ),
        )
    owed = [line for line in statement.lines if line.due > 0][:MAX_SERVICE_BUTTONS]
    for line in owed:
        kb.button(
            text=_label(f"{line.service}: {texts.money(line.due)}"),
            callback_data=ServiceReceiptCb(
                account_id=account_id, charge_id=line.charge_id, period=period
            ),
        )
    kb.button(
        text=_("✏️ Another sum"),
        callback_data=BalanceCb(
            action=BalanceAction.RECEIPT_SUM, account_id=account_id, period=period
        ),
    )
    kb.adjust(1)
    kb.row(_back(account_id, period))
    return kb.as_markup()


def pay_menu(statement: Statement) -> InlineKeyboardMarkup:
    account_id = statement.account.id
    kb = InlineKeyboardBuilder()
    if statement.balance_now > 0:
        kb.button(
            text=_("Pay the debt: {amount}").format(amount=texts.money(statement.balance_now)),
            callback_data=BalanceCb(action=BalanceAction.PAY_DUE, account_id=account_id),
        )
    kb.button(
        text=_("✏️ Another sum"),
        callback_data=BalanceCb(action=BalanceAction.PAY_SUM, account_id=account_id),
    )
    kb.adjust(1)
    kb.row(_back(account_id, statement.period or ""))
    return kb.as_markup()
