"""/start, consent and the phone (rules: bot/services/registration.py)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services.linking import LinkingService
from bot.services.registration import RegistrationService, Step, check_contact
from handlers.common import keyboards
from handlers.common.callbacks import ConsentAction, ConsentCb
from handlers.common.filters import HasContact, PrivateChat
from handlers.common.onboarding import (
    ask_phone,
    consent_keyboard,
    consent_text,
    resume,
    show_main_menu,
)
from handlers.common.states import Registration
from handlers.common.texts import offer_text
from handlers.registration import texts


async def start(
    message: Message, state: FSMContext, registration: RegistrationService, settings: Settings
) -> None:
    assert message.from_user is not None
    await state.clear()
    if await registration.step(message.from_user.id) is Step.CONSENT:
        await message.answer(
            texts.greeting(message.from_user.first_name), reply_markup=keyboards.remove()
        )
    await resume(message, state, registration, settings, message.from_user.id)


async def _consent_message(
    query: CallbackQuery, state: FSMContext, registration: RegistrationService, settings: Settings
) -> Message | None:
    """The consent message under the press, if the consent is still to be decided."""
    message = query.message
    if not isinstance(message, Message):
        await query.answer(_("This message is too old. Send /start."), show_alert=True)
        return None
    if await registration.step(query.from_user.id) is not Step.CONSENT:
        # a second press, or a button of an old message: nothing to decide any more
        await query.answer(_("Already done."))
        await message.edit_reply_markup(reply_markup=None)
        await resume(message, state, registration, settings, query.from_user.id)
        return None
    return message


async def agree(
    query: CallbackQuery, state: FSMContext, registration: RegistrationService, settings: Settings
) -> None:
    message = await _consent_message(query, state, registration, settings)
    if message is None:
        return
    await registration.give_consent(query.from_user.id, first_name=query.from_user.first_name)
    await query.answer(_("Thank you!"))
    await message.edit_text(
        consent_text(settings) + "\n\n" + _("✅ You agreed."), reply_markup=None
    )
    await ask_phone(message, state)


async def decline(
    query: CallbackQuery, state: FSMContext, registration: RegistrationService, settings: Settings
) -> None:
    message = await _consent_message(query, state, registration, settings)
    if message is None:
        return
    await state.clear()
    await query.answer()
    await message.edit_text(
        consent_text(settings) + "\n\n" + _("❌ You declined."), reply_markup=None
    )
    await message.answer(texts.declined(), reply_markup=keyboards.remove())


async def got_contact(
    message: Message,
    state: FSMContext,
    registration: RegistrationService,
    linking: LinkingService,
    i18n: I18n,
) -> None:
    assert message.from_user is not None and message.contact is not None
    check = check_contact(
        sender_id=message.from_user.id,
        contact_user_id=message.contact.user_id,
        phone_number=message.contact.phone_number,
    )
    if not check.ok or check.phone is None:
        await message.answer(
            texts.contact_refused(check.reason), reply_markup=keyboards.share_phone()
        )
        return
    await registration.save_phone(message.from_user.id, check.phone, locale=i18n.current_locale)
    await state.clear()
    await show_main_menu(message, _("Thank you, you are registered."))
    found = await linking.suggest_by_phone(message.from_user.id, check.phone)
    if found:
        await message.answer(offer_text(found), reply_markup=keyboards.suggested_accounts(found))
    else:  # nothing on file for this phone: the next step is one tap away
        await message.answer(texts.next_step(), reply_markup=keyboards.link_again())


async def phone_expected(message: Message) -> None:
    await message.answer(texts.phone_expected(), reply_markup=keyboards.share_phone())


async def consent_expected(message: Message) -> None:
    await message.answer(texts.consent_expected(), reply_markup=consent_keyboard())


def create_router() -> Router:
    router = Router(name="registration")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(start, CommandStart())
    router.callback_query.register(agree, ConsentCb.filter(F.action == ConsentAction.AGREE))
    router.callback_query.register(decline, ConsentCb.filter(F.action == ConsentAction.DECLINE))
    router.message.register(got_contact, StateFilter(Registration.phone), HasContact())
    router.message.register(phone_expected, StateFilter(Registration.phone))
    router.message.register(consent_expected, StateFilter(Registration.consent))
    return router
