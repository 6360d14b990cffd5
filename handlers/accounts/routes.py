"""The buttons of the linking routes: access code, SMS code, operator, back, skip photo."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.services.linking import LinkingService, LinkResult, Outcome
from bot.services.registration import Resident
from handlers.accounts import keyboards, texts
from handlers.accounts.conversation import answer_result, conversation, finish, submit_request
from handlers.common import keyboards as common_keyboards
from handlers.common.states import Linking
from handlers.common.texts import esc, moscow_time, stale_button, wait_text


async def _in_conversation(query: CallbackQuery, state: FSMContext) -> tuple[Message, str] | None:
    """The message under the press and the number being linked; None (answered) when the
    button belongs to no linking in progress."""
    current = await conversation(state)
    if current is None or not isinstance(query.message, Message):
        await query.answer(stale_button(), show_alert=True)
        return None
    return query.message, current[1]


async def back(query: CallbackQuery, state: FSMContext) -> None:
    found = await _in_conversation(query, state)
    if found is None:
        return
    message, number = found
    await query.answer()
    await state.set_state(Linking.method)
    await message.answer(texts.routes_text(number), reply_markup=keyboards.routes())


async def access_code(query: CallbackQuery, state: FSMContext) -> None:
    found = await _in_conversation(query, state)
    if found is None:
        return
    await query.answer()
    await state.set_state(Linking.access_code)
    await found[0].answer(
        _("Enter the access code printed on your receipt (next to the personal account number)."),
        reply_markup=keyboards.step(),
    )


async def _sms_not_sent(
    message: Message, state: FSMContext, result: LinkResult, number: str, contact: str | None
) -> None:
    if result.outcome is Outcome.NOT_FOUND:
        await state.set_state(Linking.method)
        text = _(
            "I cannot send a code for account № {number}: either no phone is on file for "
            "it or there is no such account in our records. Check the number on your "
            "receipt, or use the access code from it."
        ).format(number=esc(number)) + texts.attempts_left(result.attempts_left)
        if result.unlock_at is not None:
            locked = texts.locked_text(result.unlock_at, contact)
            await finish(message, state, text + "\n\n" + locked)
            return
        await message.answer(text, reply_markup=keyboards.routes())
    elif result.outcome is Outcome.TOO_MANY_CODES:
        assert result.retry_at is not None
        await message.answer(
            _(
                "Too many codes were sent to this phone today. The next one can be sent "
                "after {time} (Moscow time). Meanwhile you can use the access code or "
                "ask an operator."
            ).format(time=moscow_time(result.retry_at)),
            reply_markup=keyboards.routes(),
        )
    else:  # DELIVERY_FAILED
        await state.set_state(Linking.method)
        await message.answer(
            _(
                "I could not send the SMS right now. Please try again later, use the "
                "access code, or ask an operator."
            ),
            reply_markup=keyboards.routes(),
        )


async def sms(
    query: CallbackQuery,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
    i18n: I18n,
) -> None:
    """«Code by SMS» and «Send the code again»."""
    found = await _in_conversation(query, state)
    current = await conversation(state)
    if found is None or current is None:
        return
    message, number = found
    wait = await linking.sms_wait_seconds(current[0], number)
    if wait > 0:
        await query.answer(wait_text(wait), show_alert=True)
        return
    # answered before the gateway is called: a slow SMS provider must not expire the press
    await query.answer(_("Sending the code…"))
    with i18n.use_locale(settings.default_locale):  # the holder's phone: the company's language
        template = texts.sms_template()
    result = await linking.send_sms_code(
        user_id=resident.id, supplier_id=current[0], number=number, text_template=template
    )
    if result.outcome is Outcome.RESEND_TOO_SOON:  # another press won the race meanwhile
        await message.answer(wait_text(result.wait_seconds or 0))
        return
    if await answer_result(message, state, result, settings):
        return
    if result.outcome is Outcome.CODE_SENT:
        await state.set_state(Linking.sms_code)
        await message.answer(
            _(
                "I sent a code by SMS to the phone on file for this account, {phone}. "
                "It is valid for {minutes} min. Enter it here."
            ).format(phone=result.masked_phone, minutes=settings.code_ttl_minutes),
            reply_markup=keyboards.step(resend=True),
        )
        return
    await _sms_not_sent(message, state, result, number, settings.support_contact)


async def operator(
    query: CallbackQuery,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    settings: Settings,
) -> None:
    found = await _in_conversation(query, state)
    current = await conversation(state)
    if found is None or current is None:
        return
    message, number = found
    if settings.staff_chat_id is None:
        await query.answer()
        await message.answer(
            texts.operators_unavailable(settings.support_contact), reply_markup=keyboards.routes()
        )
        return
    result = await linking.open_operator_request(
        user_id=resident.id, supplier_id=current[0], number=number
    )
    await query.answer()
    if await answer_result(message, state, result, settings):
        return
    if result.outcome is Outcome.NOT_FOUND:
        text = _(
            "There is no account № {number} in our records. Please check the number "
            "on your receipt and start again."
        ).format(number=esc(number)) + texts.attempts_left(result.attempts_left)
        if result.unlock_at is not None:
            locked = texts.locked_text(result.unlock_at, settings.support_contact)
            await finish(message, state, text + "\n\n" + locked)
            return
        await finish(message, state, text, markup=common_keyboards.link_again())
        return
    await state.set_state(Linking.request_name)
    await message.answer(
        _(
            "An operator will compare your details with the records.\n"
            "Your full name, please (as on the receipt, if you are the holder)."
        ),
        reply_markup=common_keyboards.cancel_inline(),
    )


async def skip_photo(
    query: CallbackQuery,
    state: FSMContext,
    linking: LinkingService,
    resident: Resident,
    i18n: I18n,
    settings: Settings,
) -> None:
    found = await _in_conversation(query, state)
    if found is None:
        return
    if await state.get_state() != Linking.request_photo.state:
        await query.answer(stale_button(), show_alert=True)
        return
    await query.answer()
    await found[0].edit_reply_markup(reply_markup=None)
    await submit_request(found[0], state, linking, resident, i18n, settings, None)
