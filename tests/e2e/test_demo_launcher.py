"""`make demo` (scripts/demo.py): ready within a minute, its own database, the real bot polling
the sandbox with the staff group set up, the page on loopback, and Ctrl-C stops all it started.

(What the page does in a browser: tests/browser/.)
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.services.phones import typed_phone_to_e164
from tests.e2e.test_docs_examples import doc_blocks
from tests.support.demo import ROOT, DemoProcess, demo_accounts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_demo_starts_the_bot_over_sandbox_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    main_db = ROOT / "data" / "kabinet.db"
    main_db_before = main_db.stat().st_mtime if main_db.exists() else None
    demo = DemoProcess(tmp_path / "demo")
    url = demo.start()
    try:
        assert demo.started_in < 60, demo.printed()
        assert url == f"http://127.0.0.1:{demo.port}"
        status, page = fetch(url + "/")
        assert status == 200 and "Kabinet" in page
        world = json.loads(fetch(url + "/_control/")[1])
        assert world["polling"] is True and world["bot"]["username"] == "kabinet_demo_bot"
        [staff] = world["groups"]
        assert staff["is_forum"] is True and staff["members"][str(world["bot"]["id"])] == (
            "administrator"
        )
        phones = {u["phone"] for u in world["users"] if u["phone"]}
        cases = demo_accounts()
        for case in ("typical", "debtor", "overpaid", "expired meter"):
            assert typed_phone_to_e164(cases[case].phones[0]) in phones, case
        assert (tmp_path / "demo" / "kabinet.db").exists()
        assert re.search(r"long polling", (tmp_path / "demo" / "bot.log").read_text())
        example = tmp_path / "register.py"  # docs/sandbox.md says it runs against the demo
        example.write_text(doc_blocks()[1], encoding="utf-8")
        run = subprocess.run(
            [sys.executable, str(example), url], capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0 and "registered; the main menu" in run.stdout, run
        bot_processes = demo.leftovers()
        assert len(bot_processes) >= 2, "the launcher and the bot"  # both are found
    finally:
        code = demo.stop(signal.SIGINT)
    assert code == 0, demo.printed()
    assert demo.leftovers() == []
    assert (main_db.stat().st_mtime if main_db.exists() else None) == main_db_before


def test_a_busy_port_is_said_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        demo = DemoProcess(tmp_path / "demo", port=port)
        with pytest.raises(AssertionError):
            demo.start(timeout=15)
        assert demo.stop() == 1
    assert any(f"port {port} is in use" in line for line in demo.output), demo.output
    assert not (tmp_path / "demo").exists()  # nothing was made
    assert demo.leftovers() == []
