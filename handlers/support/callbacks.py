"""Callback data of support conversations (ids only; re-checked by the service)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class TicketAction(enum.StrEnum):
    CLOSE = "close"


class TicketCb(CallbackData, prefix="tkt"):
    """An operator's button on a ticket's card in the staff chat."""

    action: TicketAction
    ticket_id: int


class RateCb(CallbackData, prefix="rate"):
    """A resident's rating of a closed ticket (1–5)."""

    ticket_id: int
    stars: int
