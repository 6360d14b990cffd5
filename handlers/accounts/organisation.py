"""«I represent an organisation»: ИНН → (КПП) → contract or account → name, position → the
power of attorney (PDF or photos, an album of pages) → an operator decides (issue 14).

Rules live in bot/services/representatives.py; this module parses, calls, answers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.services.linking import clean_request_name
from bot.services.registration import Resident
from bot.services.representatives import (
    OrgStep,
    Page,
    RepresentativesService,
    Result,
    Step,
    clean_position,
    page_problem,
)
from handlers.accounts import org_texts as texts
from handlers.accounts.callbacks import OrgBranchCb
from handlers.accounts.texts import locked_text
from handlers.common import keyboards as common_keyboards
from handlers.common.albums import ALBUM_KEY
from handlers.common.states import Representing
from handlers.common.texts import stale_button, start_again

PAGES = "org_pages"
REFUSED_ALBUM = "org_refused_album"  # an album whose refusal was said already


async def _finish(message: Message, state: FSMContext, text: str) -> None:
    await state.clear()
    await message.answer(text, reply_markup=common_keyboards.main_menu())


async def _failed(message: Message, state: FSMContext, found: OrgStep, settings: Settings) -> bool:
    """The answers shared by the ИНН and contract steps; True when `found` was one."""
    if found.step is Step.LOCKED or found.unlock_at is not None:
        assert found.unlock_at is not None
        await _finish(message, state, locked_text(found.unlock_at, settings.support_contact))
    elif found.step is Step.TOO_MANY:
        await _finish(message, state, texts.too_many())
    elif found.step is Step.ALREADY:
        await _finish(message, state, texts.already())
    elif found.step is Step.UNAVAILABLE:
        await _finish(message, state, start_again())
    else:
        return False
    return True


async def start(
    query: CallbackQuery,
    state: FSMContext,
    representatives: RepresentativesService,
    resident: Resident,
    settings: Settings,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(stale_button(), show_alert=True)
        return
    await query.answer()
    unlock = await representatives.locked_until(resident.id)
    if unlock is not None:
        await _finish(query.message, state, locked_text(unlock, settings.support_contact))
        return
    await state.set_state(Representing.inn)
    await state.set_data({})
    await query.message.answer(texts.inn_prompt(), reply_markup=common_keyboards.cancel_inline())


async def _ask_reference(message: Message, state: FSMContext, found: OrgStep) -> None:
    await state.update_data(org_inn=found.inn, org_kpp=found.kpp, org_name=found.name)
    await state.set_state(Representing.reference)
    await message.answer(
        texts.reference_prompt(found.name or "", found.kpp),
        reply_markup=common_keyboards.cancel_inline(),
    )


async def inn_given(
    message: Message,
    state: FSMContext,
    representatives: RepresentativesService,
    resident: Resident,
    settings: Settings,
) -> None:
    if not message.text:
        await message.answer(texts.bad_inn(None), reply_markup=common_keyboards.cancel_inline())
        return
    found = await representatives.find_organisation(resident.id, message.text)
    if await _failed(message, state, found, settings):
        return
    if found.step is Step.BAD_INN:
        await message.answer(
            texts.bad_inn(found.problem), reply_markup=common_keyboards.cancel_inline()
        )
    elif found.step is Step.NOT_FOUND:
        await message.answer(
            texts.org_not_found(found.attempts_left), reply_markup=common_keyboards.cancel_inline()
        )
    elif found.step is Step.CHOOSE_BRANCH:
        await state.update_data(org_inn=found.inn, org_name=found.name)
        await state.set_state(Representing.branch)
        await message.answer(
            texts.branch_prompt(found.name or "", found.branches),
            reply_markup=texts.branches(found.branches),
        )
    else:
        await _ask_reference(message, state, found)


async def branch_chosen(
    query: CallbackQuery,
    callback_data: OrgBranchCb,
    state: FSMContext,
    representatives: RepresentativesService,
) -> None:
    inn = (await state.get_data()).get("org_inn")
    if (
        not isinstance(query.message, Message)
        or not isinstance(inn, str)
        or await state.get_state() != Representing.branch.state
    ):
        await query.answer(stale_button(), show_alert=True)
        return
    found = await representatives.choose_branch(inn, callback_data.account_id)
    if found.step is not Step.FOUND:
        await query.answer(stale_button(), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _ask_reference(query.message, state, found)


async def branch_expected(message: Message) -> None:
    await message.answer(texts.branch_expected())


async def reference_given(
    message: Message,
    state: FSMContext,
    representatives: RepresentativesService,
    resident: Resident,
    settings: Settings,
) -> None:
    data = await state.get_data()
    inn, kpp = data.get("org_inn"), data.get("org_kpp")
    if not isinstance(inn, str):
        await _finish(message, state, start_again())
        return
    if not message.text:
        await message.answer(
            texts.reference_prompt(data.get("org_name") or "", kpp),
            reply_markup=common_keyboards.cancel_inline(),
        )
        return
    found = await representatives.find_contract(resident.id, inn, kpp, message.text)
    if await _failed(message, state, found, settings):
        return
    if found.step is Step.NOT_FOUND:
        await message.answer(
            texts.reference_not_found(found.attempts_left),
            reply_markup=common_keyboards.cancel_inline(),
        )
        return
    await state.update_data(org_ref=found.reference)
    await state.set_state(Representing.name)
    await message.answer(
        texts.name_prompt(found.accounts), reply_markup=common_keyboards.cancel_inline()
    )


async def name_given(message: Message, state: FSMContext) -> None:
    name = clean_request_name(message.text)
    if name is None:
        await message.answer(texts.bad_name(), reply_markup=common_keyboards.cancel_inline())
        return
    await state.update_data(org_person=name)
    await state.set_state(Representing.position)
    await message.answer(texts.position_prompt(), reply_markup=common_keyboards.cancel_inline())


async def position_given(message: Message, state: FSMContext) -> None:
    position = clean_position(message.text)
    if position is None:
        await message.answer(texts.bad_position(), reply_markup=common_keyboards.cancel_inline())
        return
    await state.update_data({"org_position": position, PAGES: []})
    await state.set_state(Representing.pages)
    await message.answer(texts.pages_prompt(), reply_markup=common_keyboards.cancel_inline())


def _page_of(message: Message) -> Page | None:
    if message.document is not None:
        doc = message.document
        return Page("document", doc.file_id, doc.file_name, doc.mime_type, doc.file_size)
    if message.photo:
        photo = message.photo[-1]
        return Page("photo", photo.file_id, None, "image/jpeg", photo.file_size)
    return None


async def page_given(message: Message, state: FSMContext) -> None:
    """A page (a PDF, an image file or a photo); every message of an album comes here
    (handlers/common/albums.py lets this step collect them) and the album gets one answer."""
    data = await state.get_data()
    pages: list[dict[str, Any]] = list(data.get(PAGES) or [])
    album = message.media_group_id
    later_in_album = album is not None and data.get(ALBUM_KEY) == album
    page = _page_of(message)
    if page is None:
        await message.answer(texts.not_a_page(len(pages)), reply_markup=texts.pages_keyboard())
        return
    problem = page_problem(page, len(pages))
    if problem is not None:
        if album is None or data.get(REFUSED_ALBUM) != album:
            await state.update_data({REFUSED_ALBUM: album})
            await message.answer(
                texts.page_refused(problem, len(pages)), reply_markup=texts.pages_keyboard()
            )
        return
    pages.append(asdict(page))
    await state.update_data({PAGES: pages, ALBUM_KEY: album})
    if not later_in_album:
        await message.answer(texts.page_taken(len(pages)), reply_markup=texts.pages_keyboard())


async def send(
    query: CallbackQuery,
    state: FSMContext,
    representatives: RepresentativesService,
    resident: Resident,
    i18n: I18n,
    settings: Settings,
) -> None:
    if not isinstance(query.message, Message) or (
        await state.get_state() != Representing.pages.state
    ):
        await query.answer(stale_button(), show_alert=True)
        return
    data = await state.get_data()
    pages = [Page(**p) for p in data.get(PAGES) or []]
    if not pages:
        await query.answer(texts.no_pages(), show_alert=True)
        return
    await query.answer()  # before the slow part: the card and the pages go to the staff chat
    await query.message.edit_reply_markup(reply_markup=None)
    inn, ref = data.get("org_inn"), data.get("org_ref")
    person, position = data.get("org_person"), data.get("org_position")
    if not all(isinstance(v, str) for v in (inn, ref, person, position)):
        await _finish(query.message, state, start_again())
        return
    outcome = await representatives.submit(
        user_id=resident.id,
        inn=str(inn),
        kpp=data.get("org_kpp"),
        reference=str(ref),
        name=str(person),
        position=str(position),
        pages=pages,
        locale=i18n.current_locale,
    )
    answers = {
        Result.DONE: texts.submitted,
        Result.DESK_DISABLED: texts.desk_disabled,
        Result.DESK_FAILED: texts.desk_failed,
    }
    await _finish(query.message, state, answers.get(outcome.result, start_again)())
