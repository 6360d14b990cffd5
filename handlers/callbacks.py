"""Typed callback data: ids and short actions only (≤ 64 bytes), re-checked on every press."""

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

#: a database id as a button may carry it: a forged one out of the column's range (INTEGER,
#: 32 bits on PostgreSQL) does not parse, so it never reaches a query
DbId = Annotated[int, Field(ge=0, le=2**31 - 1)]


class ConsentCb(CallbackData, prefix="consent"):
    action: str  # agree | decline


class CancelCb(CallbackData, prefix="cancel"):
    pass


class SettingsCb(CallbackData, prefix="set"):
    action: str  # open | lang | email | delete | delete_yes | delete_no


class LangCb(CallbackData, prefix="lang"):
    code: str


class AccountCb(CallbackData, prefix="acc"):
    action: str  # link | unlink | unlink_yes | unlink_no | suggest | open
    account_id: DbId = 0


class SupplierCb(CallbackData, prefix="sup"):
    supplier_id: DbId


class LinkMethodCb(CallbackData, prefix="lm"):
    method: str  # access_code | sms | operator | resend | skip_photo


class StaffLinkCb(CallbackData, prefix="slk"):
    action: str  # approve | reject
    link_id: DbId
