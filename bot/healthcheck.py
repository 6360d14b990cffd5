"""The container's health check: `python -m bot.healthcheck` exits 0 when /healthz says 200.

Reads WEB_PORT (default 8080) from the environment; standard library only, so it stays
cheap every 15 s and works however the settings are otherwise broken.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("WEB_PORT", "8080")
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthz: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
