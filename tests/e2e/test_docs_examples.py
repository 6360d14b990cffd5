"""The examples of docs/sandbox.md run, against the real bot process polling a sandbox.

Every code block under a `<!-- tested: ... -->` line is run here: the Python one in this
process (it drives the sandbox in this event loop), the HTTP one as a script of its own,
exactly as a reader would run it (`python register.py URL`).
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sandbox.testing import Sandbox
from tests.e2e.conftest import ROOT, BotProcess, bot_env, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

DOC = ROOT / "docs" / "sandbox.md"
TESTED = re.compile(r"<!-- tested: [^\n]*-->\n```python\n(.*?)\n```", re.DOTALL)


def doc_blocks() -> list[str]:
    return TESTED.findall(DOC.read_text(encoding="utf-8"))


async def test_the_doc_marks_both_examples() -> None:
    blocks = doc_blocks()
    assert len(blocks) == 2
    assert "async def register(sb: Sandbox)" in blocks[0]
    assert "/_control" in blocks[1] and "urllib.request" in blocks[1]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    tmp = tmp_path_factory.mktemp("docs")
    async with Sandbox() as sb:
        port = free_port()
        env = bot_env(sb, tmp, "polling", port, DEFAULT_LOCALE="ru")
        env.pop("STAFF_CHAT_ID")
        process = BotProcess(env=env, log_path=tmp / "bot.log", web_port=port)
        await process.start()
        await sb.wait_until_receiving()
        try:
            yield sb
        finally:
            await process.stop()


async def test_the_python_example_registers_a_resident(running: Sandbox) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(doc_blocks()[0], str(DOC), "exec"), namespace)
    await namespace["register"](running)


async def test_the_http_example_registers_a_resident(running: Sandbox, tmp_path: Path) -> None:
    script = tmp_path / "register.py"
    script.write_text(doc_blocks()[1], encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        running.url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    printed = out.decode()
    assert proc.returncode == 0, printed
    assert "the bot asks: Consent to the processing of personal data" in printed
    assert "it answers the button with: Thank you!" in printed
    assert "registered; the main menu: ['💳 Balance'" in printed
