"""Settings: language and deleting the resident's data (rules: bot/services/registration.py)."""

from __future__ import annotations

import html
from dataclasses import replace

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import LanguageCache
from bot.services.phones import mask_phone
from bot.services.profile import ProfileService
from bot.services.readings import ReadingsService
from bot.services.registration import RegistrationService, Resident
from handlers.common import keyboards as common_keyboards
from handlers.common.callbacks import SettingsAction, SettingsCb
from handlers.common.filters import PrivateChat
from handlers.common.gate import RegisteredOnly
from handlers.common.main_menu import MenuItem
from handlers.common.texts import BTN_SETTINGS, stale_button
from handlers.settings import keyboards
from handlers.settings.keyboards import LANGUAGE_NAMES, LangCb


def settings_text(resident: Resident, language: str, *, email_enabled: bool) -> str:
    text = _("<b>Settings</b>\nLanguage: {language}\nPhone: {phone}").format(
        language=LANGUAGE_NAMES.get(language, language),
        phone=mask_phone(resident.phone) if resident.phone else "—",
    )
    if email_enabled or resident.email:  # no «not set» where it cannot be set
        text += "\n" + _("E-mail: {email}").format(
            email=html.escape(resident.email) if resident.email else _("not set")
        )
    return (
        text
        + "\n"
        + (
            _("Meter-reading reminders: on")
            if resident.reminders
            else _("Meter-reading reminders: off")
        )
    )


def settings_menu(resident: Resident, profile: ProfileService) -> InlineKeyboardMarkup:
    return keyboards.settings_menu(
        email_enabled=profile.email_enabled, reminders=resident.reminders
    )


async def open_settings(
    message: Message, state: FSMContext, resident: Resident, profile: ProfileService, i18n: I18n
) -> None:
    await state.clear()
    await message.answer(
        settings_text(resident, i18n.current_locale, email_enabled=profile.email_enabled),
        reply_markup=settings_menu(resident, profile),
    )


async def _message_of(query: CallbackQuery) -> Message | None:
    if isinstance(query.message, Message):
        return query.message
    await query.answer(_("This message is too old. Open Settings again."), show_alert=True)
    return None


async def back_to_settings(
    query: CallbackQuery, resident: Resident, profile: ProfileService, i18n: I18n
) -> None:
    message = await _message_of(query)
    if message is None:
        return
    await query.answer()
    await message.edit_text(
        settings_text(resident, i18n.current_locale, email_enabled=profile.email_enabled),
        reply_markup=settings_menu(resident, profile),
    )


async def language_menu(query: CallbackQuery, i18n: I18n) -> None:
    message = await _message_of(query)
    if message is None:
        return
    await query.answer()
    await message.edit_text(
        _("Choose the language:"), reply_markup=keyboards.languages(i18n.current_locale)
    )


async def ask_delete(query: CallbackQuery) -> None:
    message = await _message_of(query)
    if message is None:
        return
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


async def delete(
    query: CallbackQuery,
    state: FSMContext,
    registration: RegistrationService,
    lang_cache: LanguageCache,
) -> None:
    message = await _message_of(query)
    if message is None:
        return
    await query.answer()  # before the staff chat is cleaned: that may be slow
    await registration.delete_my_data(query.from_user.id)
    lang_cache.forget(query.from_user.id)
    await state.clear()
    await message.edit_text(
        _("Your data has been deleted and your consent withdrawn."), reply_markup=None
    )
    await message.answer(
        _("Goodbye! If you want to use the cabinet again, send /start."),
        reply_markup=common_keyboards.remove(),
    )


async def keep(
    query: CallbackQuery, resident: Resident, profile: ProfileService, i18n: I18n
) -> None:
    message = await _message_of(query)
    if message is None:
        return
    await query.answer(_("Nothing was deleted."))
    await message.edit_text(
        settings_text(resident, i18n.current_locale, email_enabled=profile.email_enabled),
        reply_markup=settings_menu(resident, profile),
    )


async def choose_language(
    query: CallbackQuery,
    callback_data: LangCb,
    registration: RegistrationService,
    profile: ProfileService,
    i18n: I18n,
    lang_cache: LanguageCache,
) -> None:
    code = callback_data.code
    if code not in LANGUAGE_NAMES or not isinstance(query.message, Message):
        await query.answer(stale_button(), show_alert=True)
        return
    resident = await registration.set_language(query.from_user.id, code)
    lang_cache.put(query.from_user.id, code)
    with i18n.use_locale(code):
        await query.answer(_("Language: {language}").format(language=LANGUAGE_NAMES[code]))
        await query.message.edit_text(
            settings_text(resident, code, email_enabled=profile.email_enabled),
            reply_markup=settings_menu(resident, profile),
        )
        await query.message.answer(
            _("Done, I will speak English now."), reply_markup=common_keyboards.main_menu()
        )


async def toggle_reminders(
    query: CallbackQuery,
    resident: Resident,
    readings: ReadingsService,
    profile: ProfileService,
    i18n: I18n,
) -> None:
    """Meter-reading reminders on or off (the reminders skip residents who turned them off)."""
    message = await _message_of(query)
    if message is None:
        return
    on = await readings.set_reminders(resident.id, not resident.reminders)
    await query.answer(_("Reminders are on.") if on else _("Reminders are off."))
    resident = replace(resident, reminders=on)
    await message.edit_text(
        settings_text(resident, i18n.current_locale, email_enabled=profile.email_enabled),
        reply_markup=settings_menu(resident, profile),
    )


#: the main-menu item of this feature (handlers/common/main_menu.py)
MENU_ITEM: MenuItem = (BTN_SETTINGS, open_settings)


def create_router() -> Router:
    router = Router(name="settings")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())
    router.message.register(open_settings, Command("settings"))
    on = router.callback_query.register
    on(back_to_settings, SettingsCb.filter(F.action == SettingsAction.OPEN))
    on(language_menu, SettingsCb.filter(F.action == SettingsAction.LANGUAGE))
    on(ask_delete, SettingsCb.filter(F.action == SettingsAction.DELETE))
    on(toggle_reminders, SettingsCb.filter(F.action == SettingsAction.REMINDERS))
    on(delete, SettingsCb.filter(F.action == SettingsAction.DELETE_YES))
    on(keep, SettingsCb.filter(F.action == SettingsAction.DELETE_NO))
    on(choose_language, LangCb.filter())
    return router
