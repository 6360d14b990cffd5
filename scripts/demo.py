#!/usr/bin/env python3
"""``make demo``: the real bot in a browser chat over sandbox/, without Telegram.

    python scripts/demo.py [--port 8080] [--lang ru|en] [--workdir .cache/demo]

1. a fresh SQLite database in the work folder, migrated and filled with the demo data
   (`run_bot.py demo-data`: two suppliers, fifty accounts, a year of history);
2. sandbox/ on a free loopback port: a staff forum supergroup where the bot and two operators
   are administrators, and a Telegram user for each demo resident (phones from the demo data);
3. the real bot, ``python run_bot.py run``, long-polling the sandbox (its log: bot.log in the
   work folder); SMS codes go to the page, which stands in for the SMS provider;
4. the page (sandbox.webchat) on 127.0.0.1:DEMO_PORT, whose address is printed when it is ready.

Ctrl-C (or SIGTERM) stops everything it started; the bot also dies with this process if it is
killed outright (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.services.demo import DemoAccount, DemoSummary  # noqa: E402
from sandbox.testing import Sandbox, random_token  # noqa: E402
from sandbox.webchat import Person, WebChat  # noqa: E402

STAFF_CHAT_ID = -1001234567890
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Resident:
    """A demo resident: a Telegram user whose phone matches (or not) the demo billing data."""

    account: DemoAccount
    phone: str
    language: str
    notes: dict[str, str]

    #: the name Telegram shows; by default the account holder's (surname first on file)
    name: tuple[str, str] | None = None

    @property
    def first_last(self) -> tuple[str, str]:
        if self.name is not None:
            return self.name
        surname, first, *_ = [*self.account.holder_name.split(), "", ""]
        return first or surname, surname if first else ""


def residents(demo: DemoSummary) -> list[Resident]:
    """Who the page offers to act as, and what each one shows (phones from the demo data)."""
    t, a, s, n = demo.typical, demo.access_code, demo.two_phones, demo.no_phone
    d, o, gas = demo.debtor, demo.overpaid, demo.gas.number
    # (account, their phone is on file for it, Telegram's language, what it shows: ru, en)
    table = [
        (t, True, "ru",
         f"Телефон в учёте двух счетов (УК № {t.number} и газ № {gas}): после регистрации "
         "бот предложит привязать их одним нажатием.",
         f"Phone on file for two accounts (housing № {t.number} and gas № {gas}): after "
         "registering, both are linked with one tap."),
        (a, False, "ru",
         f"Привязка № {a.number} кодом доступа {a.access_code} из квитанции.",
         f"Links № {a.number} with the access code {a.access_code} from the receipt."),
        (s, False, "ru",
         f"Привязка № {s.number} кодом из СМС на телефон из учёта (СМС — ниже слева).",
         f"Links № {s.number} with a code sent by SMS to the phone on file (the SMS shows "
         "below, on the left)."),
        (n, False, "ru",
         f"У № {n.number} нет телефона в учёте: заявка оператору, который решает её в чате "
         "операторов справа.",
         f"№ {n.number} has no phone on file: a request to the operators, decided in the staff "
         "chat on the right."),
        (d, True, "ru",
         f"Долг за пять месяцев по № {d.number}: баланс и квитанция.",
         f"Owes for five months on № {d.number}: balance and receipt."),
        (o, True, "ru",
         f"Переплата 3000 ₽ по № {o.number}.",
         f"Paid 3,000 ₽ ahead on № {o.number}."),
        (demo.expired_meter, True, "ru",
         "Срок поверки счётчика горячей воды истёк: показания.",
         "The hot-water meter is past its verification date: meter readings."),
        (demo.no_meters, True, "en",
         "Telegram на английском: бот отвечает по-английски. Квартира без счётчиков.",
         "Telegram in English: the bot answers in English. A flat without meters."),
    ]  # fmt: skip
    fresh = iter(f"+7999000{i:04d}" for i in range(101, 200))  # on file for no account
    people = [
        Resident(acc, acc.phones[0] if own else next(fresh), lang, {"ru": ru, "en": en})
        for acc, own, lang, ru, en in table
    ]
    people[-1] = replace(people[-1], name=("Emily", "Carter"))
    if (org := demo.organisation) is not None:  # last: the others keep their places
        ru = (
            f"Представитель организации {org.holder_name}: «Привязать лицевой счёт» → «Я "
            f"представитель организации», ИНН {org.holder_inn}, филиал, договор "
            f"{org.contract_number}, доверенность (PDF или фото) — оператор справа одобряет "
            "как управляющего или бухгалтера."
        )
        en = (
            f"A representative of {org.holder_name}: «Link an account» → «I represent an "
            f"organisation», ИНН {org.holder_inn}, the branch, contract {org.contract_number}, "
            "a power of attorney (PDF or photo) — the operator on the right approves as "
            "manager or accountant."
        )
        name = ("Мария", "Смирнова")  # a person, not the holder's name
        people.append(Resident(org, next(fresh), "ru", {"ru": ru, "en": en}, name=name))
    return people


# --------------------------------------------------------------------------- preparing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def fresh_database(workdir: Path) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("kabinet.db", "kabinet.db-wal", "kabinet.db-shm"):
        (workdir / name).unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{workdir / 'kabinet.db'}"


def seed(database_url: str) -> DemoSummary:
    """Migrate the fresh database and load the demo data (as `run_bot.py demo-data` does)."""
    from bot.cli import migrate_or_explain
    from bot.services.clock import SystemClock
    from bot.services.demo import seed_demo
    from storage.db import Database

    migrate_or_explain(database_url)

    async def run() -> DemoSummary:
        db = Database(database_url)
        try:
            return await seed_demo(db, SystemClock())
        finally:
            await db.dispose()

    return asyncio.run(run())


def bot_env(sb: Sandbox, database_url: str, page_url: str, lang: str) -> dict[str, str]:
    """The bot's environment: the sandbox, the demo database, the page as the SMS provider.

    Kabinet's own settings in the caller's environment are dropped (and the bot runs in the work
    folder, away from .env), so a developer's real token or webhook never reaches the demo.
    """
    own = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in own}
    env.update(
        BOT_TOKEN=sb.token,
        TELEGRAM_API_URL=sb.url,
        DATABASE_URL=database_url,
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        DEFAULT_LOCALE=lang,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(free_port()),
        SMS_PROVIDER="http",
        SMS_HTTP_URL=f"{page_url}/sms",
        SMS_HTTP_RETRIES="1",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


try:
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: Ctrl-C still stops the bot
    _PRCTL = None


# --------------------------------------------------------------------------- running


def pretty_phone(e164: str) -> str:
    """+79161234567 → +7 916 123-45-67 (Russian numbers; others as they are)."""
    if len(e164) == 12 and e164.startswith("+7"):
        d = e164[2:]
        return f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}"
    return e164


def build_world(sb: Sandbox, demo: DemoSummary, lang: str) -> tuple[list[Person], list[Person]]:
    """The staff supergroup, its operators and the residents, as sandbox users."""
    title = "УК «Заречье» — операторы" if lang == "ru" else "Zarechye — operators"
    staff = sb.supergroup(title, is_forum=True, id=STAFF_CHAT_ID)
    staff.add_member(bot=True, status="administrator")
    operators = []
    names = {"ru": (("Ирина", "Операторова"), ("Игорь", "Диспетчеров"))}
    for first, last in names.get(lang, (("Irina", "Operator"), ("Igor", "Dispatcher"))):
        user = sb.user(first, last_name=last, language_code=lang)
        staff.add_member(user, status="administrator")
        operators.append(Person(user.id, f"{first} {last}"))
    people = []
    for resident in residents(demo):
        first, last = resident.first_last
        user = sb.user(
            first, last_name=last or None, language_code=resident.language, phone=resident.phone
        )
        name = f"{first} {last}".strip()
        people.append(Person(user.id, name, pretty_phone(resident.phone), resident.notes))
    return people, operators


async def start_bot(env: dict[str, str], workdir: Path) -> asyncio.subprocess.Process:
    with (workdir / "bot.log").open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "run_bot.py"),
            "run",
            cwd=str(workdir),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # Ctrl-C reaches this process, which stops the bot
            preexec_fn=_die_with_parent if _PRCTL is not None else None,
        )


async def stop_bot(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def first_of(*aws: Any) -> None:
    """Wait until the first of these finishes; cancel the others."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def log_tail(workdir: Path, lines: int = 30) -> str:
    text = (workdir / "bot.log").read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


async def serve(args: argparse.Namespace, demo: DemoSummary, database_url: str) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sb = Sandbox(token=random_token(), username="kabinet_demo_bot", first_name="Kabinet")
    people, operators = build_world(sb, demo, args.lang)
    page = WebChat(
        sb, residents=people, staff_chat_id=STAFF_CHAT_ID, operators=operators, lang=args.lang
    )
    await sb.start()
    proc: asyncio.subprocess.Process | None = None
    try:
        url = await page.start(args.host, args.port)
        proc = await start_bot(bot_env(sb, database_url, url, args.lang), args.workdir)
        await first_of(sb.wait_until_receiving(READY_TIMEOUT), proc.wait(), stop.wait())
        if stop.is_set():
            return 130
        if proc.returncode is not None or not sb.state.polling_seen:
            print(
                f"demo: the bot did not start; its log:\n{log_tail(args.workdir)}", file=sys.stderr
            )
            return 1
        print(f"Kabinet demo: {url}  (Ctrl-C stops it)", flush=True)
        print(f"  the bot's log: {args.workdir / 'bot.log'}", flush=True)
        await first_of(stop.wait(), proc.wait())
        if not stop.is_set():
            print(f"demo: the bot stopped; its log:\n{log_tail(args.workdir)}", file=sys.stderr)
            return 1
        return 0
    finally:
        if proc is not None:
            await stop_bot(proc)
        await page.stop()
        await sb.stop()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/demo.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="where the page listens (loopback)")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("DEMO_PORT") or 8080),
        help="the page's port (DEMO_PORT, 8080)",
    )
    parser.add_argument(
        "--lang",
        choices=("ru", "en"),
        default=os.environ.get("DEMO_LANG", "ru"),
        help="the page's and the operators' language (DEMO_LANG, ru)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / ".cache" / "demo",
        help="the demo database and the bot's log (.cache/demo)",
    )
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the demo listens on the loopback only (127.0.0.1)")
    args.workdir = args.workdir.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.port and not port_is_free(args.host, args.port):
        print(
            f"demo: port {args.port} is in use; choose another: DEMO_PORT=8090 make demo",
            file=sys.stderr,
        )
        return 1
    print("demo: a fresh database with the demo data…", flush=True)
    database_url = fresh_database(args.workdir)
    try:
        demo = seed(database_url)
        return asyncio.run(serve(args, demo, database_url))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
