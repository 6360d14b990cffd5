"""The bot's own profile: getMe, logOut/close, its commands, the menu button, its name and
descriptions."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from sandbox.core import BotState, Params, api_method, bad

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def scope_key(scope: Any) -> str:
    if not isinstance(scope, dict):
        scope = {"type": "default"}
    normal: dict[str, Any] = {"type": scope.get("type", "default")}
    for key in ("chat_id", "user_id"):
        if scope.get(key) is not None:
            normal[key] = int(scope[key])
    return json.dumps(normal, sort_keys=True)


@api_method("getMe")
async def get_me(srv: SandboxServer, st: BotState, p: Params) -> Any:
    return {
        **st.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": not st.info.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut", "close")
async def log_out(srv: SandboxServer, st: BotState, p: Params) -> Any:
    return True


@api_method("setMyCommands")
async def set_my_commands(srv: SandboxServer, st: BotState, p: Params) -> Any:
    commands = p.json("commands")
    if not isinstance(commands, list):
        raise bad("commands is empty" if commands is None else "can't parse commands JSON object")
    if len(commands) > 100:
        raise bad("too many commands specified")
    clean = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad("can't parse BotCommand")
        command = str(item.get("command", "")).strip().removeprefix("/")
        description = str(item.get("description", "")).strip()
        if not COMMAND_RE.match(command):
            raise bad("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": command, "description": description})
    key = (scope_key(p.json("scope")), p.string("language_code") or "")
    if clean:
        st.commands[key] = clean
    else:
        st.commands.pop(key, None)
    return True


@api_method("getMyCommands")
async def get_my_commands(srv: SandboxServer, st: BotState, p: Params) -> Any:
    key = (scope_key(p.json("scope")), p.string("language_code") or "")
    return st.commands.get(key, [])


@api_method("deleteMyCommands")
async def delete_my_commands(srv: SandboxServer, st: BotState, p: Params) -> Any:
    st.commands.pop((scope_key(p.json("scope")), p.string("language_code") or ""), None)
    return True


@api_method("setChatMenuButton")
async def set_chat_menu_button(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = p.integer("chat_id")
    button = p.json("menu_button") or {"type": "default"}
    st.menu_buttons[chat_id] = button
    return True


@api_method("getChatMenuButton")
async def get_chat_menu_button(srv: SandboxServer, st: BotState, p: Params) -> Any:
    chat_id = p.integer("chat_id")
    button = st.menu_buttons.get(chat_id) or st.menu_buttons.get(None) or {"type": "commands"}
    return {"type": "commands"} if button.get("type") == "default" else button


@api_method(
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setMyDefaultAdministratorRights",
)
async def set_my_text(srv: SandboxServer, st: BotState, p: Params) -> Any:
    for key in ("description", "short_description", "name"):
        if p.fields.get(key) is not None:
            st.descriptions[f"{key}:{p.string('language_code') or ''}"] = p.string(key) or ""
    return True
