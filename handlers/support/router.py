"""«💬 Contact support», the resident's side: while the conversation is open (the state
`Support.talking`, or any open ticket) the resident's messages go to the operators; the
rating of a closed ticket. Rules: bot/services/support/."""

from __future__ import annotations

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot.services.registration import Resident
from bot.services.support import PassOutcome, RateOutcome, SupportService
from handlers.common import keyboards
from handlers.common.albums import ALBUM_KEY
from handlers.common.filters import PrivateChat
from handlers.common.main_menu import MenuItem
from handlers.common.states import Support
from handlers.common.texts import BTN_SUPPORT, stale_button
from handlers.support import texts
from handlers.support.callbacks import RateCb
from handlers.support.filters import Relayable


async def open_support(
    message: Message, state: FSMContext, support: SupportService, resident: Resident
) -> None:
    """The main-menu item: the conversation opens; the first message makes the ticket."""
    if not support.enabled:
        await state.clear()
        await message.answer(texts.disabled(), reply_markup=keyboards.main_menu())
        return
    await state.set_state(Support.talking)
    await message.answer(
        texts.intro(support.hours, support.working_now()),
        reply_markup=keyboards.main_menu(),
    )


async def relay(message: Message, state: FSMContext, support: SupportService, i18n: I18n) -> None:
    """A message of the conversation to the operators; the resident is told (once per album)."""
    assert message.from_user is not None
    later_photo = bool(message.media_group_id) and (
        (await state.get_data()).get(ALBUM_KEY) == message.media_group_id
    )
    passed = await support.pass_on(
        message.from_user.id,
        message.message_id,
        header=not later_photo,
        locale=i18n.current_locale,
    )
    if later_photo and passed.outcome is PassOutcome.PASSED:
        return  # the album's first photo was answered
    if passed.outcome is PassOutcome.PASSED:
        assert passed.ticket_id is not None
        await message.answer(texts.passed_on(passed.ticket_id, passed.hours, passed.working_now))
    elif passed.outcome is PassOutcome.DISABLED:
        await state.clear()
        await message.answer(texts.disabled(), reply_markup=keyboards.main_menu())
    else:
        await message.answer(texts.not_passed())


async def not_relayable(message: Message) -> None:
    """A sticker, a location, a contact, a poll…: say what reaches the operators."""
    await message.answer(texts.what_is_accepted())


async def while_open(
    message: Message, state: FSMContext, support: SupportService, i18n: I18n
) -> None:
    """Outside the conversation, a resident whose ticket is still open is still talking to
    the operators (e.g. answering them after /start); otherwise the fallback answers."""
    assert message.from_user is not None
    if not support.enabled or not await support.has_open_ticket(message.from_user.id):
        raise SkipHandler
    await state.set_state(Support.talking)
    if await Relayable()(message):
        await relay(message, state, support, i18n)
    else:
        await not_relayable(message)


async def edited_by_resident(message: Message, support: SupportService) -> None:
    """Telegram tells the bot of a resident's edit, but the operators keep the copy made
    before it: while a ticket is open, say so, so that the correction is not lost."""
    assert message.from_user is not None
    if support.enabled and await support.has_open_ticket(message.from_user.id):
        await message.reply(texts.edit_not_passed())


async def rate(query: CallbackQuery, callback_data: RateCb, support: SupportService) -> None:
    """One rating 1–5 of the resident's own closed ticket (the service re-checks)."""
    outcome = await support.rate(query.from_user.id, callback_data.ticket_id, callback_data.stars)
    if outcome is RateOutcome.REFUSED:
        await query.answer(stale_button(), show_alert=True)
        return
    if outcome is RateOutcome.ALREADY_RATED:
        await query.answer(texts.already_rated(), show_alert=True)
    else:
        await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        if outcome is RateOutcome.RATED:
            await query.message.answer(
                texts.thanks_for_rating(callback_data.ticket_id, callback_data.stars)
            )


#: the main-menu item (handlers/common/main_menu.py registers it)
MENU_ITEM: MenuItem = (BTN_SUPPORT, open_support)


def create_router() -> Router:
    """Registered after the other features and before the fallback."""
    router = Router(name="support")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.edited_message.filter(PrivateChat())
    router.message.register(relay, StateFilter(Support.talking), Relayable())
    router.message.register(not_relayable, StateFilter(Support.talking))
    router.message.register(while_open, StateFilter(None))
    router.edited_message.register(edited_by_resident)
    router.callback_query.register(rate, RateCb.filter())
    return router
