"""Inline keyboards of support conversations."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.support.callbacks import RateCb, TicketAction, TicketCb


def close_ticket(ticket_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Close ticket #{id}").format(id=ticket_id),
        callback_data=TicketCb(action=TicketAction.CLOSE, ticket_id=ticket_id),
    )
    return kb.as_markup()


def rating(ticket_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for stars in range(1, 6):
        kb.button(text=f"{stars}⭐", callback_data=RateCb(ticket_id=ticket_id, stars=stars))
    kb.adjust(5)
    return kb.as_markup()
