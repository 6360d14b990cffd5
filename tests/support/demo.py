"""`make demo` as a child process (scripts/demo.py), for the launcher and browser tests.

Started in a folder of its own (--workdir), so that the processes it started can be found
afterwards by that folder in their environment (DATABASE_URL points into it).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.services import demo

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"Kabinet demo: (http://127\.0\.0\.1:\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_accounts() -> dict[str, demo._Acc]:
    """The demo data's notable accounts by case (as `demo-data` makes them today)."""
    return {a.case: a for a in demo._build_accounts(dt.date.today()) if a.case}


@dataclass
class DemoProcess:
    workdir: Path
    port: int = field(default_factory=free_port)
    lang: str = "ru"
    proc: subprocess.Popen[bytes] | None = None
    output: list[str] = field(default_factory=list)
    url: str = ""
    started_in: float = 0.0

    def start(self, timeout: float = 60.0) -> str:
        """Start it and wait for the address it prints when ready; returns the address."""
        began = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "demo.py"), "--port", str(self.port),
             "--lang", self.lang, "--workdir", str(self.workdir)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        line = self.read_until(READY, timeout)
        match = READY.search(line)
        assert match, f"make demo did not get ready in {timeout}s:\n{self.printed()}"
        self.url = match.group(1)
        self.started_in = time.monotonic() - began
        return self.url

    def read_until(self, pattern: re.Pattern[str], timeout: float) -> str:
        """Lines it prints until one matches (returned), it exits, or the time is up ('')."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    break
                raw = self.proc.stdout.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.output.append(line)
                if pattern.search(line):
                    return line
        return ""

    def printed(self) -> str:
        log = self.workdir / "bot.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no bot.log)"
        return "\n".join(self.output) + f"\n--- bot.log:\n{tail}"

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Ctrl-C (SIGINT) by default; returns its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.output.extend(self.proc.stdout.read().decode("utf-8", "replace").splitlines())
            self.proc.stdout.close()
        return int(self.proc.returncode)

    def leftovers(self) -> list[int]:
        """Processes still alive that were started for this demo (found by its work folder)."""
        mine = str(self.workdir).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if mine in (entry / "environ").read_bytes() + (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found
