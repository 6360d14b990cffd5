"""Chats and their members: getChat, getChatMember, pinning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.core import BotState, Params, api_method, bad

if TYPE_CHECKING:
    from sandbox.server import SandboxServer


def member_dict(status: str, user: dict[str, Any]) -> dict[str, Any]:
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = dict.fromkeys(
            (
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_send_welcome_messages",
                "can_pin_messages",
                "can_manage_topics",
            ),
            True,
        )
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            **rights,
        }
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if status == "member":
        return {"status": "member", "user": user}
    return {"status": "left", "user": user}


@api_method("getChatMember")
async def get_chat_member(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    user_id = p.integer("user_id", required=True)
    assert user_id is not None
    st.check_can_read(chat_id)
    user = srv.users.get(user_id)
    if user is None:
        raise bad("user not found")
    if chat_id > 0:
        if user_id != chat_id and user_id != st.info.id:
            raise bad("user not found")
        return member_dict("member", user.to_api())
    group = st.group(chat_id)
    return member_dict(group.members.get(user_id, "left"), user.to_api())


@api_method("getChat")
async def get_chat(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_read(chat_id)
    data = st.chat_dict(chat_id)
    data.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
    )
    return data


@api_method("pinChatMessage", "unpinChatMessage")
async def pin_chat_message(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    message_id = p.integer("message_id")
    if message_id is not None and st.get_message(chat_id, message_id) is None:
        raise bad("message to pin not found")
    return True


@api_method("unpinAllChatMessages")
async def unpin_all(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    return True
