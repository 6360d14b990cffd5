"""Settings → E-mail through the production Dispatcher: address, code, resend, remove."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.integrations import DeliveryError, Gateways, LogSmsGateway
from bot.integrations.smtp import SmtpEmailGateway
from bot.services.clock import FrozenClock
from handlers.common.callbacks import SettingsAction, SettingsCb
from handlers.email.keyboards import EmailAction, EmailCb
from storage.db import Database
from storage.models import AuditLog, Base, ConfirmationCode, User
from tests.handlers.test_registration import register
from tests.support.fake_session import Call
from tests.support.harness import BotHarness, Person, answers, texts
from tests.support.smtp import running_smtp

OPEN_EMAIL = SettingsCb(action=SettingsAction.EMAIL).pack()
ADD = EmailCb(action=EmailAction.SET).pack()
REMOVE = EmailCb(action=EmailAction.REMOVE).pack()
RESEND = EmailCb(action=EmailAction.RESEND).pack()
CODE_RE = re.compile(r"\b(\d{6})\b")


class RecordingEmail:
    """A fake EmailGateway: records the letters; `fail` makes it refuse like a dead server."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail = False

    async def send_email(self, to: str, subject: str, body: str) -> None:
        if self.fail:
            raise DeliveryError("SMTP failed after 3 tries: SMTPConnectError")
        self.sent.append((to, subject, body))

    def last_code(self) -> str:
        match = CODE_RE.search(self.sent[-1][2])
        assert match is not None, self.sent[-1]
        return match.group(1)


@pytest.fixture
def email_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(smtp_host="127.0.0.1", smtp_from="bot@example.org")


@pytest.fixture
async def email_db(email_settings: Settings) -> AsyncIterator[Database]:
    database = Database(email_settings.database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def recorder() -> RecordingEmail:
    return RecordingEmail()


async def make_harness(
    settings: Settings, db: Database, clock: FrozenClock, email: object
) -> BotHarness:
    from bot.app import create_dispatcher

    gateways = Gateways(sms=LogSmsGateway(), email=email)  # type: ignore[arg-type]
    return BotHarness(create_dispatcher(settings, db, clock=clock, gateways=gateways))


async def close(h: BotHarness) -> None:
    await h.dp.storage.close()
    await h.bot.session.close()


@pytest.fixture
async def h(
    email_settings: Settings, email_db: Database, clock: FrozenClock, recorder: RecordingEmail
) -> AsyncIterator[BotHarness]:
    harness = await make_harness(email_settings, email_db, clock, recorder)
    yield harness
    await close(harness)


async def user(db: Database, user_id: int) -> User:
    async with db.session_maker() as s:
        found = await s.get(User, user_id)
    assert found is not None
    return found


async def code_rows(db: Database) -> list[ConfirmationCode]:
    async with db.session_maker() as s:
        return list((await s.execute(select(ConfirmationCode))).scalars())


async def start_email(h: BotHarness, person: Person) -> list[Call]:
    """Registered resident → Settings → E-mail → Add: the bot asks for the address."""
    await register(h, person)
    calls = await h.send(person, "/settings")
    assert "✉️ E-mail" in calls[-1].button_texts()
    calls = await h.press(person, calls[-1].callback_of("✉️ E-mail"))
    assert "Адрес пока не указан" in texts(calls)[-1]
    calls = await h.press(person, calls[-1].callback_of("➕ Добавить e-mail"))
    assert len(answers(calls)) == 1
    assert "Напишите адрес электронной почты" in texts(calls)[-1]
    return calls


async def test_whole_conversation(
    h: BotHarness, email_db: Database, recorder: RecordingEmail, clock: FrozenClock
) -> None:
    anna = Person(801)
    await start_email(h, anna)

    for bad in ("anna", "anna@", "an na@example.org", "a@b", "x" * 65 + "@example.org"):
        calls = await h.send(anna, bad)
        assert "не похоже на адрес электронной почты" in texts(calls)[0]
    assert recorder.sent == [] and await code_rows(email_db) == []

    calls = await h.send(anna, "  Anna@Example.ORG ")
    assert "Я отправил код на Anna@example.org" in texts(calls)[0]
    assert "30 мин" in texts(calls)[0]
    assert calls[0].button_texts() == ["🔁 Отправить код ещё раз", "✏️ Другой адрес", "✖️ Отмена"]
    [(to, subject, body)] = recorder.sent
    assert to == "Anna@example.org" and subject == "Код подтверждения"
    assert "Код действует 30 мин." in body
    code = recorder.last_code()
    [row] = await code_rows(email_db)
    assert code not in row.code_hash

    wrong = f"{(int(code) + 1) % 10**6:06d}"
    calls = await h.send(anna, wrong)
    assert texts(calls) == ["Неверный код. Осталось попыток для этого кода: 4."]
    calls = await h.send(anna, "не код")  # letters: a typo, not a guess — not counted
    assert texts(calls) == ["Код — это шесть цифр. Пожалуйста, введите цифры из сообщения."]
    [row] = await code_rows(email_db)
    assert row.attempts == 1  # the wrong code was counted and committed
    assert (await user(email_db, anna.id)).email is None

    calls = await h.send(anna, code)
    assert "Готово! Ваш e-mail Anna@example.org подтверждён." in texts(calls)[0]
    assert "⚙️ Настройки" in calls[0].button_texts()  # back to the main menu
    saved = await user(email_db, anna.id)
    assert saved.email == "Anna@example.org" and saved.email_verified_at == clock.now()

    calls = await h.send(anna, "/settings")
    assert "E-mail: Anna@example.org" in texts(calls)[0]
    calls = await h.press(anna, OPEN_EMAIL)
    assert "Ваш подтверждённый адрес: Anna@example.org" in texts(calls)[-1]
    async with email_db.session_maker() as s:
        actions = [a.action for a in (await s.execute(select(AuditLog))).scalars()]
    assert "code_sent" in actions and "email_verified" in actions


async def test_expired_code_then_resend(
    h: BotHarness, email_db: Database, recorder: RecordingEmail, clock: FrozenClock
) -> None:
    anna = Person(802)
    await start_email(h, anna)
    await h.send(anna, "anna@example.org")
    old = recorder.last_code()
    clock.advance(minutes=31)
    calls = await h.send(anna, old)
    assert texts(calls) == [
        "Срок действия кода истёк. Нажмите «Отправить код ещё раз», чтобы получить новый."
    ]

    calls = await h.press(anna, RESEND)
    assert len(answers(calls)) == 1
    assert "Я отправил код на anna@example.org" in texts(calls, "sendMessage")[0]
    assert len(recorder.sent) == 2
    calls = await h.send(anna, recorder.last_code())
    assert "подтверждён" in texts(calls)[0]


async def test_resend_waits_a_minute_and_supersedes(
    h: BotHarness, email_db: Database, recorder: RecordingEmail, clock: FrozenClock
) -> None:
    anna = Person(803)
    await start_email(h, anna)
    await h.send(anna, "anna@example.org")
    first = recorder.last_code()
    clock.advance(seconds=20)
    calls = await h.press(anna, RESEND)
    [answer] = answers(calls)
    assert answer.params["text"] == ("Новый код можно будет отправить через 40 с.")
    assert answer.params["show_alert"] is True
    assert len(recorder.sent) == 1

    clock.advance(seconds=40)
    await h.press(anna, RESEND)
    second = recorder.last_code()
    assert len(recorder.sent) == 2
    if first != second:
        calls = await h.send(anna, first)
        assert texts(calls) == ["Неверный код. Осталось попыток для этого кода: 4."]
    calls = await h.send(anna, second)
    assert "подтверждён" in texts(calls)[0]


async def test_five_wrong_codes_exhaust_it(
    h: BotHarness, email_db: Database, recorder: RecordingEmail
) -> None:
    anna = Person(804)
    await start_email(h, anna)
    await h.send(anna, "anna@example.org")
    code = recorder.last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    said = [texts(await h.send(anna, wrong))[0] for _ in range(5)]
    assert said[:4] == [
        f"Неверный код. Осталось попыток для этого кода: {n}." for n in (4, 3, 2, 1)
    ]
    exhausted = (
        "Слишком много неверных попыток: этот код больше не действует. "
        "Нажмите «Отправить код ещё раз», чтобы получить новый."
    )
    assert said[4] == exhausted
    assert texts(await h.send(anna, code)) == [exhausted]
    assert (await user(email_db, anna.id)).email is None


async def test_sixth_code_of_the_day_is_refused(
    h: BotHarness, email_db: Database, recorder: RecordingEmail, clock: FrozenClock
) -> None:
    anna = Person(805)
    await start_email(h, anna)
    await h.send(anna, "anna@example.org")
    for _ in range(4):
        clock.advance(seconds=61)
        await h.press(anna, RESEND)
    assert len(recorder.sent) == 5
    clock.advance(seconds=61)
    calls = await h.press(anna, RESEND)
    assert "отправлено слишком много кодов" in texts(calls, "sendMessage")[0]
    assert len(recorder.sent) == 5 and len(await code_rows(email_db)) == 5


async def test_delivery_failure_leaves_nothing(
    h: BotHarness, email_db: Database, recorder: RecordingEmail
) -> None:
    anna = Person(806)
    await start_email(h, anna)
    recorder.fail = True
    calls = await h.send(anna, "anna@example.org")
    assert texts(calls) == [
        "Не удалось отправить письмо. Пожалуйста, попробуйте позже; ничего не изменилось."
    ]
    assert await code_rows(email_db) == []
    assert (await user(email_db, anna.id)).email is None
    # the failed try does not hold the resident back: with the server back, it works at once
    recorder.fail = False
    calls = await h.send(anna, "anna@example.org")
    assert "Я отправил код" in texts(calls)[0]
    assert len(await code_rows(email_db)) == 1


async def test_change_remove_and_same_address(
    h: BotHarness, email_db: Database, recorder: RecordingEmail, clock: FrozenClock
) -> None:
    anna = Person(807)
    await start_email(h, anna)
    await h.send(anna, "anna@example.org")
    await h.send(anna, recorder.last_code())

    calls = await h.press(anna, OPEN_EMAIL)
    assert calls[-1].button_texts() == ["✏️ Изменить e-mail", "🗑 Удалить e-mail", "⬅️ Назад"]
    await h.press(anna, ADD)
    calls = await h.send(anna, "anna@EXAMPLE.org")
    assert texts(calls) == ["Этот адрес уже подтверждён."]

    # a change that is never confirmed keeps the old address
    clock.advance(seconds=61)
    await h.send(anna, "new@example.org")
    await h.send(anna, "/cancel")
    assert (await user(email_db, anna.id)).email == "anna@example.org"

    calls = await h.press(anna, REMOVE)
    assert answers(calls)[0].params["text"] == "E-mail удалён."
    assert "Адрес пока не указан" in texts(calls)[-1]
    saved = await user(email_db, anna.id)
    assert saved.email is None and saved.email_verified_at is None


async def test_cancel_and_non_text(h: BotHarness, recorder: RecordingEmail) -> None:
    anna = Person(808)
    await start_email(h, anna)
    calls = await h.send(
        anna,
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        },
    )
    assert texts(calls) == ["Пожалуйста, напишите текстом или нажмите «Отмена»."]
    await h.send(anna, "anna@example.org")
    calls = await h.send(anna, "✖️ Отмена")
    assert texts(calls)[0] == "Отменено."
    calls = await h.send(anna, recorder.last_code())
    assert "не понял" in texts(calls)[0]  # the state is gone: the code is just text now
    calls = await h.press(anna, RESEND)
    assert answers(calls)[0].params["text"] == "Эта кнопка больше не действует."


async def test_email_disabled_hides_button_and_refuses_forged_presses(
    harness: BotHarness,
) -> None:
    anna = Person(809)
    await register(harness, anna)
    calls = await harness.send(anna, "/settings")
    assert "✉️ E-mail" not in calls[-1].button_texts()
    for data in (OPEN_EMAIL, ADD, RESEND, REMOVE):
        calls = await harness.press(anna, data)
        [answer] = answers(calls)
        assert answer.params["text"] == "E-mail в этом боте недоступен."
        assert [c for c in calls if c.method != "answerCallbackQuery"] == []


async def test_unregistered_presser_is_sent_to_registration(h: BotHarness) -> None:
    calls = await h.press(Person(810), OPEN_EMAIL)
    assert answers(calls)[0].params["text"] == "Сначала завершите регистрацию."


async def test_real_smtp_gateway_in_the_handler_path(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    email_db: Database,
    clock: FrozenClock,
) -> None:
    with running_smtp(tmp_path) as server:
        settings = make_settings(
            smtp_host=server.host,
            smtp_port=server.port,
            smtp_from="Кабинет <bot@example.org>",
            smtp_tls="none",
        )
        bot = await make_harness(settings, email_db, clock, SmtpEmailGateway(settings))
        try:
            anna = Person(811)
            await start_email(bot, anna)
            calls = await bot.send(anna, "anna@example.org")
            assert "Я отправил код на anna@example.org" in texts(calls)[0]
            [got] = server.messages
            assert got.rcpt_tos == ["anna@example.org"]
            assert got.message["Subject"] == "Код подтверждения"
            match = CODE_RE.search(got.message.get_content())
            assert match is not None
            calls = await bot.send(anna, match.group(1))
            assert "подтверждён" in texts(calls)[0]
        finally:
            await close(bot)
    assert (await user(email_db, 811)).email == "anna@example.org"


async def test_real_smtp_server_down(
    make_settings: Callable[..., Settings], email_db: Database, clock: FrozenClock
) -> None:
    from tests.support.smtp import free_port

    settings = make_settings(
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_from="bot@example.org", smtp_tls="none"
    )
    gateway = SmtpEmailGateway(settings, backoff_s=0.01)
    bot = await make_harness(settings, email_db, clock, gateway)
    try:
        anna = Person(812)
        await start_email(bot, anna)
        calls = await bot.send(anna, "anna@example.org")
        assert "Не удалось отправить письмо" in texts(calls)[0]
    finally:
        await close(bot)
    assert await code_rows(email_db) == []
