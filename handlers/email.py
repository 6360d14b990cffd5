"""Settings → E-mail: the resident types an address, gets a code there, types it back.

Shown only when e-mail is enabled (SMTP_HOST and SMTP_FROM); a forged button otherwise gets
a polite "not available". The code is committed before the letter goes out; when the letter
cannot be sent the code is discarded and the resident is asked to try later. /cancel and
the Cancel buttons are handled by handlers/common.py (registered earlier).
"""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from bot.integrations import DeliveryError, Gateways
from bot.services import codes, profile
from bot.services.clock import Clock
from bot.services.codes import CodeProblem, CodeRejected, ResendTooSoon, TooManyCodes
from handlers import keyboards
from handlers.callbacks import CancelCb, SettingsCb
from handlers.filters import PrivateChat
from handlers.gate import RegisteredOnly
from handlers.states import EmailSetup
from handlers.texts import BTN_CANCEL
from storage.models import User
from storage.uow import UnitOfWork

ADDRESS_KEY = "email_address"


class EmailCb(CallbackData, prefix="eml"):
    action: str  # set | remove | resend


# --------------------------------------------------------------------------- keyboards
def email_menu(has_email: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if has_email:
        kb.button(text=_("✏️ Change e-mail"), callback_data=EmailCb(action="set"))
        kb.button(text=_("🗑 Remove e-mail"), callback_data=EmailCb(action="remove"))
    else:
        kb.button(text=_("➕ Add e-mail"), callback_data=EmailCb(action="set"))
    kb.button(text=_("⬅️ Back"), callback_data=SettingsCb(action="open"))
    kb.adjust(1)
    return kb.as_markup()


def code_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔁 Send a new code"), callback_data=EmailCb(action="resend"))
    kb.button(text=_("✏️ Another address"), callback_data=EmailCb(action="set"))
    kb.button(text=_(BTN_CANCEL), callback_data=CancelCb())
    kb.adjust(1)
    return kb.as_markup()


# --------------------------------------------------------------------------- texts
def menu_text(user: User) -> str:
    address = profile.verified_email(user)
    if address:
        return _(
            "<b>E-mail</b>\nYour confirmed address: {email}\n\n"
            "We may send you notices and receipts there."
        ).format(email=html.escape(address))
    return _(
        "<b>E-mail</b>\nNo address yet. Add one to get notices and receipts by e-mail; "
        "we will send a code to confirm it."
    )


def problem_text(problem: CodeRejected) -> str:
    if problem.problem is CodeProblem.WRONG:
        return _("That is not the code. Attempts left: {left}.").format(
            left=problem.attempts_left or 0
        )
    if problem.problem is CodeProblem.EXPIRED:
        return _("This code has expired. Press «Send a new code».")
    if problem.problem is CodeProblem.USED:
        return _("This code has already been used. Press «Send a new code» to get another one.")
    if problem.problem is CodeProblem.EXHAUSTED:
        return _("Too many wrong attempts: this code no longer works. Press «Send a new code».")
    return _("I have no code for this address. Press «Send a new code».")


def wait_text(seconds: int) -> str:
    return _("A new code can be sent in {seconds} s. Please wait a little.").format(seconds=seconds)


def too_many_text() -> str:
    return _(
        "Too many codes were sent to this address today. Please try again tomorrow, or use "
        "another address."
    )


# --------------------------------------------------------------------------- sending
async def send_code(
    uow: UnitOfWork,
    gateways: Gateways,
    settings: Settings,
    clock: Clock,
    resident: User,
    raw_address: str,
) -> tuple[str | None, str]:
    """Issue, commit, deliver. Returns (address if sent, what to tell the resident)."""
    try:
        pending = await profile.set_email_pending(
            uow, resident.id, raw_address, clock=clock, ttl_minutes=settings.code_ttl_minutes
        )
    except profile.InvalidEmail:
        return None, _(
            "This does not look like an e-mail address. Please type it like "
            "<code>name@example.ru</code>, or press Cancel."
        )
    except profile.AlreadyVerified:
        return None, _("This address is already confirmed.")
    except ResendTooSoon as exc:
        return None, wait_text(exc.wait_seconds)
    except TooManyCodes:
        return None, too_many_text()
    await uow.commit()  # the code is durable before it leaves
    email = gateways.email
    try:
        if email is None:
            raise DeliveryError("e-mail is not configured")
        await email.send_email(
            pending.address,
            _("Your confirmation code"),
            _(
                "Your code to confirm this address in the cabinet bot: {code}\n\n"
                "It is valid for {minutes} minutes. If you did not ask for it, just ignore "
                "this letter."
            ).format(code=pending.code.code, minutes=settings.code_ttl_minutes),
        )
    except DeliveryError:
        await codes.discard_code(uow, pending.code.id, clock=clock)
        return None, _(
            "I could not send the letter right now. Please try again later; nothing was changed."
        )
    return pending.address, _(
        "I have sent a code to {email}. Type it here; it is valid for {minutes} minutes.\n"
        "No letter? Check the spam folder."
    ).format(email=html.escape(pending.address), minutes=settings.code_ttl_minutes)


def create_router() -> Router:
    router = Router(name="email")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())

    def available(settings: Settings, gateways: Gateways) -> bool:
        return settings.email_enabled and gateways.email is not None

    async def not_available(query: CallbackQuery, state: FSMContext) -> None:
        await state.clear()
        await query.answer(_("E-mail is not available in this bot."), show_alert=True)

    @router.callback_query(SettingsCb.filter(F.action == "email"))
    async def open_email(
        query: CallbackQuery,
        state: FSMContext,
        resident: User,
        settings: Settings,
        gateways: Gateways,
    ) -> None:
        if not available(settings, gateways):
            await not_available(query, state)
            return
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                menu_text(resident), reply_markup=email_menu(bool(profile.verified_email(resident)))
            )

    @router.callback_query(EmailCb.filter())
    async def email_action(
        query: CallbackQuery,
        callback_data: EmailCb,
        state: FSMContext,
        resident: User,
        settings: Settings,
        gateways: Gateways,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        message = query.message
        if not available(settings, gateways):
            await not_available(query, state)
            return
        if not isinstance(message, Message):
            await query.answer(_("This message is too old. Open Settings again."), show_alert=True)
            return
        action = callback_data.action
        if action == "set":
            await query.answer()
            await message.edit_reply_markup(reply_markup=None)
            await state.set_state(EmailSetup.address)
            await message.answer(
                _("Type your e-mail address, for example <code>name@example.ru</code>."),
                reply_markup=keyboards.cancel_reply(),
            )
        elif action == "remove":
            if not resident.email:
                await query.answer(_("There is no e-mail to remove."))
            else:
                await profile.remove_email(uow, resident.id, clock=clock)
                await query.answer(_("E-mail removed."))
            await state.clear()
            await message.edit_text(menu_text(resident), reply_markup=email_menu(False))
        elif action == "resend":
            data = await state.get_data()
            address = data.get(ADDRESS_KEY)
            if await state.get_state() != EmailSetup.code.state or not isinstance(address, str):
                await query.answer(_("This button is not valid any more."), show_alert=True)
                return
            wait = await profile.seconds_until_resend(uow, address, clock=clock)
            if wait > 0:
                await query.answer(wait_text(wait), show_alert=True)
                return
            await query.answer()
            _sent, text = await send_code(uow, gateways, settings, clock, resident, address)
            await message.answer(text, reply_markup=code_keyboard())
        else:
            await query.answer(_("This button is not valid any more."), show_alert=True)

    @router.message(EmailSetup.address, F.text)
    async def address_typed(
        message: Message,
        state: FSMContext,
        resident: User,
        settings: Settings,
        gateways: Gateways,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        if gateways.email is None or not settings.email_enabled:
            await state.clear()
            await message.answer(
                _("E-mail is not available in this bot."), reply_markup=keyboards.main_menu()
            )
            return
        sent, text = await send_code(uow, gateways, settings, clock, resident, message.text or "")
        if sent is None:
            await message.answer(text)
            return
        await state.set_state(EmailSetup.code)
        await state.update_data({ADDRESS_KEY: sent})
        await message.answer(text, reply_markup=code_keyboard())

    @router.message(EmailSetup.code, F.text)
    async def code_typed(
        message: Message,
        state: FSMContext,
        resident: User,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        address = (await state.get_data()).get(ADDRESS_KEY)
        if not isinstance(address, str):
            await state.clear()
            await message.answer(
                _("Something went wrong, please start again from Settings."),
                reply_markup=keyboards.main_menu(),
            )
            return
        try:
            await profile.confirm_email(uow, resident.id, address, message.text or "", clock=clock)
        except CodeRejected as rejected:
            # caught, so the update's unit of work commits the counted attempt
            await message.answer(problem_text(rejected), reply_markup=code_keyboard())
            return
        await state.clear()
        await message.answer(
            _("Done! Your e-mail {email} is confirmed.").format(email=html.escape(address)),
            reply_markup=keyboards.main_menu(),
        )

    @router.message(EmailSetup.address)
    @router.message(EmailSetup.code)
    async def not_text(message: Message) -> None:
        await message.answer(_("Please type it as text, or press Cancel."))

    return router
