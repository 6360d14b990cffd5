"""Registration over real HTTP, in long polling and in webhook mode."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sandbox.testing import User as SandboxUser
from storage.db import Database
from storage.models import User as UserRow
from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def stored_user(world: World, user_id: int) -> UserRow | None:
    db = Database(world.database_url)
    try:
        async with db.session_maker() as s:
            return (
                await s.execute(select(UserRow).where(UserRow.id == user_id))
            ).scalar_one_or_none()
    finally:
        await db.dispose()


async def register(user: SandboxUser) -> None:
    """/start → consent → phone, consuming every message and edit on the way."""
    await user.send("/start")
    await user.next_message()  # greeting
    agree = "✅ I agree" if user.language_code == "en" else "✅ Даю согласие"
    await user.press(agree, message=await user.next_message())
    await user.next_edit()  # the consent message, buttons removed
    await user.next_message()  # asks for the phone
    await user.share_contact()
    await user.next_message()  # registered, main menu
    await user.next_message()  # the next step: link an account (nothing on file for the phone)


async def test_full_registration(world: World) -> None:
    anna = world.resident("Анна")
    await anna.send("/start")
    hello = await anna.next_message()
    assert hello.text.startswith("Здравствуйте, Анна!")
    consent = await anna.next_message()
    assert "152-ФЗ" in consent.text
    assert consent.buttons == [["✅ Даю согласие", "❌ Не даю согласия"]]
    answer = await anna.press("✅ Даю согласие", message=consent)
    assert answer.text == "Спасибо!"
    ask = await anna.next_message()
    assert ask.reply_keyboard == [["📱 Поделиться номером телефона"], ["✖️ Отмена"]]
    await anna.share_contact()
    done = await anna.next_message()
    assert done.text == "Спасибо, вы зарегистрированы."
    assert (
        done.reply_keyboard is not None
        and ["💳 Баланс", "📟 Показания счётчиков"] in done.reply_keyboard
    )
    next_step = await anna.next_message()
    assert next_step.text.startswith("Теперь привяжите лицевой счёт")
    assert next_step.buttons == [["➕ Привязать лицевой счёт"]]
    row = await stored_user(world, anna.id)
    assert row is not None and row.phone == anna.phone and row.consent_version == "1"


async def test_commands_are_registered_in_both_languages(world: World) -> None:
    scope = {"type": "all_private_chats"}
    ru = {
        c["command"]: c["description"] for c in world.sb.commands(scope=scope, language_code="ru")
    }
    en = {
        c["command"]: c["description"] for c in world.sb.commands(scope=scope, language_code="en")
    }
    assert ru["start"] == "Главное меню" and en["start"] == "Main menu"
    assert set(ru) == set(en) == {"start", "help", "cancel", "settings"}


async def test_someone_elses_contact_is_refused(world: World) -> None:
    boris = world.resident("Борис")
    await boris.send("/start")
    await boris.next_message()
    await boris.press("✅ Даю согласие", message=await boris.next_message())
    await boris.next_edit()
    await boris.next_message()
    await boris.share_contact(phone="+79035550011", user_id=123456)
    refusal = await boris.next_message()
    assert "Это не ваш контакт" in refusal.text
    assert refusal.reply_keyboard == [["📱 Поделиться номером телефона"], ["✖️ Отмена"]]
    await boris.send("89161234567")
    assert "набранный вручную номер проверить нельзя" in (await boris.next_message()).text
    row = await stored_user(world, boris.id)
    assert row is not None and row.phone is None


async def test_consent_declined(world: World) -> None:
    vera = world.resident("Вера")
    await vera.send("/start")
    await vera.next_message()
    consent = await vera.next_message()
    await vera.press("❌ Не даю согласия", message=consent)
    edited = await vera.next_edit()
    assert edited.text.endswith("❌ Вы отказались.") and edited.buttons == []
    bye = await vera.next_message()
    assert "Никаких данных о вас не сохранено" in bye.text
    assert await stored_user(world, vera.id) is None


async def test_cancel_from_every_state(world: World) -> None:
    gleb = world.resident("Глеб")
    await gleb.send("/start")
    await gleb.next_message()
    await gleb.next_message()
    await gleb.send("/cancel")  # from the consent step
    assert (
        await gleb.next_message()
    ).text == "Отменено. Отправьте /start, когда будете готовы продолжить."
    await gleb.send("/start")
    await gleb.next_message()
    await gleb.press("✅ Даю согласие", message=await gleb.next_message())
    await gleb.next_edit()
    await gleb.next_message()
    await gleb.send("✖️ Отмена")  # from the phone step, with the button
    cancelled = await gleb.next_message()
    assert cancelled.text.startswith("Отменено.") and cancelled.reply_keyboard_removed
    await gleb.send("/start")
    await gleb.next_message()  # asks the phone again: consent is kept
    await gleb.share_contact()
    await gleb.next_message()  # registered
    await gleb.next_message()  # the next step
    await gleb.send("/cancel")  # from the main menu
    assert (await gleb.next_message()).text == "Отменено."


async def test_language_switch(world: World) -> None:
    john = world.resident("John", language_code="en")
    await register(john)
    await john.send("⚙️ Settings")
    settings = await john.next_message()
    assert settings.text.startswith("Settings")
    await john.press("🌐 Language", message=settings)
    languages = await john.next_edit()
    assert languages.text == "Choose the language:"
    await john.press("Русский", message=languages)
    switched = await john.next_message()
    assert switched.text == "Готово, теперь я говорю по-русски."
    assert switched.reply_keyboard is not None and ["⚙️ Настройки"] in switched.reply_keyboard
    await john.send("/help")
    assert "Что я умею" in (await john.next_message()).text


async def test_delete_my_data(world: World) -> None:
    dasha = world.resident("Даша")
    await register(dasha)
    await dasha.send("⚙️ Настройки")
    settings = await dasha.next_message()
    await dasha.press("🗑 Удалить мои данные", message=settings)
    confirm = await dasha.next_edit()
    assert confirm.text.startswith("Удалить мои данные?")
    await dasha.press("Да, удалить мои данные", message=confirm)
    assert (await dasha.next_edit()).text == "Ваши данные удалены, согласие отозвано."
    bye = await dasha.next_message()
    assert "отправьте /start" in bye.text and bye.reply_keyboard_removed
    assert await stored_user(world, dasha.id) is None
    await dasha.send("💳 Баланс")
    assert "152-ФЗ" in (await dasha.next_message()).text


async def test_restart_half_way_resumes(world: World) -> None:
    egor = world.resident("Егор")
    await egor.send("/start")
    await egor.next_message()
    await egor.press("✅ Даю согласие", message=await egor.next_message())
    await egor.next_edit()
    await egor.next_message()  # asked for the phone
    await world.bot.stop()
    await world.bot.start()
    await egor.share_contact()  # the phone step survived the restart
    assert (await egor.next_message()).text == "Спасибо, вы зарегистрированы."
    row = await stored_user(world, egor.id)
    assert row is not None and row.phone == egor.phone


async def test_flood_control_over_http(world: World) -> None:
    zoya = world.resident("Зоя")
    world.sb.simulate_flood("sendMessage", retry_after=1, times=1, chat_id=zoya.id)
    await zoya.send("/start")
    assert (await zoya.next_message()).text.startswith("Здравствуйте, Зоя!")
    assert "152-ФЗ" in (await zoya.next_message()).text
    refused = world.sb.sent(chat_id=zoya.id, method="sendMessage", ok=False)
    assert [c.error_code for c in refused] == [429]


async def test_metrics_of_the_running_bot(world: World) -> None:
    import aiohttp

    tanya = world.resident("Таня")
    await register(tanya)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{world.bot.web_port}/metrics") as response,
    ):
        assert response.status == 200
        text = await response.text()
    updates = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('kabinet_updates_total{type="message"}')
    ]
    assert updates and updates[0] >= 2  # /start and the contact at least, in this process
    assert 'kabinet_residents{state="registered"}' in text
