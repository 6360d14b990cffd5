"""Callback data two or more features share: ids only (≤ 64 bytes), re-checked on every press.

A feature's own CallbackData lives in its package (handlers/<feature>/callbacks.py).
"""

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

#: a database id as a button may carry it: a forged one out of the column's range (INTEGER,
#: 32 bits on PostgreSQL) does not parse, so it never reaches a query
DbId = Annotated[int, Field(ge=0, le=2**31 - 1)]
#: a page number of a paged list (a forged huge one does not parse)
PageNo = Annotated[int, Field(ge=0, le=10_000)]


class CancelCb(CallbackData, prefix="cancel"):
    pass


class ConsentAction(enum.StrEnum):
    AGREE = "agree"
    DECLINE = "decline"


class ConsentCb(CallbackData, prefix="consent"):
    """Drawn wherever registration is resumed (common.onboarding), handled by registration."""

    action: ConsentAction


class SuggestedAccountCb(CallbackData, prefix="sug"):
    """One tap on an account offered after registration (its phone on file is the
    resident's): drawn by registration, handled by accounts."""

    account_id: DbId


class LinkAccountCb(CallbackData, prefix="link"):
    """«Link an account»: drawn by several features, handled by accounts."""


class SendReadingsCb(CallbackData, prefix="rdg"):
    """«Send readings» of an account: drawn by reminders (and the balance screen), handled by
    readings (which re-checks the account is the presser's)."""

    account_id: DbId


class PickPurpose(enum.StrEnum):
    """What the account picker was opened for (the feature that handles the choice)."""

    BALANCE = "b"
    READINGS = "r"


class AccountPickCb(CallbackData, prefix="pick"):
    purpose: PickPurpose
    account_id: DbId


class PickPageCb(CallbackData, prefix="pickp"):
    purpose: PickPurpose
    page: PageNo


class SettingsAction(enum.StrEnum):
    OPEN = "open"
    LANGUAGE = "lang"
    EMAIL = "email"  # handled by handlers/email
    DELETE = "delete"
    REMINDERS = "remind"  # meter-reading reminders on / off
    DELETE_YES = "delete_yes"
    DELETE_NO = "delete_no"


class SettingsCb(CallbackData, prefix="set"):
    """Settings' own buttons; the e-mail feature draws «Back» with it and handles EMAIL."""

    action: SettingsAction
