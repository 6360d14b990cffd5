"""Forum topics in supergroups: create, edit, close/reopen, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.core import BotState, Params, api_method, bad, now
from sandbox.records import GroupRecord, StoredMessage

if TYPE_CHECKING:
    from sandbox.server import SandboxServer


@api_method("createForumTopic")
async def create_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    if chat_id > 0:
        raise bad("the chat is not a forum")
    st.check_can_write(chat_id)
    group = st.group(chat_id)
    if not group.is_forum:
        raise bad("the chat is not a forum")
    if st.bot_status(group) not in ("creator", "administrator"):
        raise bad("not enough rights to create a topic")
    name = (p.string("name") or "").strip()
    if not name:
        raise bad("TOPIC_TITLE_EMPTY")
    if len(name) > 128:
        raise bad("TOPIC_TITLE_INVALID")
    icon_color = p.integer("icon_color") or 7322096
    topic = create_topic(st, group, name, icon_color, st.bot_user, from_bot=True)
    emoji = p.string("icon_custom_emoji_id")
    if emoji:
        topic["icon_custom_emoji_id"] = emoji
    return topic


def create_topic(
    st: BotState,
    group: GroupRecord,
    name: str,
    icon_color: int,
    sender: dict[str, Any],
    *,
    from_bot: bool,
) -> dict[str, Any]:
    """Create a topic: its first (service) message's id becomes the thread id."""
    message_id = st.allocate_message_id(group.id)
    group.topics[message_id] = {"name": name, "icon_color": icon_color}
    data = {
        "message_id": message_id,
        "from": sender,
        "chat": group.to_api(),
        "date": now(),
        "message_thread_id": message_id,
        "is_topic_message": True,
        "forum_topic_created": {"name": name, "icon_color": icon_color},
    }
    st.store(StoredMessage(group.id, message_id, data, from_bot=from_bot, service=True))
    return {"message_thread_id": message_id, "name": name, "icon_color": icon_color}


@api_method("editForumTopic")
async def edit_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    group = st.group(chat_id)
    st.check_can_write(chat_id)
    thread_id = p.integer("message_thread_id", required=True)
    if thread_id not in group.topics:
        raise bad("message thread not found")
    name = p.string("name")
    if name is not None and len(name) > 128:
        raise bad("TOPIC_TITLE_INVALID")
    if name and group.topics[thread_id]["name"] == name:
        raise bad("TOPIC_NOT_MODIFIED")
    if name:
        group.topics[thread_id]["name"] = name
        st.notify()
    return True


@api_method("closeForumTopic")
async def close_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    """Telegram answers TOPIC_NOT_MODIFIED when the topic already is closed."""
    return _set_closed(st, p, closed=True)


@api_method("reopenForumTopic")
async def reopen_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    """Telegram answers TOPIC_NOT_MODIFIED when the topic already is open."""
    return _set_closed(st, p, closed=False)


def _set_closed(st: BotState, p: Params, *, closed: bool) -> bool:
    chat_id = st.resolve_chat_id(p)
    group = st.group(chat_id)
    st.check_can_write(chat_id)
    thread_id = p.integer("message_thread_id", required=True)
    if thread_id not in group.topics:
        raise bad("message thread not found")
    if bool(group.topics[thread_id].get("closed")) == closed:
        raise bad("TOPIC_NOT_MODIFIED")
    group.topics[thread_id]["closed"] = closed
    st.notify()
    return True


@api_method("deleteForumTopic")
async def delete_forum_topic(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    group = st.group(chat_id)
    st.check_can_write(chat_id)
    thread_id = p.integer("message_thread_id", required=True)
    if thread_id not in group.topics:
        raise bad("message thread not found")
    delete_topic(st, group, thread_id)
    return True


def delete_topic(st: BotState, group: GroupRecord, thread_id: int) -> None:
    """The topic and its messages are gone (by the bot or by an admin in the app)."""
    del group.topics[thread_id]
    for msg in st.messages.get(group.id, {}).values():
        if msg.thread_id == thread_id:
            msg.deleted = True
    st.notify()
