"""Settings: language, e-mail (see handlers/email.py), deleting the resident's data."""

from __future__ import annotations

import html

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.i18n import LanguageCache
from bot.services import registration
from bot.services.clock import Clock
from bot.services.phones import mask_phone
from handlers import keyboards, staff
from handlers.callbacks import LangCb, SettingsCb
from handlers.filters import ButtonText, PrivateChat
from handlers.gate import RegisteredOnly
from handlers.texts import BTN_SETTINGS
from storage.models import User
from storage.uow import UnitOfWork


def settings_text(user: User, language: str) -> str:
    email = user.email if user.email and user.email_verified_at else None
    return _("<b>Settings</b>\nLanguage: {language}\nPhone: {phone}\nE-mail: {email}").format(
        language=keyboards.LANGUAGE_NAMES.get(language, language),
        phone=mask_phone(user.phone) if user.phone else "—",
        email=html.escape(email) if email else _("not set"),
    )


def create_router() -> Router:
    router = Router(name="settings")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())

    @router.message(Command("settings"))
    @router.message(ButtonText(BTN_SETTINGS))
    async def open_settings(
        message: Message, state: FSMContext, resident: User, settings: Settings, i18n: I18n
    ) -> None:
        await state.clear()
        await message.answer(
            settings_text(resident, i18n.current_locale),
            reply_markup=keyboards.settings_menu(email_enabled=settings.email_enabled),
        )

    @router.callback_query(SettingsCb.filter())
    async def settings_action(
        query: CallbackQuery,
        callback_data: SettingsCb,
        state: FSMContext,
        resident: User,
        settings: Settings,
        clock: Clock,
        i18n: I18n,
        lang_cache: LanguageCache,
        uow: UnitOfWork,
        bot: Bot,
    ) -> None:
        message = query.message
        if not isinstance(message, Message):
            await query.answer(_("This message is too old. Open Settings again."), show_alert=True)
            return
        action = callback_data.action
        if action == "open":
            await query.answer()
            await message.edit_text(
                settings_text(resident, i18n.current_locale),
                reply_markup=keyboards.settings_menu(email_enabled=settings.email_enabled),
            )
        elif action == "lang":
            await query.answer()
            await message.edit_text(
                _("Choose the language:"), reply_markup=keyboards.languages(i18n.current_locale)
            )
        elif action == "delete":
            await query.answer()
            await message.edit_text(
                _(
                    "<b>Delete my data?</b>\n\nYour consent will be withdrawn; your phone, "
                    "e-mail, name and linked accounts will be deleted from the bot. Readings "
                    "you already sent and decisions on your requests stay with the company "
                    "without your personal data. To use the bot again you will register "
                    "from the beginning."
                ),
                reply_markup=keyboards.confirm_delete(),
            )
        elif action == "delete_yes":
            cards = await registration.delete_my_data(uow, query.from_user.id, clock=clock)
            await uow.commit()
            for chat_id, message_id in cards:
                await staff.erase_card(bot, i18n, settings, chat_id, message_id)
            lang_cache.forget(query.from_user.id)
            await state.clear()
            await query.answer()
            await message.edit_text(
                _("Your data has been deleted and your consent withdrawn."), reply_markup=None
            )
            await message.answer(
                _("Goodbye! If you want to use the cabinet again, send /start."),
                reply_markup=keyboards.remove(),
            )
        elif action == "delete_no":
            await query.answer(_("Nothing was deleted."))
            await message.edit_text(
                settings_text(resident, i18n.current_locale),
                reply_markup=keyboards.settings_menu(email_enabled=settings.email_enabled),
            )
        else:
            await query.answer(_("This button is not valid any more."), show_alert=True)

    @router.callback_query(LangCb.filter())
    async def choose_language(
        query: CallbackQuery,
        callback_data: LangCb,
        uow: UnitOfWork,
        settings: Settings,
        i18n: I18n,
        lang_cache: LanguageCache,
    ) -> None:
        code = callback_data.code
        if code not in keyboards.LANGUAGE_NAMES or not isinstance(query.message, Message):
            await query.answer(_("This button is not valid any more."), show_alert=True)
            return
        resident = await registration.set_language(uow, query.from_user.id, code)
        lang_cache.put(query.from_user.id, code)
        with i18n.use_locale(code):
            await query.answer(
                _("Language: {language}").format(language=keyboards.LANGUAGE_NAMES[code])
            )
            await query.message.edit_text(
                settings_text(resident, code),
                reply_markup=keyboards.settings_menu(email_enabled=settings.email_enabled),
            )
            await query.message.answer(
                _("Done, I will speak English now."), reply_markup=keyboards.main_menu()
            )

    return router
