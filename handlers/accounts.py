"""My accounts and linking an account (rules: bot/services/linking.py; README "Linking")."""

from __future__ import annotations

import html
import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.integrations import Gateways
from bot.services import linking
from bot.services.clock import Clock
from bot.services.codes import CodeProblem
from bot.services.linking import LinkResult, LinkView, Outcome
from handlers import keyboards, staff
from handlers.callbacks import AccountCb, LinkMethodCb, SupplierCb
from handlers.filters import ButtonText, PrivateChat
from handlers.states import Linking
from handlers.texts import (
    BTN_ACCOUNTS,
    BTN_BALANCE,
    BTN_READINGS,
    BTN_SETTINGS,
    BTN_SUPPORT,
)
from storage.models import LinkStatus, User
from storage.uow import UnitOfWork

log = logging.getLogger("kabinet.accounts")

#: main-menu buttons that leave the linking conversation (handled by their own routers)
OTHER_MENU_BUTTONS = (BTN_BALANCE, BTN_READINGS, BTN_SUPPORT, BTN_SETTINGS)


class OtherMenuButton(Filter):
    def __init__(self, *, invert: bool = False) -> None:
        self.invert = invert

    async def __call__(self, message: Message, i18n: I18n) -> bool:
        for msgid in OTHER_MENU_BUTTONS:
            if await ButtonText(msgid)(message, i18n):
                return not self.invert
        return self.invert


# --------------------------------------------------------------------------- texts
def _esc(value: str | None) -> str:
    return html.escape(value or "")


def locked_text(result: LinkResult) -> str:
    assert result.unlock_at is not None
    return _(
        "Too many unsuccessful attempts today. For your safety, linking accounts is paused "
        "until {time} (Moscow time)."
    ).format(time=staff.moscow_time(result.unlock_at))


#: accounts per page of «My accounts»: a page stays far below Telegram's 4096 characters
PAGE_SIZE = 8


def _page(views: list[LinkView], page: int) -> tuple[list[LinkView], int, int]:
    """The views of one page, that page (clamped) and the number of pages."""
    pages = max(1, -(-len(views) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return views[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], page, pages


def accounts_text(views: list[LinkView], page: int = 0) -> str:
    if not views:
        return _(
            "<b>My accounts</b>\n\nNo accounts are linked yet. Press «Link an account» and "
            "have your receipt at hand: you will need the personal account number."
        )
    shown, page, pages = _page(views, page)
    lines = [_("<b>My accounts</b>")]
    if pages > 1:
        lines[0] += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    for view in shown:
        head = _("{supplier}, account № {number}").format(
            supplier=_esc(view.supplier_name), number=_esc(view.number)
        )
        if view.status is LinkStatus.ACTIVE:
            lines.append(f"\n🏠 {head}\n{_esc(view.address) or '—'}")
        elif view.status is LinkStatus.PENDING:
            lines.append(f"\n⏳ {head}\n" + _("Waiting for an operator to check the request."))
        else:
            lines.append(
                f"\n❌ {head}\n"
                + _("Request rejected. Reason: {reason}").format(
                    reason=staff.reason_text(view.reason)
                )
            )
    return "\n".join(lines)


def accounts_markup(views: list[LinkView], page: int = 0) -> Any:
    shown, page, pages = _page(views, page)
    return keyboards.my_accounts(
        [(v.account_id, v.number, v.status.value) for v in shown], page=page, pages=pages
    )


def linked_text(result: LinkResult) -> str:
    assert result.account is not None
    return _(
        "✅ Account № {number} ({supplier}) is linked.\nAddress: {address}\n\n"
        "You will find it in «My accounts»."
    ).format(
        number=_esc(result.account.number),
        supplier=_esc(result.account.supplier_name),
        address=_esc(result.account.address) or "—",
    )


def routes_text(number: str) -> str:
    return _(
        "Account № <code>{number}</code>. How would you like to confirm that it is yours?\n\n"
        "• the <b>access code</b> printed on your receipt;\n"
        "• a <b>code by SMS</b> to the phone on file for the account;\n"
        "• an <b>operator</b> checks your request (up to three days)."
    ).format(number=_esc(number))


def number_prompt(supplier: linking.SupplierInfo) -> str:
    text = _("Enter the personal account number of {supplier} as printed on your receipt.").format(
        supplier=_esc(supplier.name)
    )
    if supplier.hint:
        text += "\n" + _("Hint: {hint}").format(hint=_esc(supplier.hint))
    return text


def sms_text_template() -> str:
    """The SMS, in the resident's language; the service fills {code} and {number}."""
    return _(
        "Code {code} to link personal account {number} in the Telegram bot. Do not tell it "
        "to anyone. If you did not ask for it, ignore this message."
    )


def code_problem_text(result: LinkResult) -> str:
    if result.problem is CodeProblem.WRONG:
        return _("Wrong code. Attempts left for this code: {left}.").format(
            left=result.attempts_left if result.attempts_left is not None else "?"
        )
    if result.problem is CodeProblem.EXPIRED:
        return _("The code has expired. Press «Send the code again» for a new one.")
    if result.problem is CodeProblem.USED:
        return _("This code was already used. Press «Send the code again» for a new one.")
    if result.problem is CodeProblem.EXHAUSTED:
        return _(
            "Too many wrong attempts for this code. Press «Send the code again» for a new one."
        )
    return _("No code was sent yet. Press «Send the code again».")


# --------------------------------------------------------------------------- entry points
async def offer_accounts_by_phone(
    message: Message, uow: UnitOfWork, settings: Settings, phone: str
) -> None:
    """Right after registration: offer the accounts whose phone on file is this one."""
    if message.from_user is None:
        return
    found = await linking.suggest_by_phone(uow, message.from_user.id, phone)
    if not found:
        return  # nothing to offer; «My accounts» is in the main menu
    lines = [_("Your phone is on file for these personal accounts:")]
    for account in found:
        lines.append(
            _("• {supplier}, № {number}, {address}").format(
                supplier=_esc(account.supplier_name),
                number=_esc(account.number),
                address=_esc(account.address) or "—",
            )
        )
    lines.append(_("Link them with one tap:"))
    await message.answer(
        "\n".join(lines),
        reply_markup=keyboards.suggested_accounts(
            [(a.id, a.supplier_name, a.number) for a in found]
        ),
    )


async def show_accounts(
    message: Message, uow: UnitOfWork, user_id: int, *, edit: bool, page: int = 0
) -> None:
    views = await linking.my_links(uow, user_id)
    text, markup = accounts_text(views, page), accounts_markup(views, page)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


async def ask_number(message: Message, state: FSMContext, supplier: linking.SupplierInfo) -> None:
    await state.set_state(Linking.number)
    await state.set_data({"supplier_id": supplier.id})
    await message.answer(number_prompt(supplier), reply_markup=keyboards.cancel_inline())


async def begin_linking(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    settings: Settings,
    clock: Clock,
    user_id: int,
) -> None:
    unlock = await linking.locked_until(
        uow, user_id, clock=clock, limit=settings.link_attempts_per_day
    )
    if unlock is not None:
        await state.clear()
        await message.answer(locked_text(LinkResult(Outcome.LOCKED, unlock_at=unlock)))
        return
    suppliers = await linking.suppliers(uow)
    if not suppliers:
        await state.clear()
        await message.answer(_("No suppliers are connected to the cabinet yet. Please try later."))
        return
    if len(suppliers) == 1:
        await ask_number(message, state, suppliers[0])
        return
    await state.set_state(Linking.supplier)
    await state.set_data({})
    await message.answer(
        _("Choose the supplier whose receipt you have:"),
        reply_markup=keyboards.link_suppliers([(s.id, s.name) for s in suppliers]),
    )


async def finish(message: Message, state: FSMContext, text: str, *, markup: Any = None) -> None:
    await state.clear()
    await message.answer(text, reply_markup=markup or keyboards.main_menu())


async def answer_result(message: Message, state: FSMContext, result: LinkResult) -> bool:
    """The answers shared by every step; True when the result was one of them."""
    if result.outcome is Outcome.LINKED:
        await finish(message, state, linked_text(result))
    elif result.outcome is Outcome.LOCKED:
        await finish(message, state, locked_text(result))
    elif result.outcome is Outcome.ALREADY_LINKED:
        await finish(
            message,
            state,
            _("Account № {number} is already linked to you.").format(number=_esc(result.number)),
        )
    elif result.outcome is Outcome.ALREADY_PENDING:
        await finish(
            message,
            state,
            _(
                "Your request for account № {number} is already with an operator. "
                "I will let you know the decision."
            ).format(number=_esc(result.number)),
        )
    elif result.outcome is Outcome.TOO_MANY_REQUESTS:
        await finish(
            message,
            state,
            _(
                "You already have {count} requests waiting for an operator. Please wait for "
                "their decisions before sending another one."
            ).format(count=linking.MAX_PENDING_REQUESTS),
        )
    elif result.outcome is Outcome.UNAVAILABLE:
        await finish(message, state, _("This is not available. Please start again."))
    else:
        return False
    return True


async def conversation(state: FSMContext) -> tuple[int, str] | None:
    """(supplier_id, number) of the linking in progress, if any."""
    data = await state.get_data()
    supplier_id, number = data.get("supplier_id"), data.get("number")
    if isinstance(supplier_id, int) and isinstance(number, str):
        return supplier_id, number
    return None


# --------------------------------------------------------------------------- the router
def create_router() -> Router:
    # imported here: handlers.gate → handlers.registration → this module (offer_accounts_by_phone)
    from handlers.gate import RegisteredOnly

    router = Router(name="accounts")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.middleware(RegisteredOnly())
    router.callback_query.middleware(RegisteredOnly())
    # the typed steps of the conversation; a main-menu button is not an answer to them
    steps = Router(name="linking-steps")
    steps.message.filter(OtherMenuButton(invert=True))
    router.include_router(steps)

    @router.message(ButtonText(BTN_ACCOUNTS))
    async def my_accounts(
        message: Message, state: FSMContext, uow: UnitOfWork, resident: User
    ) -> None:
        await state.clear()
        await show_accounts(message, uow, resident.id, edit=False)

    @router.message(StateFilter(Linking), OtherMenuButton())
    async def leave_for_menu(message: Message, state: FSMContext) -> None:
        await state.clear()
        raise SkipHandler  # the steps below refuse it; the button's own router answers

    # ---------------------------------------------------------------- buttons of My accounts
    @router.callback_query(AccountCb.filter())
    async def account_action(
        query: CallbackQuery,
        callback_data: AccountCb,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
        resident: User,
        bot: Bot,
        i18n: I18n,
    ) -> None:
        message = query.message
        if not isinstance(message, Message):
            await query.answer(
                _("This message is too old. Open «My accounts» again."), show_alert=True
            )
            return
        action, account_id = callback_data.action, callback_data.account_id
        if action == "link":
            await query.answer()
            await begin_linking(message, state, uow, settings, clock, resident.id)
        elif action == "unlink":
            view = await linking.link_view(uow, resident.id, account_id)
            if view is None:
                await query.answer(_("Not available."), show_alert=True)
                return
            await query.answer()
            await message.edit_text(
                _("Unlink account № {number} ({supplier})?").format(
                    number=_esc(view.number), supplier=_esc(view.supplier_name)
                )
                if view.status is LinkStatus.ACTIVE
                else _("Withdraw the request for account № {number} ({supplier})?").format(
                    number=_esc(view.number), supplier=_esc(view.supplier_name)
                )
                if view.status is LinkStatus.PENDING
                else _("Remove account № {number} ({supplier}) from your list?").format(
                    number=_esc(view.number), supplier=_esc(view.supplier_name)
                ),
                reply_markup=keyboards.confirm_unlink(account_id),
            )
        elif action == "unlink_yes":
            unlinked = await linking.unlink(
                uow, user_id=resident.id, account_id=account_id, clock=clock
            )
            if not unlinked.ok or unlinked.view is None:
                await query.answer(_("Not available."), show_alert=True)
                return
            await query.answer(_("Done."))
            await uow.commit()
            if unlinked.staff is not None:
                await staff.mark_withdrawn(bot, i18n, settings, *unlinked.staff)
            views = await linking.my_links(uow, resident.id)
            await message.edit_text(
                _("Account № {number} is no longer linked.").format(
                    number=_esc(unlinked.view.number)
                )
                + "\n\n"
                + accounts_text(views),
                reply_markup=accounts_markup(views),
            )
        elif action == "unlink_no":
            await query.answer(_("Nothing was changed."))
            await show_accounts(message, uow, resident.id, edit=True)
        elif action == "page":  # account_id carries the page number here
            await query.answer()
            await show_accounts(message, uow, resident.id, edit=True, page=account_id)
        elif action == "suggest":
            result = await linking.link_by_phone(
                uow, user_id=resident.id, account_id=account_id, clock=clock
            )
            if result.outcome is Outcome.UNAVAILABLE:
                await query.answer(_("Not available."), show_alert=True)
                return
            await query.answer()
            remaining = await linking.suggest_by_phone(uow, resident.id, resident.phone or "")
            await message.edit_reply_markup(
                reply_markup=keyboards.suggested_accounts(
                    [(a.id, a.supplier_name, a.number) for a in remaining]
                )
                if remaining
                else None
            )
            await answer_result(message, state, result)
        else:
            await query.answer(_("This button is not valid any more."), show_alert=True)

    # ---------------------------------------------------------------- supplier and number
    @router.callback_query(SupplierCb.filter())
    async def supplier_chosen(
        query: CallbackQuery,
        callback_data: SupplierCb,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
        resident: User,
    ) -> None:
        message = query.message
        supplier = await linking.supplier(uow, callback_data.supplier_id)
        if supplier is None or not isinstance(message, Message):
            await query.answer(_("Not available."), show_alert=True)
            return
        unlock = await linking.locked_until(
            uow, resident.id, clock=clock, limit=settings.link_attempts_per_day
        )
        await query.answer()
        await message.edit_reply_markup(reply_markup=None)
        if unlock is not None:
            await finish(message, state, locked_text(LinkResult(Outcome.LOCKED, unlock_at=unlock)))
            return
        await ask_number(message, state, supplier)

    @steps.message(Linking.supplier)
    async def supplier_expected(message: Message) -> None:
        await message.answer(
            _("Please choose the supplier with the buttons above, or press «Cancel».")
        )

    @steps.message(Linking.number)
    async def number_given(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
        resident: User,
    ) -> None:
        supplier_id = (await state.get_data()).get("supplier_id")
        supplier = (
            await linking.supplier(uow, supplier_id) if isinstance(supplier_id, int) else None
        )
        if supplier is None:
            await finish(message, state, _("This is not available. Please start again."))
            return
        if not message.text:
            await message.answer(number_prompt(supplier), reply_markup=keyboards.cancel_inline())
            return
        result = await linking.start(
            uow,
            user_id=resident.id,
            supplier_id=supplier.id,
            raw_number=message.text,
            clock=clock,
            limit=settings.link_attempts_per_day,
        )
        if await answer_result(message, state, result):
            return
        if result.outcome is Outcome.BAD_FORMAT:
            text = _("This does not look like a personal account number of {supplier}.").format(
                supplier=_esc(supplier.name)
            )
            if supplier.hint:
                text += "\n" + _("Hint: {hint}").format(hint=_esc(supplier.hint))
            await message.answer(text, reply_markup=keyboards.cancel_inline())
            return
        assert result.number is not None
        await state.set_state(Linking.method)
        await state.update_data(number=result.number)
        await message.answer(routes_text(result.number), reply_markup=keyboards.link_routes())

    # ---------------------------------------------------------------- verification routes
    @router.callback_query(LinkMethodCb.filter())
    async def route_chosen(
        query: CallbackQuery,
        callback_data: LinkMethodCb,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
        resident: User,
        gateways: Gateways,
        bot: Bot,
        i18n: I18n,
    ) -> None:
        message = query.message
        current = await conversation(state)
        if current is None or not isinstance(message, Message):
            await query.answer(_("This button is not valid any more."), show_alert=True)
            return
        supplier_id, number = current
        method = callback_data.method
        limit = settings.link_attempts_per_day
        if method == "back":
            await query.answer()
            await state.set_state(Linking.method)
            await message.answer(routes_text(number), reply_markup=keyboards.link_routes())
        elif method == "access_code":
            await query.answer()
            await state.set_state(Linking.access_code)
            await message.answer(
                _(
                    "Enter the access code printed on your receipt (next to the personal "
                    "account number)."
                ),
                reply_markup=keyboards.link_step(),
            )
        elif method in ("sms", "resend"):
            result = await linking.send_sms_code(
                uow,
                user_id=resident.id,
                supplier_id=supplier_id,
                number=number,
                sms=gateways.sms,
                text_template=sms_text_template(),
                clock=clock,
                limit=limit,
                ttl_minutes=settings.code_ttl_minutes,
            )
            if result.outcome is Outcome.RESEND_TOO_SOON:
                await query.answer(
                    _("A new code can be sent in {seconds} s.").format(seconds=result.wait_seconds),
                    show_alert=True,
                )
                return
            await query.answer()
            if await answer_result(message, state, result):
                return
            if result.outcome is Outcome.CODE_SENT:
                await state.set_state(Linking.sms_code)
                await message.answer(
                    _(
                        "I sent a code by SMS to the phone on file for this account, {phone}. "
                        "It is valid for {minutes} min. Enter it here."
                    ).format(phone=result.masked_phone, minutes=settings.code_ttl_minutes),
                    reply_markup=keyboards.link_step(resend=True),
                )
            elif result.outcome is Outcome.NOT_FOUND:
                await state.set_state(Linking.method)
                text = _(
                    "There is no phone on file for account № {number} that I could send a code "
                    "to. Check the number on your receipt, use the access code, or ask an "
                    "operator."
                ).format(number=_esc(number))
                if result.unlock_at is not None:
                    await finish(message, state, text + "\n\n" + locked_text(result))
                    return
                await message.answer(text, reply_markup=keyboards.link_routes())
            elif result.outcome is Outcome.TOO_MANY_CODES:
                assert result.retry_at is not None
                await message.answer(
                    _(
                        "Too many codes were sent to this phone today. The next one can be sent "
                        "after {time} (Moscow time). Meanwhile you can use the access code or "
                        "ask an operator."
                    ).format(time=staff.moscow_time(result.retry_at)),
                    reply_markup=keyboards.link_routes(),
                )
            else:  # DELIVERY_FAILED
                await state.set_state(Linking.method)
                await message.answer(
                    _(
                        "I could not send the SMS right now. Please try again later, use the "
                        "access code, or ask an operator."
                    ),
                    reply_markup=keyboards.link_routes(),
                )
        elif method == "operator":
            if settings.staff_chat_id is None:
                await query.answer()
                await message.answer(
                    _(
                        "Requests to operators are not available right now. Please confirm the "
                        "account with the access code from your receipt or an SMS code, or "
                        "contact the office of your management company."
                    ),
                    reply_markup=keyboards.link_routes(),
                )
                return
            result = await linking.open_operator_request(
                uow,
                user_id=resident.id,
                supplier_id=supplier_id,
                number=number,
                clock=clock,
                limit=limit,
            )
            await query.answer()
            if await answer_result(message, state, result):
                return
            if result.outcome is Outcome.NOT_FOUND:
                text = _(
                    "There is no account № {number} in our records. Please check the number "
                    "on your receipt and start again."
                ).format(number=_esc(number))
                if result.unlock_at is not None:
                    text += "\n\n" + locked_text(result)
                    await finish(message, state, text)
                    return
                await finish(message, state, text, markup=keyboards.link_again())
                return
            await state.set_state(Linking.request_name)
            await message.answer(
                _(
                    "An operator will compare your details with the records.\n"
                    "Your full name, please (as on the receipt, if you are the holder)."
                ),
                reply_markup=keyboards.cancel_inline(),
            )
        elif method == "skip_photo":
            if await state.get_state() != Linking.request_photo.state:
                await query.answer(_("This button is not valid any more."), show_alert=True)
                return
            await query.answer()
            await message.edit_reply_markup(reply_markup=None)
            await submit_request(message, state, uow, settings, clock, bot, i18n, resident, None)
        else:
            await query.answer(_("This button is not valid any more."), show_alert=True)

    @steps.message(Linking.method)
    async def route_expected(message: Message) -> None:
        await message.answer(
            _("Please choose how to confirm the account with the buttons, or press «Cancel»."),
            reply_markup=keyboards.link_routes(),
        )

    async def typed_code(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
        resident: User,
        *,
        sms: bool,
    ) -> None:
        """An access code or an SMS code typed at its step; the service decides."""
        current = await conversation(state)
        if current is None:
            await finish(message, state, _("This is not available. Please start again."))
            return
        markup = keyboards.link_step(resend=sms)
        if not message.text:
            await message.answer(
                _("Please type the code from the SMS.")
                if sms
                else _("Please type the access code from your receipt."),
                reply_markup=markup,
            )
            return
        check = linking.enter_sms_code if sms else linking.enter_access_code
        result = await check(
            uow,
            user_id=resident.id,
            supplier_id=current[0],
            number=current[1],
            code=message.text,
            clock=clock,
            limit=settings.link_attempts_per_day,
        )
        if await answer_result(message, state, result):
            return
        if sms:
            text = code_problem_text(result)
        else:
            text = _(
                "This code does not match. Check the personal account number and the code on "
                "the receipt. Attempts left today: {left}."
            ).format(left=result.attempts_left)
        await message.answer(text, reply_markup=markup)

    @steps.message(Linking.access_code)
    async def access_code_given(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
        resident: User,
    ) -> None:
        await typed_code(message, state, uow, settings, clock, resident, sms=False)

    @steps.message(Linking.sms_code)
    async def sms_code_given(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
        resident: User,
    ) -> None:
        await typed_code(message, state, uow, settings, clock, resident, sms=True)

    # ---------------------------------------------------------------- request to an operator
    @steps.message(Linking.request_name)
    async def name_given(message: Message, state: FSMContext) -> None:
        name = (message.text or "").strip()
        if not name or len(name) > linking.MAX_NAME_LENGTH:
            await message.answer(
                _("Please type your full name (up to 255 characters)."),
                reply_markup=keyboards.cancel_inline(),
            )
            return
        await state.update_data(name=name)
        await state.set_state(Linking.request_address)
        await message.answer(
            _("The address of the flat or house (street, house, flat)."),
            reply_markup=keyboards.cancel_inline(),
        )

    @steps.message(Linking.request_address)
    async def address_given(message: Message, state: FSMContext) -> None:
        address = (message.text or "").strip()
        if not address or len(address) > linking.MAX_ADDRESS_LENGTH:
            await message.answer(
                _("Please type the address as text (up to 512 characters)."),
                reply_markup=keyboards.cancel_inline(),
            )
            return
        await state.update_data(address=address)
        await state.set_state(Linking.request_photo)
        await message.answer(
            _(
                "If you can, send a photo of a recent receipt: it helps the operator decide "
                "faster. Or send the request without it."
            ),
            reply_markup=keyboards.skip_photo(),
        )

    @steps.message(Linking.request_photo)
    async def photo_given(
        message: Message,
        state: FSMContext,
        uow: UnitOfWork,
        settings: Settings,
        clock: Clock,
        bot: Bot,
        i18n: I18n,
        resident: User,
    ) -> None:
        if not message.photo:
            await message.answer(
                _("Please send a photo of the receipt, or press «Send without a photo»."),
                reply_markup=keyboards.skip_photo(),
            )
            return
        file_id = message.photo[-1].file_id
        await submit_request(message, state, uow, settings, clock, bot, i18n, resident, file_id)

    return router


async def submit_request(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    settings: Settings,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
    resident: User,
    photo_file_id: str | None,
) -> None:
    """Make the link pending, post its card to the staff chat, record the ticket."""
    data = await state.get_data()
    current = await conversation(state)
    name, address = data.get("name"), data.get("address")
    if current is None or not isinstance(name, str) or not isinstance(address, str):
        await finish(message, state, _("This is not available. Please start again."))
        return
    if settings.staff_chat_id is None:
        await finish(
            message,
            state,
            _(
                "Requests to operators are not available right now. Please confirm the account "
                "with the access code from your receipt or an SMS code, or contact the office "
                "of your management company."
            ),
        )
        return
    card = await linking.submit_operator_request(
        uow,
        user_id=resident.id,
        supplier_id=current[0],
        number=current[1],
        name=name,
        address=address,
        photo_file_id=photo_file_id,
        clock=clock,
        locale=i18n.current_locale,
    )
    if card is None:
        await finish(message, state, _("This is not available. Please start again."))
        return
    try:
        with i18n.use_locale(settings.default_locale):
            posted = await staff.post_link_card(bot, settings.staff_chat_id, card)
    except TelegramAPIError as exc:
        log.error("could not post link request %s to the staff chat: %s", card.link_id, exc)
        # no card, no pending request (it is already committed: the bot commits before it
        # sends anything, so it is undone, not rolled back)
        await linking.drop_request(uow, user_id=resident.id, link_id=card.link_id, clock=clock)
        await finish(
            message,
            state,
            _(
                "I could not pass your request to the operators right now. Nothing was saved; "
                "please try again later."
            ),
        )
        return
    await linking.record_card(
        uow,
        link_id=card.link_id,
        user_id=resident.id,
        staff_chat_id=settings.staff_chat_id,
        staff_message_id=posted.message_id,
        staff_thread_id=posted.message_thread_id,
    )
    await finish(
        message,
        state,
        _(
            "Your request has been sent to the operators. Checking may take up to three days; "
            "I will send you the decision here. You can see the request in «My accounts»."
        ),
    )
