"""/start, consent to the processing of personal data, sharing the phone."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services import registration
from bot.services.clock import Clock
from bot.services.registration import Step
from handlers import keyboards
from handlers.accounts import offer_accounts_by_phone
from handlers.callbacks import ConsentCb
from handlers.filters import PrivateChat
from handlers.states import Registration
from storage.uow import UnitOfWork


def consent_text(settings: Settings) -> str:
    text = _(
        "<b>Consent to the processing of personal data</b>\n\n"
        "Under Federal Law No. 152-FZ «On Personal Data» we ask for your consent before "
        "we store anything about you.\n\n"
        "<b>What we process:</b> your Telegram id and name, your phone number, the personal "
        "accounts you link and their addresses, the meter readings and messages you send.\n"
        "<b>Why:</b> to confirm that an account is yours, to show charges and payments, to "
        "accept meter readings and to answer your questions.\n"
        "<b>For how long:</b> while you use the bot. You can withdraw your consent at any "
        "time in Settings → «Delete my data»; what the law obliges us to keep (submitted "
        "readings, decisions on your requests) is kept without your personal data."
    )
    if settings.privacy_policy_url:
        text += "\n\n" + _('Full text: <a href="{url}">privacy policy</a>.').format(
            url=html.escape(str(settings.privacy_policy_url), quote=True)
        )
    return text


async def show_main_menu(message: Message, text: str | None = None) -> None:
    await message.answer(
        text or _("Main menu. Choose what you need."), reply_markup=keyboards.main_menu()
    )


async def ask_phone(message: Message, state: FSMContext) -> None:
    await state.set_state(Registration.phone)
    await message.answer(
        _(
            "Now share your phone number with the button below. We use it to find the "
            "personal accounts registered to you."
        ),
        reply_markup=keyboards.share_phone(),
    )


async def resume(
    message: Message, state: FSMContext, uow: UnitOfWork, settings: Settings, user_id: int
) -> Step:
    """Put the resident where registration stands: consent, phone or the main menu."""
    step = await registration.current_step(uow, user_id, settings.consent_version)
    if step is Step.CONSENT:
        await state.set_state(Registration.consent)
        await message.answer(consent_text(settings), reply_markup=keyboards.consent())
    elif step is Step.PHONE:
        await ask_phone(message, state)
    else:
        await state.clear()
        await show_main_menu(message)
    return step


def create_router() -> Router:
    router = Router(name="registration")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())

    @router.message(CommandStart())
    async def start(
        message: Message, state: FSMContext, uow: UnitOfWork, settings: Settings
    ) -> None:
        assert message.from_user is not None
        await state.clear()
        step = await registration.current_step(uow, message.from_user.id, settings.consent_version)
        if step is Step.CONSENT:
            name = html.escape(message.from_user.first_name or "")
            await message.answer(
                _(
                    "Hello, {name}! I am the self-service cabinet of your utility company.\n"
                    "Here you can see what you owe, get a receipt, send meter readings and "
                    "ask a question."
                ).format(name=name),
                reply_markup=keyboards.remove(),
            )
        await resume(message, state, uow, settings, message.from_user.id)

    @router.callback_query(ConsentCb.filter())
    async def consent_answer(
        query: CallbackQuery,
        callback_data: ConsentCb,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
    ) -> None:
        message = query.message
        if not isinstance(message, Message):
            await query.answer(_("This message is too old. Send /start."), show_alert=True)
            return
        step = await registration.current_step(uow, query.from_user.id, settings.consent_version)
        if step is not Step.CONSENT:
            # a second press, or a button of an old message: nothing to decide any more
            await query.answer(_("Already done."))
            await message.edit_reply_markup(reply_markup=None)
            await resume(message, state, uow, settings, query.from_user.id)
            return
        if callback_data.action == "agree":
            await registration.give_consent(
                uow,
                query.from_user.id,
                version=settings.consent_version,
                clock=clock,
                first_name=query.from_user.first_name,
            )
            await query.answer(_("Thank you!"))
            await message.edit_text(
                consent_text(settings) + "\n\n" + _("✅ You agreed."), reply_markup=None
            )
            await ask_phone(message, state)
        elif callback_data.action == "decline":
            await state.clear()
            await query.answer()
            await message.edit_text(
                consent_text(settings) + "\n\n" + _("❌ You declined."), reply_markup=None
            )
            await message.answer(
                _(
                    "Without your consent we cannot store your phone or show your accounts, "
                    "so the cabinet is not available. Nothing about you has been saved. "
                    "If you change your mind, send /start."
                ),
                reply_markup=keyboards.remove(),
            )
        else:
            await query.answer(_("This button is not valid any more."), show_alert=True)

    @router.message(Registration.phone, F.contact)
    async def got_contact(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
    ) -> None:
        assert message.from_user is not None and message.contact is not None
        check = registration.check_contact(
            sender_id=message.from_user.id,
            contact_user_id=message.contact.user_id,
            phone_number=message.contact.phone_number,
        )
        if not check.ok:
            if check.reason == "not_own":
                text = _(
                    "This is not your contact. Please share <b>your own</b> number with the "
                    "«Share my phone number» button below."
                )
            else:
                text = _(
                    "This phone number does not look valid. Please share your number with "
                    "the button below."
                )
            await message.answer(text, reply_markup=keyboards.share_phone())
            return
        assert check.phone is not None
        await registration.save_phone(uow, message.from_user.id, check.phone, clock=clock)
        await state.clear()
        await show_main_menu(message, _("Thank you, you are registered."))
        await offer_accounts_by_phone(message, uow, settings, check.phone)

    @router.message(Registration.phone)
    async def phone_expected(message: Message) -> None:
        await message.answer(
            _(
                "I need your phone number, sent with the «Share my phone number» button "
                "below — a typed number cannot be checked. Or press «Cancel»."
            ),
            reply_markup=keyboards.share_phone(),
        )

    @router.message(Registration.consent)
    async def consent_expected(message: Message, settings: Settings) -> None:
        await message.answer(
            _("Please answer the consent request first: «I agree» or «I decline»."),
            reply_markup=keyboards.consent(),
        )

    return router
