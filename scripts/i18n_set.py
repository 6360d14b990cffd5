#!/usr/bin/env python3
"""Set translations in a catalog from a JSON file {msgid: translation}, under a file lock.

    python scripts/i18n_set.py ru translations.json

Used when several people add texts at once; `make i18n` takes the same lock.
"""

from __future__ import annotations

import fcntl
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "locales" / ".lock"


def main(locale: str, source: str) -> int:
    pairs: dict[str, str] = json.loads(Path(source).read_text(encoding="utf-8"))
    po_path = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
    LOCK.touch()
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        missing = []
        for msgid, text in pairs.items():
            message = catalog.get(msgid)
            if message is None:
                catalog.add(msgid, text)
                missing.append(msgid)
            else:
                message.string = text
                message.flags.discard("fuzzy")
        with po_path.open("wb") as fh:
            write_po(fh, catalog, width=100)
    print(f"{locale}: {len(pairs)} set ({len(missing)} not yet extracted, added)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
