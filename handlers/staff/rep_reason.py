"""«✍️ Other reason» on a representative's card: the operator's own words as the reason.

As for link requests (router.py): the press opens a reply-forced prompt; the operator's reply
to it is the reason (cut to linking.MAX_REASON_LENGTH, escaped wherever it is shown), and
reaches the representative as written; /cancel (router.cancel_reason) keeps the request
pending. Several prompts — of links and of representatives — may be open at once: a reply
goes to its own prompt's request; a message that replies to none, written where the latest
prompt is (its forum topic; outside topics, the chat), goes to the latest prompt. A message in
another resident's topic, or a reply to a resident's message (a support conversation's), is not
a reason and goes on to support (`answered_prompt`). The prompts of representatives
are kept in the operator's FSM data beside the links' ones, with the topic of each prompt.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ForceReply, Message
from aiogram.utils.i18n import gettext as _

from bot.services.linking import MAX_REASON_LENGTH
from bot.services.representatives import RepresentativesService, Result
from bot.services.support import SupportService
from handlers.common.states import StaffReject
from handlers.staff.access import DECISION
from handlers.staff.representatives import (
    RepAction,
    StaffRepCb,
    answer_text,
    operator_name,
    still_pending,
)

LINK_PROMPTS_KEY = "prompts"  # router.PROMPTS_KEY: {prompt message id: link id}
REP_PROMPTS_KEY = "rep_prompts"  # {prompt message id: representative id}
THREADS_KEY = "prompt_threads"  # {prompt message id: its forum topic, None outside topics}


def topic_of(message: Message) -> int | None:
    """The forum topic a message is in (None: a plain chat, or a forum's General topic; a
    plain supergroup's reply threads are not topics)."""
    return message.message_thread_id if message.is_topic_message else None


def remember_prompt(data: dict[str, Any], prompt: Message) -> dict[str, int | None]:
    """The prompts' topics with this prompt's added (the FSM data's THREADS_KEY)."""
    threads: dict[str, int | None] = dict(data.get(THREADS_KEY) or {})
    threads[str(prompt.message_id)] = topic_of(prompt)
    return threads


async def open_prompt(
    query: CallbackQuery, state: FSMContext, text: str, key: str, object_id: int
) -> None:
    """Post an operator's reply-forced «own reason» prompt under the card and remember it in
    the FSM data under `key` ({prompt message id: request id}; several may be open at once),
    with its topic. Used for link and representative requests alike."""
    if not isinstance(query.message, Message):
        return
    prompt = await query.message.reply(
        text,
        reply_markup=ForceReply(selective=True),  # selective: the mention
    )
    await state.set_state(StaffReject.reason)
    data = await state.get_data()
    prompts = dict(data.get(key) or {})
    prompts[str(prompt.message_id)] = object_id
    await state.update_data({key: prompts, THREADS_KEY: remember_prompt(data, prompt)})


async def close_prompts(state: FSMContext, key: str, request_id: int) -> dict[str, int]:
    """Close every open prompt of this request (a double press opens two); the other open
    prompts, of links and of representatives, still take their replies; none left: the
    operator's state ends. Returns the prompts left under `key`."""
    data = await state.get_data()
    left = {k: v for k, v in (data.get(key) or {}).items() if v != request_id}
    other = REP_PROMPTS_KEY if key == LINK_PROMPTS_KEY else LINK_PROMPTS_KEY
    if left or data.get(other):
        await state.update_data({key: left})
    else:
        await state.clear()
    return left


def answered_prompt(
    data: dict[str, Any], message: Message, *, answers_resident: bool = False
) -> str | None:
    """The open prompt (of a link or a representative) this message answers, or None.

    A reply to an open prompt answers it. A reply to a resident's message of a support
    conversation (`answers_resident`) does not: it is that resident's answer. Any other
    message answers the latest prompt when written in that prompt's forum topic (or, outside
    topics, in the chat); in another resident's topic it is not a reason."""
    reps: dict[str, int] = data.get(REP_PROMPTS_KEY) or {}
    links: dict[str, int] = data.get(LINK_PROMPTS_KEY) or {}
    if not reps and not links:
        return None
    replied = message.reply_to_message
    if replied is not None and str(replied.message_id) in {*reps, *links}:
        return str(replied.message_id)
    if answers_resident:
        return None
    latest = max([*reps, *links], key=int)
    topic = topic_of(message)
    threads: dict[str, int | None] = data.get(THREADS_KEY) or {}
    return latest if threads.get(latest, topic) == topic else None


async def answers_resident(message: Message, support: SupportService | None) -> bool:
    """The message replies to a resident's message (or its header) of a support conversation."""
    replied = message.reply_to_message
    if support is None or replied is None or replied.message_id == topic_of(message):
        return False  # not a reply (a forum topic's messages all point at the topic's start)
    return await support.resident_of(thread_id=None, reply_to=replied.message_id) is not None


class PromptReason(Filter):
    """The message answers an open prompt of one kind (`kind`: the FSM data's key of those
    prompts); the handler gets `found` = (the prompt's message id, its request's id)."""

    def __init__(self, kind: str, found: str) -> None:
        self.kind, self.found = kind, found

    async def __call__(
        self, message: Message, state: FSMContext, support: SupportService | None = None
    ) -> bool | dict[str, Any]:
        data = await state.get_data()
        prompts: dict[str, int] = data.get(self.kind) or {}
        if not prompts:
            return False
        to_resident = await answers_resident(message, support)
        key = answered_prompt(data, message, answers_resident=to_resident)
        return False if key is None or key not in prompts else {self.found: (key, prompts[key])}


async def ask_own_reason(
    query: CallbackQuery,
    callback_data: StaffRepCb,
    state: FSMContext,
    representatives: RepresentativesService,
) -> None:
    rep_id = callback_data.rep_id
    if not await still_pending(query, representatives, rep_id):
        return
    await query.answer()
    text = _(
        "{who}, reply to this message with the reason for rejecting representative "
        "request #{id} (it is sent to the representative). /cancel — do not reject."
    ).format(who=query.from_user.mention_html(), id=rep_id)
    await open_prompt(query, state, text, REP_PROMPTS_KEY, rep_id)


async def reason_given(
    message: Message,
    state: FSMContext,
    representatives: RepresentativesService,
    rep_prompt: tuple[str, int],
) -> None:
    assert message.from_user is not None
    text = (message.text or "").strip()
    if not text:
        await message.reply(_("Please write the reason as text, or /cancel."))
        return
    rep_id = rep_prompt[1]
    await close_prompts(state, REP_PROMPTS_KEY, rep_id)
    outcome = await representatives.decide(
        rep_id=rep_id,
        role=None,
        operator_id=message.from_user.id,
        operator_name=operator_name(message.from_user),
        reason=text,
    )
    answer = answer_text(outcome, _("Rejected."))
    if outcome.result is Result.DONE and len(text) > MAX_REASON_LENGTH:
        answer += " " + _(
            "The reason was longer than {limit} characters: the resident got its first {limit}."
        ).format(limit=MAX_REASON_LENGTH)
    await message.reply(answer)


def register(router: Router) -> None:
    """After router.cancel_reason (so /cancel is not taken as a reason), before the links'
    reason handler (which takes what is not a representative's)."""
    flags = {DECISION: True}  # STAFF_ADMINS_ONLY: administrators only
    router.callback_query.register(
        ask_own_reason, StaffRepCb.filter(F.action == RepAction.OTHER), flags=flags
    )
    answers = PromptReason(REP_PROMPTS_KEY, "rep_prompt")
    router.message.register(reason_given, StateFilter(StaffReject.reason), answers, flags=flags)
