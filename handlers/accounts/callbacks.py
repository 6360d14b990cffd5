"""Callback data of My accounts and the linking conversation (one meaning per class)."""

import enum

from aiogram.filters.callback_data import CallbackData

from handlers.common.callbacks import DbId, PageNo


class AccountAction(enum.StrEnum):
    UNLINK = "u"  # ask to confirm
    UNLINK_YES = "uy"
    UNLINK_NO = "un"


class AccountCb(CallbackData, prefix="acc"):
    action: AccountAction
    account_id: DbId


class AccountsPageCb(CallbackData, prefix="accp"):
    page: PageNo


class SupplierCb(CallbackData, prefix="sup"):
    supplier_id: DbId


class LinkRoute(enum.StrEnum):
    ACCESS_CODE = "access_code"
    SMS = "sms"
    RESEND = "resend"
    OPERATOR = "operator"
    BACK = "back"  # the menu of routes again
    SKIP_PHOTO = "skip_photo"


class LinkRouteCb(CallbackData, prefix="lm"):
    route: LinkRoute


# --------------------------------------------------------------------------- organisations
class OrgAction(enum.StrEnum):
    START = "start"  # «I represent an organisation»
    SEND = "send"  # the pages are all there: send the request


class OrgCb(CallbackData, prefix="org"):
    action: OrgAction


class OrgBranchCb(CallbackData, prefix="orgb"):
    """A branch (КПП) of the organisation: an account of it (ids only), re-checked."""

    account_id: DbId


class OrgRequestAction(enum.StrEnum):
    WITHDRAW = "w"  # ask to confirm
    WITHDRAW_YES = "wy"
    KEEP = "wn"


class OrgRequestCb(CallbackData, prefix="orgw"):
    """The resident's own pending representative request (re-checked: theirs, pending)."""

    action: OrgRequestAction
    rep_id: DbId
