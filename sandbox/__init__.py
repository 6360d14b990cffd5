"""A local stand-in for the Telegram Bot API (HTTP, in memory) and helpers to drive it in tests."""

from sandbox.records import ApiCall
from sandbox.server import SandboxServer
from sandbox.testing import (
    BotMessage,
    CallbackAnswer,
    Group,
    Sandbox,
    SandboxError,
    SandboxMessage,
    User,
    make_png,
    random_token,
)

__all__ = [
    "ApiCall",
    "BotMessage",
    "CallbackAnswer",
    "Group",
    "Sandbox",
    "SandboxError",
    "SandboxMessage",
    "SandboxServer",
    "User",
    "make_png",
    "random_token",
]
