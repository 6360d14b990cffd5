"""The sandbox keeps the shape that lets a method group be added as a file: the registry picks up
every module in sandbox/methods/ by itself, and no file or function grows past reading size."""

import ast
from pathlib import Path

import sandbox.methods
from sandbox.core import METHODS
from sandbox.server import METHOD_GROUPS, supported_methods

METHODS_DIR = Path(sandbox.methods.__file__).parent
SANDBOX_DIR = METHODS_DIR.parent
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80

# What the sandbox answers: a method dropped by a refactoring (or a module that stopped
# loading) fails here; a method added on purpose is added here and in docs/sandbox.md.
EXPECTED = {
    "chats": {
        "getChat",
        "getChatMember",
        "pinChatMessage",
        "unpinAllChatMessages",
        "unpinChatMessage",
    },
    "files": {"getFile", "sendDocument", "sendMediaGroup", "sendPhoto"},
    "forum": {
        "closeForumTopic",
        "createForumTopic",
        "deleteForumTopic",
        "editForumTopic",
        "reopenForumTopic",
    },
    "messages": {
        "answerCallbackQuery",
        "copyMessage",
        "deleteMessage",
        "deleteMessages",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageText",
        "forwardMessage",
        "sendChatAction",
        "sendMessage",
    },
    "payments": {"answerPreCheckoutQuery", "sendInvoice"},
    "profile": {
        "close",
        "deleteMyCommands",
        "getChatMenuButton",
        "getMe",
        "getMyCommands",
        "logOut",
        "setChatMenuButton",
        "setMyCommands",
        "setMyDefaultAdministratorRights",
        "setMyDescription",
        "setMyName",
        "setMyShortDescription",
    },
    "updates": {"deleteWebhook", "getUpdates", "getWebhookInfo", "setWebhook"},
}


def test_every_module_in_methods_is_loaded() -> None:
    on_disk = {p.stem for p in METHODS_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert set(METHOD_GROUPS) == on_disk


def test_methods_by_group() -> None:
    by_group: dict[str, set[str]] = {}
    for method in METHODS.values():
        module = method.handler.__module__
        assert module.startswith("sandbox.methods."), f"{method.name} is defined in {module}"
        by_group.setdefault(module.removeprefix("sandbox.methods."), set()).add(method.name)
    assert by_group == EXPECTED
    assert supported_methods() == sorted(set().union(*EXPECTED.values()))


def test_files_and_functions_stay_small() -> None:
    too_long = []
    for path in sorted(SANDBOX_DIR.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(SANDBOX_DIR.parent)
        lines = source.count("\n")
        if lines > MAX_FILE_LINES:
            too_long.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert not too_long
