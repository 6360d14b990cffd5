"""Support conversations over real HTTP: the real bot process against sandbox/.

A forum staff chat (one topic per resident; polling and webhook, the shared `world`) and a
plain one (copies under a one-line header, answers by reply; its own bot process). What
residents and operators see, and what is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from handlers.support.callbacks import RateCb, TicketAction, TicketCb
from sandbox.testing import BotMessage, Group, Sandbox
from sandbox.testing import User as SandboxUser
from storage.models import SupportTopic, Ticket, User
from tests.e2e.conftest import STAFF_GROUP_ID, BotProcess, World, bot_env, free_port
from tests.e2e.test_linking_e2e import ask_operator, query, registered, seed_account

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

SUPPORT = "💬 Написать в поддержку"
PASSED = "✅ Передано операторам (обращение №"
ACCEPTED = "Операторам доходят текст, фото, документы, голосовые сообщения и видео."
PLAIN_GROUP_ID = -1005550001111

#: the bot's start may take long on a machine shared by several test runs (imports alone)
START_TIMEOUT = 180.0


@contextlib.asynccontextmanager
async def staff_world(tmp: Path, *, forum: bool, group_id: int) -> AsyncIterator[World]:
    """A sandbox with a staff supergroup (a forum or not), an operator, and the bot."""
    async with Sandbox() as sb:
        staff = sb.supergroup("Операторы", is_forum=forum, id=group_id)
        operator = sb.user("Ольга", language_code="ru")
        staff.add_member(bot=True, status="administrator")
        staff.add_member(operator, status="administrator" if forum else "member")
        port = free_port()
        env = bot_env(sb, tmp, "polling", port, STAFF_CHAT_ID=str(group_id))
        process = BotProcess(env=env, log_path=tmp / "bot.log", web_port=port)
        await process.start(timeout=START_TIMEOUT)
        await sb.wait_until_receiving()
        try:
            yield World(sb, process, "polling", env["DATABASE_URL"], staff, operator)
        finally:
            code = await process.stop()
            assert code in (0, -signal.SIGTERM), process.log()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """The forum staff chat of these tests (overrides the shared one: its own bot process)."""
    async with staff_world(
        tmp_path_factory.mktemp("e2e-forum"), forum=True, group_id=STAFF_GROUP_ID
    ) as w:
        yield w


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plain(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with staff_world(
        tmp_path_factory.mktemp("e2e-plain"), forum=False, group_id=PLAIN_GROUP_ID
    ) as w:
        yield w


async def open_support(user: SandboxUser) -> BotMessage:
    await user.send(SUPPORT)
    intro = await user.next_message()
    assert intro.text.startswith("💬 Связь с поддержкой"), intro.text
    return intro


def topic_of(staff: Group, name: str) -> int:
    """The resident's topic (its title holds their name); exactly one."""
    found = [tid for tid, title in staff.topics.items() if f" {name} · #" in f" {title}"]
    assert len(found) == 1, staff.topics
    return found[0]


async def staff_texts(staff: Group, thread: int, count: int) -> list[str]:
    """The texts (or captions) of the next `count` bot messages in a topic."""
    return [(await staff.next_message(thread_id=thread)).text for _ in range(count)]


async def talking(world: World, name: str) -> tuple[SandboxUser, int, int]:
    """A registered resident who wrote once: (resident, topic, ticket id)."""
    world.staff.skip_messages()
    resident = await registered(world, name)
    await open_support(resident)
    await resident.send("Здравствуйте, вопрос по начислениям")
    passed = await resident.next_message()
    assert passed.text.startswith(PASSED), passed.text
    thread = topic_of(world.staff, name)
    card, copy = await staff_texts(world.staff, thread, 2)
    assert card.startswith("🟢 Обращение №") and f"👤 {name}" in card
    assert copy == "Здравствуйте, вопрос по начислениям"
    [ticket] = await query(world, select(Ticket).where(Ticket.user_id == resident.id))
    return resident, thread, ticket.id


# --------------------------------------------------------------------------- forum
async def test_first_messages_at_once_make_one_topic(world: World) -> None:
    world.staff.skip_messages()
    arina = await registered(world, "Арина")
    await open_support(arina)
    await asyncio.gather(arina.send("Первое"), arina.send("Второе"))  # one batch of updates
    answers = [(await arina.next_message()).text for _ in range(2)]
    assert all(a.startswith(PASSED) for a in answers), answers
    thread = topic_of(world.staff, "Арина")
    texts = await staff_texts(world.staff, thread, 3)
    assert texts[0].startswith("🟢 Обращение №")
    assert "👤 Арина" in texts[0] and "📱 Телефон: +7 *** ***-" in texts[0]
    assert "🏠 Привязанных лицевых счетов нет." in texts[0]
    assert texts[1:] == ["Первое", "Второе"]
    topics = await query(world, select(SupportTopic).where(SupportTopic.user_id == arina.id))
    assert [t.thread_id for t in topics] == [thread]
    tickets = await query(world, select(Ticket).where(Ticket.user_id == arina.id))
    assert [(t.kind, t.status) for t in tickets] == [("question", "open")]
    assert world.staff.topics[thread] == f"🟢 Арина · #{tickets[0].id}"


async def test_operator_answers_and_edits_anonymously(world: World) -> None:
    boris, thread, _ = await talking(world, "Борислав")
    op = world.operator
    answer = await op.send("Здравствуйте! Проверяем.", chat=world.staff, thread_id=thread)
    got = await boris.next_message()
    assert got.text == "Здравствуйте! Проверяем."
    assert got.raw["from"]["is_bot"] and "Ольга" not in str(got.raw)
    await op.edit(answer, "Здравствуйте! Уже проверили: всё верно.")
    edited = await boris.next_edit()
    assert edited.message_id == got.message_id
    assert edited.text == "Здравствуйте! Уже проверили: всё верно."
    photo = await op.send_photo(caption="Квитанция", chat=world.staff, thread_id=thread)
    copy = await boris.next_message()
    assert copy.photo is not None and copy.text == "Квитанция"
    await op.edit_caption(photo, "Квитанция за ноябрь")
    assert (await boris.next_edit()).text == "Квитанция за ноябрь"
    await world.staff.expect_no_message(0.5, thread_id=thread)  # nothing to complain about


async def test_album_voice_video_and_what_is_not_accepted(world: World) -> None:
    vera, thread, _ = await talking(world, "Вероника")
    await vera.send_album(3, caption="Счётчики")
    assert (await vera.next_message()).text.startswith(PASSED)
    copies = [await world.staff.next_message(thread_id=thread) for _ in range(3)]
    assert all(c.photo is not None for c in copies)
    assert copies[0].text == "Счётчики"
    await vera.expect_no_message(0.5)  # one answer for the album
    await vera.send_voice()
    assert (await vera.next_message()).text.startswith(PASSED)
    assert "voice" in (await world.staff.next_message(thread_id=thread)).raw
    await vera.send_video(caption="Течёт кран")
    assert (await vera.next_message()).text.startswith(PASSED)
    assert (await world.staff.next_message(thread_id=thread)).text == "Течёт кран"
    await vera.send_sticker()
    assert (await vera.next_message()).text.startswith(ACCEPTED)
    await vera.send_location(55.75, 37.62)
    assert (await vera.next_message()).text.startswith(ACCEPTED)
    await world.staff.expect_no_message(0.5, thread_id=thread)


async def test_deleted_topic_is_made_again(world: World) -> None:
    gleb, thread, ticket_id = await talking(world, "Глеб")
    world.staff.delete_topic(thread)
    await gleb.send("Вы тут?")
    assert (await gleb.next_message()).text.startswith(PASSED)
    new = topic_of(world.staff, "Глеб")
    assert new != thread
    card, copy = await staff_texts(world.staff, new, 2)
    assert card.startswith(f"🟢 Обращение №{ticket_id}") and "👤 Глеб" in card
    assert copy == "Вы тут?"
    [row] = await query(world, select(SupportTopic).where(SupportTopic.user_id == gleb.id))
    assert row.thread_id == new
    # the operator's answer in the new topic reaches the resident
    await world.operator.send("Да, мы здесь.", chat=world.staff, thread_id=new)
    assert (await gleb.next_message()).text == "Да, мы здесь."


async def test_blocked_resident_operator_is_told(world: World) -> None:
    dina, thread, _ = await talking(world, "Дина")
    dina.block_bot()
    await world.operator.send("Ответ на ваш вопрос", chat=world.staff, thread_id=thread)
    told = await world.staff.next_message(thread_id=thread)
    assert told.text == "⛔ Житель заблокировал бота: это сообщение он не получил."
    [user] = await query(world, select(User).where(User.id == dina.id))
    assert user.inactive_since is not None


async def test_close_rate_and_reopen(world: World) -> None:
    egor, thread, ticket_id = await talking(world, "Егор")
    await world.operator.send("/close", chat=world.staff, thread_id=thread)
    note = await world.staff.next_message(thread_id=thread)
    assert note.text == f"✅ Обращение №{ticket_id} закрыто; жителю предложено оценить помощь."
    assert world.staff.topics[thread] == f"✅ Егор · #{ticket_id}"
    assert world.staff.topic_closed(thread)
    ask = await egor.next_message()
    assert ask.text.startswith(f"✅ Обращение №{ticket_id} закрыто.")
    assert ask.buttons == [["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]]
    forged = await egor.press_data(RateCb(ticket_id=ticket_id, stars=9).pack(), message=ask)
    assert forged.text == "Эта кнопка больше не действует."
    await egor.press("4⭐", message=ask)
    assert (
        await egor.next_message()
    ).text == f"Спасибо! Ваша оценка обращения №{ticket_id}: ⭐⭐⭐⭐"
    rated = await world.staff.next_message(thread_id=thread)
    assert rated.text == f"⭐ Житель оценил обращение №{ticket_id}: 4 из 5"
    again = await egor.press_data(RateCb(ticket_id=ticket_id, stars=1).pack(), message=ask)
    assert again.text == "Вы уже оценили это обращение."
    [ticket] = await query(world, select(Ticket).where(Ticket.id == ticket_id))
    assert (ticket.status, ticket.rating) == ("closed", 4)
    # /close took the card's button off; pressed anyway (an old client), nothing changes
    card = world.staff.messages(thread_id=thread)[0]
    assert card.buttons == []
    close = TicketCb(action=TicketAction.CLOSE, ticket_id=ticket_id).pack()
    old = await world.operator.press_data(close, message=card)
    assert old.text == f"Обращение №{ticket_id} уже закрыто."
    # the resident writes again: a new ticket in the same topic, reopened
    await egor.send("Ещё вопрос")
    assert (await egor.next_message()).text.startswith(PASSED)
    tickets = await query(world, select(Ticket).where(Ticket.user_id == egor.id))
    assert [t.status for t in tickets] == ["closed", "open"]
    assert world.staff.topics[thread] == f"🟢 Егор · #{tickets[1].id}"
    assert not world.staff.topic_closed(thread)
    card2, copy = await staff_texts(world.staff, thread, 2)
    assert card2.startswith(f"🟢 Обращение №{tickets[1].id}") and copy == "Ещё вопрос"
    # closed by the button this time
    fresh = world.staff.messages(thread_id=thread)[-2]
    await world.operator.press(f"✅ Закрыть обращение №{tickets[1].id}", message=fresh)
    done = await world.staff.next_message(thread_id=thread)
    assert done.text.startswith(f"✅ Обращение №{tickets[1].id} закрыто")
    await egor.next_message()  # asked to rate the second ticket
    # the operator writes first this time: a third ticket, with its card and close button
    await world.operator.send("Егор, по вашему вопросу есть новости", chat=world.staff,
                              thread_id=thread)  # fmt: skip
    assert (await egor.next_message()).text == "Егор, по вашему вопросу есть новости"
    tickets = await query(world, select(Ticket).where(Ticket.user_id == egor.id))
    third = tickets[2].id
    assert [t.status for t in tickets] == ["closed", "closed", "open"]
    card3, said = await staff_texts(world.staff, thread, 2)
    assert card3.startswith(f"🟢 Обращение №{third}")
    assert said == f"🟢 Этим ответом открыто обращение №{third}."
    assert world.staff.topics[thread] == f"🟢 Егор · #{third}"
    await world.operator.press(f"✅ Закрыть обращение №{third}", message=world.staff.messages(
        thread_id=thread)[-2])  # fmt: skip
    assert (await world.staff.next_message(thread_id=thread)).text.startswith(
        f"✅ Обращение №{third} закрыто"
    )


async def test_link_request_lands_in_the_residents_topic(world: World) -> None:
    zhanna, thread, _ = await talking(world, "Жанна")
    _, number = await seed_account(world)
    await ask_operator(zhanna, number, name="Жанна Петрова", address="Садовая 3", photo=None)
    card = await world.staff.next_message(thread_id=thread)
    assert f"Лицевой счёт: {number}" in card.text
    assert card.buttons == [["✅ Одобрить", "❌ Отклонить"]]
    assert topic_of(world.staff, "Жанна") == thread


async def test_a_message_while_no_ticket_is_open(world: World) -> None:
    """Outside the conversation and without an open ticket the fallback answers; with an
    open ticket a resident's message still reaches the operators."""
    ilya = await registered(world, "Илья")
    await ilya.send("просто текст")
    assert (await ilya.next_message()).text.startswith("Я не понял")
    ilya2, thread, _ = await talking(world, "Ирина")
    await ilya2.send("/start")
    await ilya2.next_message()  # the main menu
    await ilya2.send("ещё одно")
    assert (await ilya2.next_message()).text.startswith(PASSED)
    assert (await world.staff.next_message(thread_id=thread)).text == "ещё одно"


# --------------------------------------------------------------------------- plain group
async def test_plain_group_header_reply_and_close(plain: World) -> None:
    staff, op = plain.staff, plain.operator
    boris = await registered(plain, "Богдан")
    await open_support(boris)
    long_text = "я" * 4096  # Telegram's limit: the header is a message of its own
    original = await boris.send(long_text)
    assert (await boris.next_message()).text.startswith(PASSED)
    [ticket] = await query(plain, select(Ticket).where(Ticket.user_id == boris.id))
    card = await staff.next_message()
    assert card.text.startswith(f"🟢 Обращение №{ticket.id}") and "👤 Богдан" in card.text
    header = await staff.next_message()
    assert header.text == f"👤 Богдан · №{ticket.id} — чтобы ответить, ответьте на сообщение ниже"
    copy = await staff.next_message()
    assert copy.text == long_text and copy.reply_to_message_id == header.message_id
    assert staff.topics == {}
    await op.send("Не отвечено на сообщение — не уходит", chat=staff)
    await boris.expect_no_message(0.5)
    await op.send("Ответ по вашему вопросу", chat=staff, reply_to=copy)
    answer = await boris.next_message()
    assert answer.text == "Ответ по вашему вопросу"
    assert answer.reply_to_message_id == original.message_id  # it quotes his question
    await op.send("Ответ на заголовок тоже доходит", chat=staff, reply_to=header)
    assert (await boris.next_message()).text == "Ответ на заголовок тоже доходит"
    await op.send("/close", chat=staff, reply_to=copy)
    closed = await staff.next_message()
    assert closed.text == f"✅ Обращение №{ticket.id} закрыто; жителю предложено оценить помощь."
    assert (await boris.next_message()).buttons == [["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]]


async def test_plain_group_link_card_unchanged(plain: World) -> None:
    resident = await registered(plain, "Павел")
    _, number = await seed_account(plain)
    plain.staff.skip_messages()
    await ask_operator(resident, number, name="Павел Петров", address="Садовая 3", photo=None)
    card = await plain.staff.next_message()
    assert f"Лицевой счёт: {number}" in card.text and card.thread_id is None


async def test_deleting_my_data_takes_the_topic_away(world: World) -> None:
    """152-ФЗ: the topic's title is the resident's name, its messages their words."""
    yana, thread, _ = await talking(world, "Яна")
    await yana.send("⚙️ Настройки")
    settings = await yana.next_message()
    await yana.press("🗑 Удалить мои данные", message=settings)
    confirm = await yana.next_edit()
    await yana.press("Да, удалить мои данные", message=confirm)
    assert (await yana.next_edit()).text == "Ваши данные удалены, согласие отозвано."
    for _ in range(100):
        if thread not in world.staff.topics:
            break
        await asyncio.sleep(0.05)
    assert thread not in world.staff.topics
    assert not [title for title in world.staff.topics.values() if "Яна" in title]
    assert await query(world, select(SupportTopic).where(SupportTopic.user_id == yana.id)) == []
