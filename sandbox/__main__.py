"""``python -m sandbox --port 8081``: serve the Telegram Bot API sandbox until interrupted.

The control endpoints (``/_control/``, docs/sandbox.md) play users of the first bot given with
``--bot`` (or of a bot with a random token, printed at start).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from sandbox.testing import Sandbox


async def _serve(host: str, port: int, tokens: list[str]) -> None:
    specs = [spec.partition("=") for spec in tokens]
    first = specs[0] if specs else None
    sb = Sandbox(
        token=first[0] if first else None,
        username=(first[2] if first else "") or "kabinet_test_bot",
        host=host,
        port=port,
    )
    for token, _, username in specs[1:]:
        sb.server.register_bot(token, username=username or "kabinet_test_bot")
    await sb.start()
    print(sb.url, flush=True)
    print(f"# token: {sb.token}  (control endpoints: {sb.url}/_control/)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sb.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--bot",
        action="append",
        default=[],
        metavar="TOKEN[=USERNAME]",
        help="pre-register a bot token with a username (repeatable; the first one is played "
        "by the control endpoints)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.bot))


if __name__ == "__main__":
    main()
