"""A browser chat over the sandbox: a resident's private chat and a staff supergroup, side by side.

Plain server-rendered HTML (:mod:`sandbox.render`), one stylesheet and a small script from
``sandbox/static/``; nothing from a CDN, no build step. The page acts through the control
endpoints (:mod:`sandbox.control`, mounted here too) and is kept live by server-sent events that
carry rendered HTML: one stream per pane, starting with the whole chat (``reset``), then each
new, edited or deleted message, the reply keyboard and the forum topics as they change.

It also stands in for an SMS provider (``POST /sms`` with ``{"to", "text"}``), so that codes a
bot sends by SMS show up on the page. :mod:`sandbox.webchat` knows no bot: who the residents and
operators are, and what each one demonstrates, is given by whoever starts it (``make demo``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.control import Control
from sandbox.live import HEARTBEAT, Watch, event_stream, sse
from sandbox.records import StoredMessage
from sandbox.render import (
    Viewer,
    current_reply_keyboard,
    esc,
    message_html,
    reply_keyboard_html,
)

if TYPE_CHECKING:
    from sandbox.testing import Sandbox

STATIC = Path(__file__).resolve().parent / "static"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Kabinet — try the bot without Telegram",
        "tagline": "the real bot process, talking to sandbox/ instead of Telegram",
        "residents": "Residents",
        "residents_hint": "Pick a resident to talk to the bot as them. Their phones are on file "
        "in the demo billing data as described.",
        "sms": "SMS sent by the bot",
        "sms_none": "None yet. Codes sent by SMS appear here.",
        "staff": "Staff chat",
        "acting_as": "You are",
        "bot": "bot",
        "chat_with": "private chat of {name}",
        "members": "{count} members",
        "message": "Message",
        "send": "Send",
        "attach": "Attach a photo or a PDF",
        "start": "START",
        "reply": "Reply",
        "all_topics": "All",
        "general": "General",
        "staff_empty": "Requests from residents for the operators appear here.",
        "chat_empty": "The start of the chat with the bot: press START below, as in Telegram.",
        "footer": "Nothing leaves this computer: the bot runs unchanged against sandbox/, a "
        "local stand-in for the Telegram Bot API, with a fresh demo database.",
        "ok": "OK",
        "no_answer": "The bot did not answer the button.",
    },
    "ru": {
        "title": "Kabinet — бот без Telegram",
        "tagline": "настоящий процесс бота, который говорит с sandbox/ вместо Telegram",
        "residents": "Жители",
        "residents_hint": "Выберите жителя, чтобы говорить с ботом от его имени. Их телефоны есть "
        "в демо-данных биллинга, как написано.",
        "sms": "СМС от бота",
        "sms_none": "Пока нет. Здесь появятся коды, отправленные по СМС.",
        "staff": "Чат операторов",
        "acting_as": "Вы —",
        "bot": "бот",
        "chat_with": "личный чат: {name}",
        "members": "участников: {count}",
        "message": "Сообщение",
        "send": "Отправить",
        "attach": "Прикрепить фото или PDF",
        "start": "ЗАПУСТИТЬ",
        "reply": "Ответить",
        "all_topics": "Все",
        "general": "Общий",
        "staff_empty": "Здесь появятся обращения жителей к операторам.",
        "chat_empty": "Начало чата с ботом: нажмите «Запустить» внизу, как в Telegram.",
        "footer": "Ничего не уходит с этого компьютера: бот работает без изменений с sandbox/ — "
        "местной заменой Telegram Bot API — и со свежей демо-базой.",
        "ok": "OK",
        "no_answer": "Бот не ответил на нажатие.",
    },
}


@dataclass(frozen=True)
class Person:
    """Someone the page can act as: a sandbox user, with what they demonstrate per language."""

    user_id: int
    name: str
    phone: str = ""
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Sms:
    to: str
    text: str
    at: float


def _lang(request: web.Request, default: str) -> str:
    lang = request.query.get("lang", default)
    return lang if lang in LABELS else default


def _pick(request: web.Request, name: str, people: list[Person]) -> Person | None:
    wanted = request.query.get(name, "")
    return next((p for p in people if str(p.user_id) == wanted), people[0] if people else None)


class WebChat:
    """The page, its event streams and the SMS stand-in, over one running :class:`Sandbox`."""

    def __init__(
        self,
        sb: Sandbox,
        *,
        residents: list[Person],
        staff_chat_id: int | None = None,
        operators: list[Person] | None = None,
        lang: str = "ru",
    ):
        self.sb = sb
        self.residents = residents
        self.staff_chat_id = staff_chat_id
        self.operators = operators or []
        self.lang = lang if lang in LABELS else "ru"
        self.sms: list[Sms] = []
        self.control = Control(sb)
        self.app = web.Application(client_max_size=20 * 1024 * 1024)
        self.app.router.add_get("/", self.page)
        self.app.router.add_get("/events", self.events)
        self.app.router.add_post("/sms", self.receive_sms)
        self.app.router.add_static("/static/", STATIC, append_version=False)
        self.control.mount(self.app)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, host: str = "127.0.0.1", port: int = 8080) -> str:
        self._runner = web.AppRunner(
            self.app, handle_signals=False, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(getattr(site, "_server", None), "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else port
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            self.sb.server.notifier.notify()
            await self._runner.cleanup()
            self._runner = None

    # ----- the SMS stand-in

    async def receive_sms(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = dict(await request.post())
        to, text = str(body.get("to", "")), str(body.get("text", ""))
        if not to or not text:
            return web.json_response({"error": "to and text are required"}, status=400)
        self.sms.append(Sms(to, text[:1000], time.time()))
        self.sb.server.notifier.notify()
        return web.json_response({"ok": True, "id": len(self.sms)})

    def sms_html(self, lang: str) -> str:
        if not self.sms:
            return f'<li class="empty">{esc(LABELS[lang]["sms_none"])}</li>'
        items = []
        for item in reversed(self.sms[-20:]):
            items.append(
                f'<li><time data-ts="{int(item.at)}"></time><b>{esc(item.to)}</b>'
                f"<span>{esc(item.text)}</span></li>"
            )
        return "".join(items)

    # ----- what a pane shows

    def _messages(self, chat_id: int) -> list[StoredMessage]:
        return [m for _, m in sorted(self.sb.state.messages.get(chat_id, {}).items())]

    def topics(self, chat_id: int) -> dict[int, str]:
        group = self.sb.server.groups.get(chat_id)
        return {tid: str(t["name"]) for tid, t in group.topics.items()} if group else {}

    def message(self, stored: StoredMessage, viewer: int) -> str:
        group = stored.chat_id < 0
        topic = self.topics(stored.chat_id).get(stored.thread_id or 0) if group else None
        return message_html(stored, Viewer(viewer, group=group, topic=topic))

    def messages_html(self, chat_id: int, viewer: int) -> str:
        return "".join(self.message(m, viewer) for m in self._messages(chat_id))

    def keyboard(self, chat_id: int) -> dict[str, Any]:
        markup = current_reply_keyboard(self._messages(chat_id))
        placeholder = str((markup or {}).get("input_field_placeholder") or "")
        return {"html": reply_keyboard_html(markup), "placeholder": placeholder}

    def topics_html(self, chat_id: int, lang: str) -> str:
        group = self.sb.server.groups.get(chat_id)
        if group is None or not group.is_forum or not group.topics:
            return ""
        tabs = [
            f'<button type="button" class="topic active" data-thread="">'
            f"{esc(LABELS[lang]['all_topics'])}</button>"
        ]
        for tid, name in self.topics(chat_id).items():
            tabs.append(
                f'<button type="button" class="topic" data-thread="{tid}"># {esc(name)}</button>'
            )
        return "".join(tabs)

    def pane_state(self, chat_id: int, viewer: int, lang: str) -> dict[str, Any]:
        return {
            "chat": chat_id,
            "viewer": viewer,
            "html": self.messages_html(chat_id, viewer),
            "keyboard": self.keyboard(chat_id),
            "topics": self.topics_html(chat_id, lang),
            "sms": self.sms_html(lang) if chat_id > 0 else None,
        }

    # ----- live updates

    async def events(self, request: web.Request) -> web.StreamResponse:
        """One pane's stream: ``reset``, then ``upsert``/``remove``, ``keyboard``, ``topics``,
        ``sms`` events, each carrying rendered HTML."""
        try:
            chat_id, viewer = int(request.query["chat"]), int(request.query["viewer"])
        except (KeyError, ValueError):
            return web.json_response({"error": "chat and viewer are required"}, status=400)
        lang = _lang(request, self.lang)
        return await event_stream(request, self.sb, self._frames(chat_id, viewer, lang))

    async def _frames(self, chat_id: int, viewer: int, lang: str) -> AsyncIterator[str]:
        watch = Watch(self.sb, {chat_id})
        state = self.pane_state(chat_id, viewer, lang)
        yield sse("reset", state)
        keyboard, topics = state["keyboard"], state["topics"]
        sms_seen = [len(self.sms)]
        notifier = self.sb.server.notifier
        while not self.sb.server.closing:
            woke = await notifier.wait_for(
                lambda: watch.pending() or len(self.sms) != sms_seen[0] or self.sb.server.closing,
                HEARTBEAT,
            )
            changes = watch.take()
            frames = []
            for change in changes:
                stored = change.stored
                if change.kind == "delete":
                    frames.append(sse("remove", {"id": stored.message_id}))
                else:
                    body = {"id": stored.message_id, "html": self.message(stored, viewer)}
                    frames.append(sse("upsert", body))
            if changes:
                now_keyboard, now_topics = self.keyboard(chat_id), self.topics_html(chat_id, lang)
                if now_keyboard != keyboard:
                    keyboard = now_keyboard
                    frames.append(sse("keyboard", keyboard))
                if now_topics != topics:
                    topics = now_topics
                    frames.append(sse("topics", {"html": topics}))
            if len(self.sms) != sms_seen[0]:
                sms_seen[0] = len(self.sms)
                if chat_id > 0:  # the SMS list is beside the resident's pane
                    last = self.sms[-1].text
                    frames.append(sse("sms", {"html": self.sms_html(lang), "last": last}))
            if frames or not woke:  # a quiet stream still says something now and then
                yield "".join(frames) or ": keep-alive\n\n"

    # ----- the page

    async def page(self, request: web.Request) -> web.Response:
        lang = _lang(request, self.lang)
        labels = LABELS[lang]
        resident = _pick(request, "resident", self.residents)
        operator = _pick(request, "operator", self.operators)
        values = {
            "lang": lang,
            "labels_json": esc(json.dumps(labels, ensure_ascii=False)),
            "bot_name": esc(self.sb.state.info.first_name),
            "residents": self._people_html(resident, lang),
            "resident_id": resident.user_id if resident else 0,
            "resident_pane": self._pane_html("resident", resident, None, lang),
            "staff_pane": self._staff_html(operator, lang),
            "sms": self.sms_html(lang),
            "ru_active": "active" if lang == "ru" else "",
            "en_active": "active" if lang == "en" else "",
            **{f"l_{k}": esc(v) for k, v in labels.items()},
        }
        template = Template((STATIC / "webchat.html").read_text(encoding="utf-8"))
        return web.Response(text=template.substitute(values), content_type="text/html")

    def _people_html(self, chosen: Person | None, lang: str) -> str:
        items = []
        for person in self.residents:
            active = " active" if chosen and person.user_id == chosen.user_id else ""
            note = person.notes.get(lang) or next(iter(person.notes.values()), "")
            items.append(
                f'<li><button type="button" class="person{active}" data-user="{person.user_id}" '
                f'data-name="{esc(person.name)}"><span class="avatar">{esc(_initials(person.name))}'
                f'</span><span class="who"><b>{esc(person.name)}</b>'
                f'<span class="phone">{esc(person.phone)}</span>'
                f'<span class="note">{esc(note)}</span></span></button></li>'
            )
        return "".join(items)

    def _pane_html(self, role: str, person: Person | None, group: int | None, lang: str) -> str:
        """The messages, keyboard and composer of a pane (its head is drawn by the caller)."""
        if person is None:
            return ""
        chat_id = group if group is not None else person.user_id
        keyboard = self.keyboard(chat_id)
        labels = LABELS[lang]
        empty = labels["staff_empty"] if group is not None else labels["chat_empty"]
        placeholder = keyboard["placeholder"] or labels["message"]
        return (
            f'<div class="topics">{self.topics_html(chat_id, lang)}</div>'
            f'<div class="messages" data-role="{role}" data-empty="{esc(empty)}">'
            f"{self.messages_html(chat_id, person.user_id)}</div>"
            f'<div class="reply-to" hidden><span class="reply-text"></span>'
            f'<button type="button" class="reply-cancel" aria-label="cancel">×</button></div>'
            f'<div class="keyboard">{keyboard["html"]}</div>'
            f'<button type="button" class="start" hidden>{esc(labels["start"])}</button>'
            f'<form class="composer" autocomplete="off">'
            f'<label class="attach" title="{esc(labels["attach"])}">📎'
            f'<input type="file" accept="image/*,application/pdf" hidden></label>'
            f'<input type="text" name="text" placeholder="{esc(placeholder)}">'
            f'<button type="submit" class="send" title="{esc(labels["send"])}">➤</button></form>'
        )

    def _staff_html(self, operator: Person | None, lang: str) -> str:
        if self.staff_chat_id is None or operator is None:
            return ""
        labels = LABELS[lang]
        group = self.sb.server.groups[self.staff_chat_id]
        options = "".join(
            f'<option value="{p.user_id}"{" selected" if p.user_id == operator.user_id else ""}>'
            f"{esc(p.name)}</option>"
            for p in self.operators
        )
        present = ("creator", "administrator", "member")
        members = labels["members"].format(count=sum(s in present for s in group.members.values()))
        return (
            f'<section class="pane group" id="staff" data-chat="{group.id}" '
            f'data-viewer="{operator.user_id}"><div class="pane-head">'
            f'<span class="avatar group-avatar">{esc(_initials(group.title))}</span>'
            f'<span class="title"><b>{esc(group.title)}</b>'
            f"<span>{esc(labels['staff'])} · {esc(members)}</span></span>"
            f'<label class="acting">{esc(labels["acting_as"])} <select class="operator">{options}'
            f"</select></label></div>"
            f"{self._pane_html('staff', operator, group.id, lang)}</section>"
        )


def _initials(name: str) -> str:
    parts = [p for p in name.replace("«", " ").replace("»", " ").split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


__all__ = ["LABELS", "Person", "WebChat"]
