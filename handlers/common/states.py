"""Every StatesGroup of the bot, in one place. Each state has a way out (/cancel, Cancel,
/start, and any main-menu button)."""

from aiogram.fsm.state import State, StatesGroup


class Registration(StatesGroup):
    consent = State()
    phone = State()


class Linking(StatesGroup):
    supplier = State()
    number = State()
    method = State()
    access_code = State()
    sms_code = State()
    request_name = State()
    request_address = State()
    request_photo = State()


class Representing(StatesGroup):
    """«I represent an organisation» (issue 14): ИНН → КПП → contract → proof."""

    inn = State()
    branch = State()  # several КПП on file: one is chosen with the buttons
    reference = State()  # the contract or account number
    name = State()
    position = State()
    pages = State()  # the power of attorney: PDF or images, up to 10 pages


class EmailSetup(StatesGroup):
    address = State()
    code = State()


class Readings(StatesGroup):
    value = State()  # a meter zone's value (or a photo) is expected
    confirm = State()  # an unusual value waits for «Yes, it is right» / «Type again»
    summary = State()  # Send / Edit / Cancel
    choose = State()  # which meter to type again


class StaffReject(StatesGroup):
    reason = State()


class BalanceSum(StatesGroup):
    """A sum the resident types: for a receipt, or for a payment in Telegram."""

    receipt = State()
    payment = State()


class Support(StatesGroup):
    """«Contact support»: every message goes to the operators (/cancel or a menu button
    leaves; the ticket stays open until an operator closes it)."""

    talking = State()
