"""Where registration stands, said to the resident: consent, phone, or the main menu.

Shared by the registration feature, the gate in front of every menu feature, /cancel and
the fallback, so none of them imports another.
"""

from __future__ import annotations

import html

from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from bot.services.registration import RegistrationService, Step
from handlers.common import keyboards
from handlers.common.callbacks import ConsentAction, ConsentCb
from handlers.common.states import Registration
from handlers.common.texts import main_menu_prompt


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


def consent_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ I agree"), callback_data=ConsentCb(action=ConsentAction.AGREE))
    kb.button(text=_("❌ I decline"), callback_data=ConsentCb(action=ConsentAction.DECLINE))
    kb.adjust(2)
    return kb.as_markup()


async def show_main_menu(message: Message, text: str | None = None) -> None:
    await message.answer(text or main_menu_prompt(), reply_markup=keyboards.main_menu())


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
    message: Message,
    state: FSMContext,
    registration: RegistrationService,
    settings: Settings,
    user_id: int,
) -> Step:
    """Put the resident where registration stands: consent, phone or the main menu."""
    step = await registration.step(user_id)
    if step is Step.CONSENT:
        await state.set_state(Registration.consent)
        await message.answer(consent_text(settings), reply_markup=consent_keyboard())
    elif step is Step.PHONE:
        await ask_phone(message, state)
    else:
        await state.clear()
        await show_main_menu(message)
    return step
