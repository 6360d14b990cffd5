"""Settings → E-mail (rules: bot/services/profile.py).

Shown only when e-mail is enabled (SMTP_HOST and SMTP_FROM); a forged button otherwise gets
a polite "not available". The code is committed before the letter goes out; when the letter
cannot be sent the code is discarded and the resident is asked to try later. /cancel and
the Cancel buttons are handled by handlers/common (registered earlier).
"""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services.profile import EmailCode, EmailOutcome, Letter, ProfileService
from bot.services.registration import Resident
from handlers.common import keyboards as common_keyboards
from handlers.common.callbacks import SettingsAction, SettingsCb
from handlers.common.filters import HasText, PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.states import EmailSetup
from handlers.common.texts import code_problem_text, stale_button, wait_text
from handlers.email.keyboards import EmailAction, EmailCb, code_keyboard, email_menu

ADDRESS_KEY = "email_address"


def menu_text(email: str | None) -> str:
    if email:
        return _(
            "<b>E-mail</b>\nYour confirmed address: {email}\n\n"
            "We may send you notices and receipts there."
        ).format(email=html.escape(email))
    return _(
        "<b>E-mail</b>\nNo address yet. Add one to get notices and receipts by e-mail; "
        "we will send a code to confirm it."
    )


def letter() -> Letter:
    """The letter in the resident's language; the service fills {code} and {minutes}."""
    return Letter(
        subject=_("Your confirmation code"),
        body=_(
            "Your code to confirm this address in the cabinet bot: {code}\n\n"
            "It is valid for {minutes} minutes. If you did not ask for it, just ignore "
            "this letter."
        ),
    )


def unavailable() -> str:
    return _("E-mail is not available in this bot.")


def sent_text(result: EmailCode, minutes: int) -> str:
    """What the resident is told after asking for a code."""
    address = html.escape(result.address or "")
    if result.outcome is EmailOutcome.SENT:
        return _(
            "I have sent a code to {email}. Type it here; it is valid for {minutes} minutes.\n"
            "No letter? Check the spam folder."
        ).format(email=address, minutes=minutes)
    if result.outcome is EmailOutcome.INVALID:
        return _(
            "This does not look like an e-mail address. Please type it like "
            "<code>name@example.ru</code>, or press Cancel."
        )
    if result.outcome is EmailOutcome.ALREADY_VERIFIED:
        return _("This address is already confirmed.")
    if result.outcome is EmailOutcome.WAIT:
        return wait_text(result.wait_seconds)
    if result.outcome is EmailOutcome.TOO_MANY:
        return _(
            "Too many codes were sent to this address today. Please try again tomorrow, or use "
            "another address."
        )
    if result.outcome is EmailOutcome.DISABLED:
        return unavailable()
    return _("I could not send the letter right now. Please try again later; nothing was changed.")


async def _available(query: CallbackQuery, state: FSMContext, profile: ProfileService) -> bool:
    if profile.email_enabled:
        return True
    await state.clear()
    await query.answer(unavailable(), show_alert=True)
    return False


async def open_email(
    query: CallbackQuery, state: FSMContext, resident: Resident, profile: ProfileService
) -> None:
    if not await _available(query, state, profile):
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            menu_text(resident.email), reply_markup=email_menu(bool(resident.email))
        )


async def ask_address(query: CallbackQuery, state: FSMContext, profile: ProfileService) -> None:
    if not await _available(query, state, profile) or not isinstance(query.message, Message):
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_state(EmailSetup.address)
    await query.message.answer(
        _("Type your e-mail address, for example <code>name@example.ru</code>."),
        reply_markup=common_keyboards.cancel_reply(),
    )


async def remove(
    query: CallbackQuery, state: FSMContext, resident: Resident, profile: ProfileService
) -> None:
    if not await _available(query, state, profile) or not isinstance(query.message, Message):
        return
    if await profile.remove_email(resident.id):
        await query.answer(_("E-mail removed."))
    else:
        await query.answer(_("There is no e-mail to remove."))
    await state.clear()
    await query.message.edit_text(menu_text(None), reply_markup=email_menu(False))


async def resend(
    query: CallbackQuery, state: FSMContext, resident: Resident, profile: ProfileService
) -> None:
    if not await _available(query, state, profile) or not isinstance(query.message, Message):
        return
    address = (await state.get_data()).get(ADDRESS_KEY)
    if await state.get_state() != EmailSetup.code.state or not isinstance(address, str):
        await query.answer(stale_button(), show_alert=True)
        return
    wait = await profile.seconds_until_resend(address)
    if wait > 0:
        await query.answer(wait_text(wait), show_alert=True)
        return
    await query.answer()  # before the letter goes out: a slow server must not expire the press
    minutes = profile.codes.ttl_minutes
    result = await profile.send_code(resident.id, address, letter())
    await query.message.answer(sent_text(result, minutes), reply_markup=code_keyboard())


async def address_typed(
    message: Message, state: FSMContext, resident: Resident, profile: ProfileService
) -> None:
    minutes = profile.codes.ttl_minutes
    result = await profile.send_code(resident.id, message.text or "", letter())
    if result.outcome is EmailOutcome.DISABLED:
        await state.clear()
        await message.answer(sent_text(result, minutes), reply_markup=common_keyboards.main_menu())
        return
    if result.outcome is not EmailOutcome.SENT:
        await message.answer(sent_text(result, minutes))
        return
    await state.set_state(EmailSetup.code)
    await state.update_data({ADDRESS_KEY: result.address})
    await message.answer(sent_text(result, minutes), reply_markup=code_keyboard())


async def code_typed(
    message: Message, state: FSMContext, resident: Resident, profile: ProfileService
) -> None:
    address = (await state.get_data()).get(ADDRESS_KEY)
    if not isinstance(address, str):
        await state.clear()
        await message.answer(
            _("Something went wrong, please start again from Settings."),
            reply_markup=common_keyboards.main_menu(),
        )
        return
    rejected = await profile.confirm_email(resident.id, address, message.text or "")
    if rejected is not None:  # the counted attempt commits with the update
        await message.answer(
            code_problem_text(rejected.problem, rejected.attempts_left),
            reply_markup=code_keyboard(),
        )
        return
    await state.clear()
    await message.answer(
        _("Done! Your e-mail {email} is confirmed.").format(email=html.escape(address)),
        reply_markup=common_keyboards.main_menu(),
    )


async def not_text(message: Message) -> None:
    await message.answer(_("Please type it as text, or press Cancel."))


def create_router() -> Router:
    router = Router(name="email")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())
    on = router.callback_query.register
    on(open_email, SettingsCb.filter(F.action == SettingsAction.EMAIL))
    on(ask_address, EmailCb.filter(F.action == EmailAction.SET))
    on(remove, EmailCb.filter(F.action == EmailAction.REMOVE))
    on(resend, EmailCb.filter(F.action == EmailAction.RESEND))
    router.message.register(address_typed, StateFilter(EmailSetup.address), HasText())
    router.message.register(code_typed, StateFilter(EmailSetup.code), HasText())
    router.message.register(not_text, StateFilter(EmailSetup.address, EmailSetup.code))
    return router
