"""Messages as a Telegram client shows them, in HTML: formatting from entities, inline keyboards
as buttons, photos inline, documents as download links, replies, edits and service lines.

Used by the browser chat (:mod:`sandbox.webchat`); everything user-provided is escaped. The
HTML carries ``data-*`` attributes for the page's script: ``data-cb`` on a callback button,
``data-command`` on a /command, ``data-contact`` on a «share my phone» reply button.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from dataclasses import dataclass
from typing import Any

from sandbox.records import StoredMessage

FILES_URL = "/_control/files/"
_SAFE_URL = re.compile(r"^(https?://|tg://|mailto:|tel:)", re.IGNORECASE)
_AUTO = re.compile(
    r"(?P<url>https?://[^\s<>\"']+[^\s<>\"'.,;:!?)»])"  # a URL, without the trailing period
    r"|(?P<cmd>(?<![\w/.<>-])/[A-Za-z0-9_]{1,32}(?:@\w+)?(?![\w/<>]))"  # tdlib's /command
)
_SIMPLE_TAGS = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "code": "code",
}
#: entities inside which nothing is linked automatically
_NO_AUTOLINK = {"code", "pre", "text_link", "url", "email", "bot_command", "text_mention"}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def safe_url(url: str) -> str | None:
    return url if _SAFE_URL.match(url.strip()) else None


# --------------------------------------------------------------------------- entities


def _index_of_utf16(text: str) -> dict[int, int]:
    """UTF-16 offset -> index in ``text``, for every character boundary."""
    out = {0: 0}
    pos = 0
    for index, char in enumerate(text):
        pos += 2 if ord(char) > 0xFFFF else 1
        out[pos] = index + 1
    return out


def _open_tag(entity: dict[str, Any], inner: str) -> tuple[str, str]:
    """(opening, closing) HTML of one entity; ``inner`` is its plain text."""
    kind = entity.get("type", "")
    if kind in _SIMPLE_TAGS:
        tag = _SIMPLE_TAGS[kind]
        return f"<{tag}>", f"</{tag}>"
    if kind == "pre":
        language = entity.get("language")
        cls = f' class="language-{esc(language)}"' if language else ""
        return f"<pre><code{cls}>", "</code></pre>"
    if kind == "spoiler":
        return '<span class="spoiler" title="spoiler">', "</span>"
    if kind in ("blockquote", "expandable_blockquote"):
        return f'<blockquote class="{kind}">', "</blockquote>"
    link = _entity_link(kind, entity, inner)
    if link is not None:
        return f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer">', "</a>"
    if kind == "bot_command":
        return f'<a href="#" class="cmd" data-command="{esc(inner)}">', "</a>"
    return f'<span class="entity-{esc(kind)}">', "</span>"


def _entity_link(kind: str, entity: dict[str, Any], inner: str) -> str | None:
    if kind == "text_link":
        return safe_url(str(entity.get("url", "")))
    if kind == "url":
        return inner if safe_url(inner) else "http://" + inner
    if kind == "email":
        return "mailto:" + inner
    if kind == "phone_number":
        return "tel:" + re.sub(r"[^\d+]", "", inner)
    return None


def _plain(segment: str, autolink: bool) -> str:
    """Escape a run of text; outside code and links, URLs and /commands become links."""
    if not autolink:
        return esc(segment)
    out: list[str] = []
    last = 0
    for match in _AUTO.finditer(segment):
        out.append(esc(segment[last : match.start()]))
        found = match.group()
        if match.group("url"):
            out.append(f'<a href="{esc(found)}" target="_blank" rel="noopener noreferrer">')
        else:
            out.append(f'<a href="#" class="cmd" data-command="{esc(found)}">')
        out.append(esc(found) + "</a>")
        last = match.end()
    out.append(esc(segment[last:]))
    return "".join(out)


_Open = tuple[int, str, str, str]  # (end, opening tag, closing tag, entity type)


def entities_to_html(text: str, entities: list[dict[str, Any]] | None) -> str:
    """Text with Telegram entities (UTF-16 offsets) as nested HTML; overlaps are split."""
    where = _index_of_utf16(text)
    spans = []
    for order, entity in enumerate(entities or []):
        offset = int(entity.get("offset", 0))
        start, end = where.get(offset), where.get(offset + int(entity.get("length", 0)))
        if start is not None and end is not None and end > start:
            spans.append((start, -end, order, entity))
    spans.sort(key=lambda s: s[:3])
    bounds = sorted({0, len(text)} | {s[0] for s in spans} | {-s[1] for s in spans})
    out: list[str] = []
    stack: list[_Open] = []
    pending = list(spans)
    for left, right in itertools.pairwise(bounds):
        _close_until(stack, left, out)
        while pending and pending[0][0] == left:
            start, negative_end, _, entity = pending.pop(0)
            opening, closing = _open_tag(entity, text[start:-negative_end])
            out.append(opening)
            stack.append((-negative_end, opening, closing, str(entity.get("type"))))
        autolink = not any(item[3] in _NO_AUTOLINK for item in stack)
        out.append(_plain(text[left:right], autolink))
    _close_until(stack, len(text), out)
    return "".join(out)


def _close_until(stack: list[_Open], at: int, out: list[str]) -> None:
    """Close the entities that end at ``at``; ones opened inside them are closed and reopened."""
    reopen = []
    while any(item[0] <= at for item in stack):
        item = stack.pop()
        out.append(item[2])
        if item[0] > at:
            reopen.append(item)
    for item in reversed(reopen):
        out.append(item[1])
        stack.append(item)


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Viewer:
    """Who looks at the chat: their own messages are on the right, others' carry a name."""

    user_id: int
    group: bool = False
    #: the forum topic of the message, shown above it in a group
    topic: str | None = None


def sender_name(data: dict[str, Any]) -> str:
    who = data.get("from") or {}
    return " ".join(str(who.get(k)) for k in ("first_name", "last_name") if who.get(k))


def _time(data: dict[str, Any]) -> str:
    sent = int(data.get("date") or 0)
    value = dt.datetime.fromtimestamp(sent, dt.UTC).strftime("%H:%M")
    edited = ' <span class="edited">✎</span>' if data.get("edit_date") else ""
    return f'<time data-ts="{sent}">{value}</time>{edited}'


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _media(data: dict[str, Any]) -> str:
    parts = []
    photo = data.get("photo")
    if photo:
        big = photo[-1]
        width, height = int(big.get("width") or 0), int(big.get("height") or 0)
        ratio = f' style="aspect-ratio: {width} / {height}"' if width and height else ""
        parts.append(
            f'<a class="photo" href="{FILES_URL}{esc(big["file_id"])}" target="_blank">'
            f'<img src="{FILES_URL}{esc(big["file_id"])}" alt="photo"{ratio}></a>'
        )
    document = data.get("document")
    if document:
        name = document.get("file_name") or "file"
        parts.append(
            f'<a class="document" href="{FILES_URL}{esc(document["file_id"])}" '
            f'download="{esc(name)}"><span class="doc-icon">📄</span>'
            f'<span class="doc-name">{esc(name)}</span>'
            f'<span class="doc-size">{_size(int(document.get("file_size") or 0))}</span></a>'
        )
    contact = data.get("contact")
    if contact:
        name = " ".join(str(contact.get(k)) for k in ("first_name", "last_name") if contact.get(k))
        parts.append(
            f'<div class="contact"><span class="contact-icon">👤</span><span>'
            f"<b>{esc(name)}</b><br>{esc(contact.get('phone_number', ''))}</span></div>"
        )
    if data.get("sticker"):
        parts.append(f'<div class="sticker">{esc(data["sticker"].get("emoji") or "🖼")}</div>')
    if data.get("location"):
        loc = data["location"]
        parts.append(
            f'<div class="location">📍 {loc.get("latitude")}, {loc.get("longitude")}</div>'
        )
    return "".join(parts)


def _quote(data: dict[str, Any]) -> str:
    reply = data.get("reply_to_message")
    if not reply or "forum_topic_created" in reply:
        return ""
    text = str(reply.get("text") or reply.get("caption") or "")
    if not text:
        text = "📷" if reply.get("photo") else "📄" if reply.get("document") else "…"
    short = text if len(text) <= 90 else text[:89] + "…"
    return (
        f'<div class="quote" data-goto="{int(reply["message_id"])}">'
        f"<b>{esc(sender_name(reply))}</b><span>{esc(short)}</span></div>"
    )


def inline_keyboard_html(data: dict[str, Any]) -> str:
    rows = (data.get("reply_markup") or {}).get("inline_keyboard") or []
    if not rows:
        return ""
    out = ['<div class="ikb">']
    for r, row in enumerate(rows):
        out.append('<div class="ikb-row">')
        for c, button in enumerate(row):
            out.append(_inline_button(button, r, c))
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _inline_button(button: dict[str, Any], row: int, column: int) -> str:
    label = esc(button.get("text", ""))
    url = safe_url(str(button.get("url") or ""))
    if url:
        link = f'<a class="ikb-btn url" href="{esc(url)}" target="_blank" rel="noopener">'
        return f"{link}{label} ↗</a>"
    if "callback_data" in button:
        return (
            f'<button type="button" class="ikb-btn" data-cb="{esc(button["callback_data"])}" '
            f'data-row="{row}" data-col="{column}">{label}</button>'
        )
    return f'<button type="button" class="ikb-btn" disabled>{label}</button>'


def service_html(stored: StoredMessage) -> str:
    data = stored.data
    created = data.get("forum_topic_created")
    if created:
        text = f"«{esc(created.get('name', ''))}»"
        kind = "topic"
    else:
        text, kind = "service message", "other"
    return (
        f'<div class="service" data-mid="{stored.message_id}" '
        f'data-thread="{stored.thread_id or ""}" data-service="{kind}"><span># {text}</span></div>'
    )


def message_html(stored: StoredMessage, viewer: Viewer) -> str:
    """One message as a bubble (plus its inline keyboard); '' for a deleted one."""
    if stored.deleted:
        return ""
    if stored.service:
        return service_html(stored)
    data = stored.data
    own = not stored.from_bot and (data.get("from") or {}).get("id") == viewer.user_id
    side = "own" if own else "bot" if stored.from_bot else "other"
    head = ""
    if viewer.topic:
        head += f'<div class="topic-tag"># {esc(viewer.topic)}</div>'
    if viewer.group and not own:
        head += f'<div class="sender">{esc(sender_name(data))}</div>'
    text = data.get("text", data.get("caption"))
    entities = data.get("entities", data.get("caption_entities"))
    body = f'<div class="text">{entities_to_html(str(text), entities)}</div>' if text else ""
    force = ' data-force-reply="1"' if (stored.markup or {}).get("force_reply") else ""
    return (
        f'<div class="msg {side}" data-mid="{stored.message_id}" '
        f'data-thread="{stored.thread_id or ""}"{force}><div class="bubble">'
        f"{head}{_quote(data)}{_media(data)}{body}"
        f'<div class="meta">{_time(data)}</div>'
        f'<button type="button" class="reply-btn" aria-label="reply">↩</button></div>'
        f"{inline_keyboard_html(data)}</div>"
    )


# --------------------------------------------------------------------------- reply keyboard


def current_reply_keyboard(messages: list[StoredMessage]) -> dict[str, Any] | None:
    """The reply keyboard the chat shows now: the newest bot message that set or removed one
    (as sent: edits do not change it, and it stays after the message is deleted)."""
    for stored in reversed(messages):
        if not stored.from_bot:
            continue
        markup = stored.sent_markup or {}
        if "keyboard" in markup:
            return markup
        if markup.get("remove_keyboard"):
            return None
    return None


def reply_keyboard_html(markup: dict[str, Any] | None) -> str:
    if not markup:
        return ""
    out = ['<div class="rkb">']
    for row in markup.get("keyboard") or []:
        out.append('<div class="rkb-row">')
        for button in row:
            item = {"text": button} if isinstance(button, str) else dict(button)
            contact = ' data-contact="1"' if item.get("request_contact") else ""
            label = esc(item.get("text", ""))
            out.append(f'<button type="button" class="rkb-btn"{contact} data-text="{label}">')
            out.append(f"{label}</button>")
        out.append("</div>")
    out.append("</div>")
    return "".join(out)
