"""The linking conversation: supplier → number → a route to prove the account is yours."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services.linking import (
    LinkingService,
    LinkResult,
    Outcome,
    SubmitOutcome,
    SupplierInfo,
    clean_request_address,
    clean_request_name,
)
from bot.services.registration import Resident
from handlers.accounts import keyboards, texts
from handlers.accounts.callbacks import SupplierCb
from handlers.common import keyboards as common_keyboards
from handlers.common.states import Linking
from handlers.common.texts import code_problem_text, not_available, stale_button, start_again


async def finish(message: Message, state: FSMContext, text: str, *, markup: object = None) -> None:
    await state.clear()
    await message.answer(text, reply_markup=markup or common_keyboards.main_menu())  # type: ignore[arg-type]


async def answer_result(
    message: Message, state: FSMContext, result: LinkResult, settings: Settings
) -> bool:
    """The answers shared by every step; True when the result was one of them."""
    if result.outcome is Outcome.LINKED:
        assert result.account is not None
        account = result.account
        text = texts.linked_text(account.number, account.supplier_name, account.address)
    elif result.outcome is Outcome.LOCKED:
        assert result.unlock_at is not None
        text = texts.locked_text(result.unlock_at, settings.support_contact)
    elif result.outcome is Outcome.ALREADY_LINKED:
        text = texts.already_linked(result.number)
    elif result.outcome is Outcome.ALREADY_PENDING:
        text = texts.already_pending(result.number)
    elif result.outcome is Outcome.TOO_MANY_REQUESTS:
        text = texts.too_many_requests()
    elif result.outcome is Outcome.UNAVAILABLE:
        text = start_again()
    else:
        return False
    await finish(message, state, text)
    return True


async def conversation(state: FSMContext) -> tuple[int, str] | None:
    """(supplier_id, number) of the linking in progress, if any."""
    data = await state.get_data()
    supplier_id, number = data.get("supplier_id"), data.get("number")
    if isinstance(supplier_id, int) and isinstance(number, str):
        return supplier_id, number
    return None


async def ask_number(message: Message, state: FSMContext, supplier: SupplierInfo) -> None:
    await state.set_state(Linking.number)
    await state.set_data({"supplier_id": supplier.id})
    await message.answer(texts.number_prompt(supplier), reply_markup=keyboards.number_step())


async def begin(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
) -> None:
    """«Link an account»: the supplier (skipped when there is one), then the number."""
    unlock = await linking.locked_until(resident.id)
    if unlock is not None:
        await finish(message, state, texts.locked_text(unlock, settings.support_contact))
        return
    found = await linking.suppliers()
    if not found:
        await finish(
            message, state, _("No suppliers are connected to the cabinet yet. Please try later.")
        )
        return
    if len(found) == 1:
        await ask_number(message, state, found[0])
        return
    await state.set_state(Linking.supplier)
    await state.set_data({})
    await message.answer(
        _("Choose the supplier whose receipt you have:"), reply_markup=keyboards.suppliers(found)
    )


async def supplier_chosen(
    query: CallbackQuery,
    callback_data: SupplierCb,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
) -> None:
    message = query.message
    supplier = await linking.supplier(callback_data.supplier_id)
    if supplier is None or not isinstance(message, Message):
        await query.answer(not_available(), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    unlock = await linking.locked_until(resident.id)
    if unlock is not None:
        await finish(message, state, texts.locked_text(unlock, settings.support_contact))
        return
    await ask_number(message, state, supplier)


async def supplier_expected(message: Message) -> None:
    await message.answer(_("Please choose the supplier with the buttons above, or press «Cancel»."))


async def number_given(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
) -> None:
    supplier_id = (await state.get_data()).get("supplier_id")
    supplier = await linking.supplier(supplier_id) if isinstance(supplier_id, int) else None
    if supplier is None:
        await finish(message, state, start_again())
        return
    if not message.text:
        await message.answer(
            texts.number_prompt(supplier), reply_markup=common_keyboards.cancel_inline()
        )
        return
    result = await linking.start(
        user_id=resident.id, supplier_id=supplier.id, raw_number=message.text
    )
    if await answer_result(message, state, result, settings):
        return
    if result.outcome is Outcome.BAD_FORMAT:
        await message.answer(
            texts.bad_number(supplier), reply_markup=common_keyboards.cancel_inline()
        )
        return
    assert result.number is not None
    await state.set_state(Linking.method)
    await state.update_data(number=result.number)
    await message.answer(texts.routes_text(result.number), reply_markup=keyboards.routes())


async def route_expected(message: Message) -> None:
    await message.answer(
        _("Please choose how to confirm the account with the buttons, or press «Cancel»."),
        reply_markup=keyboards.routes(),
    )


async def typed_code(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
    *,
    sms: bool,
) -> None:
    """An access code or an SMS code typed at its step; the service decides."""
    current = await conversation(state)
    if current is None:
        await finish(message, state, start_again())
        return
    markup = keyboards.step(resend=sms)
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
        user_id=resident.id, supplier_id=current[0], number=current[1], code=message.text
    )
    if await answer_result(message, state, result, settings):
        return
    if sms:
        text = code_problem_text(result.problem, result.attempts_left)
    else:
        text = _(
            "This code does not match. Check the personal account number and the code on "
            "the receipt. Attempts left today: {left}."
        ).format(left=result.attempts_left)
    await message.answer(text, reply_markup=markup)


async def access_code_given(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
) -> None:
    await typed_code(message, state, linking, resident, settings, sms=False)


async def sms_code_given(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
) -> None:
    await typed_code(message, state, linking, resident, settings, sms=True)


# --------------------------------------------------------------------------- to an operator
async def name_given(message: Message, state: FSMContext) -> None:
    name = clean_request_name(message.text)
    if name is None:
        await message.answer(
            _("Please type your full name in letters (up to 255 characters)."),
            reply_markup=common_keyboards.cancel_inline(),
        )
        return
    await state.update_data(name=name)
    await state.set_state(Linking.request_address)
    await message.answer(
        _("The address of the flat or house (street, house, flat)."),
        reply_markup=common_keyboards.cancel_inline(),
    )


async def address_given(message: Message, state: FSMContext) -> None:
    address = clean_request_address(message.text)
    if address is None:
        await message.answer(
            _("Please type the address as text (up to 512 characters)."),
            reply_markup=common_keyboards.cancel_inline(),
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


async def photo_given(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    i18n: I18n,
    settings: Settings,
) -> None:
    if not message.photo:
        await message.answer(
            _("Please send a photo of the receipt, or press «Send without a photo»."),
            reply_markup=keyboards.skip_photo(),
        )
        return
    await submit_request(
        message, state, linking, resident, i18n, settings, message.photo[-1].file_id
    )


async def submit_request(
    message: Message,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    i18n: I18n,
    settings: Settings,
    photo_file_id: str | None,
) -> None:
    """The request with its card in the staff chat: one service call decides the answer."""
    data = await state.get_data()
    current = await conversation(state)
    name, address = data.get("name"), data.get("address")
    if current is None or not isinstance(name, str) or not isinstance(address, str):
        await finish(message, state, start_again())
        return
    submitted = await linking.submit_request(
        user_id=resident.id,
        supplier_id=current[0],
        number=current[1],
        name=name,
        address=address,
        photo_file_id=photo_file_id,
        locale=i18n.current_locale,
    )
    if submitted.outcome is SubmitOutcome.SUBMITTED:
        text = _(
            "Your request has been sent to the operators. Checking may take up to three days; "
            "I will send you the decision here. You can see the request in «My accounts»."
        )
    elif submitted.outcome is SubmitOutcome.DESK_DISABLED:
        text = texts.operators_unavailable(settings.support_contact)
    elif submitted.outcome is SubmitOutcome.DESK_FAILED:
        text = _(
            "I could not pass your request to the operators right now. Nothing was saved; "
            "please try again later."
        )
    else:
        text = start_again()
    await finish(message, state, text)


async def stale(query: CallbackQuery) -> None:
    await query.answer(stale_button(), show_alert=True)
