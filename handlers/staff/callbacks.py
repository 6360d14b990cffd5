"""Callback data of the staff commands' buttons (ids only; re-checked on every press)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from handlers.common.callbacks import DbId, PageNo


class FindPageCb(CallbackData, prefix="sfind"):
    """A page of /find's results (the query is the message the results reply to)."""

    page: PageNo


class NoticeAction(enum.StrEnum):
    SEND = "send"
    CANCEL = "cancel"


class NoticeCb(CallbackData, prefix="snote"):
    action: NoticeAction
    notice_id: DbId


#: every prefix of the staff chat's buttons: pressed anywhere else, they are refused
#: (srep/srepr: representative cards, handlers/staff/representatives.py; tkt: a ticket's
#: card, handlers/support/callbacks.py)
STAFF_PREFIXES = ("slk", "srj", "srd", "sfind", "snote", "srep", "srepr", "tkt")
