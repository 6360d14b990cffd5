"""The demo page in a real browser: Playwright for Python driving Debian's Chromium.

One `make demo` (scripts/demo.py) per module, one fresh browser profile per module. Nothing
is downloaded: the browser is /usr/bin/chromium (`make test` installs Debian's package).
Screenshots of every step go to the folder printed at the end of the run; so do the notes of
steps that wait for a feature that has not landed yet.
"""

from __future__ import annotations

import datetime as dt
import gettext
import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

from tests.support.demo import ROOT, DemoProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / ".cache" / "browser-screenshots" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
NOTES: list[str] = []
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


def tr(lang: str, msgid: str) -> str:
    """A text as the bot says it in `lang`, from the compiled catalogs."""
    catalog = gettext.translation("messages", ROOT / "locales", languages=[lang], fallback=True)
    return catalog.gettext(msgid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SHOTS.exists():
        terminalreporter.write_line(f"browser tests: screenshots of each step in {SHOTS}")
    for note in NOTES:
        terminalreporter.write_line(f"browser tests: {note}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    process = DemoProcess(tmp_path_factory.mktemp("demo"))
    process.start()
    try:
        yield process
        with urllib.request.urlopen(process.url + "/_control/calls?failed=1") as response:
            failed = json.load(response)
        # every Bot API method the bot used in these scenarios is one the sandbox has
        assert [c["method"] for c in failed if c["error_code"] == 404] == []
        NOTES.extend(f"the bot's call failed: {c['method']} {c['error']}" for c in failed)
    finally:
        code = process.stop()
        assert code == 0, process.printed()
        assert process.leftovers() == []


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium; make test does)"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@dataclass
class Shots:
    """Numbered screenshots of one test's steps (and of the page where a test failed)."""

    name: str
    taken: list[Path] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    def take(self, page: Page, step: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self.name}-{len(self.taken) + 1:02d}-{step}.png"
        page.wait_for_timeout(300)  # let the last event render
        page.screenshot(path=str(path))
        self.taken.append(path)
        return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if call.when == "call":
        item.stash[FAILED] = bool(getattr(report, "failed", False))
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[Shots]:
    taken = Shots(re.sub(r"^test_", "", request.node.name)[:60])
    yield taken
    if request.node.stash.get(FAILED, False):
        for page in taken.pages:
            if not page.is_closed():
                path = taken.take(page, "FAILED")
                NOTES.append(f"{request.node.name} failed; the page then: {path}")
    for page in taken.pages:
        if not page.is_closed():
            page.close()


class Pane:
    """One chat pane of the page, as a person uses it."""

    def __init__(self, page: Page, selector: str):
        self.page = page
        self.selector = selector
        self.root = page.locator(selector)

    def bot_messages(self) -> Locator:
        return self.root.locator(".messages > .msg.bot")

    def last_bot(self) -> Locator:
        return self.bot_messages().last

    def count(self) -> int:
        return self.bot_messages().count()

    def wait_new(self, before: int, *, containing: str | None = None) -> Locator:
        """The newest bot message once there are more than `before` (and one says `containing`)."""
        selector = f"{self.selector} .messages > .msg.bot"
        self.page.wait_for_function(
            "([selector, before]) => document.querySelectorAll(selector).length > before",
            arg=[selector, before],
        )
        if containing is not None:
            found = self.bot_messages().filter(has_text=containing).last
            found.wait_for()
            return found
        return self.last_bot()

    def send(self, text: str) -> None:
        box = self.root.locator(".composer input[name=text]")
        box.fill(text)
        box.press("Enter")

    def reply_button(self, text: str) -> Locator:
        return self.root.locator(".keyboard .rkb-btn", has_text=text)

    def inline(self, data: str, *, prefix: bool = False) -> Locator:
        """The newest inline button with this callback data (or data starting with it)."""
        op = "^=" if prefix else "="
        return self.root.locator(f'.ikb-btn[data-cb{op}"{data}"]').last
