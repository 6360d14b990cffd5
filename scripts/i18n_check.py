#!/usr/bin/env python3
"""Fail when a Russian translation is missing or fuzzy (English msgids need none)."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with (ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    bad = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    for msgid in bad:
        print(f"locales/ru: untranslated or fuzzy: {msgid!r}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
