"""``python -m sandbox --port 8081``: serve the Telegram Bot API sandbox until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from sandbox.server import SandboxServer
from sandbox.testing import random_token


async def _serve(host: str, port: int, tokens: list[str]) -> None:
    server = SandboxServer(host, port)
    for spec in tokens:
        token, _, username = spec.partition("=")
        server.register_bot(token, username=username or "kabinet_test_bot")
    await server.start()
    print(server.url, flush=True)
    print(f"# example token: {random_token()}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--bot",
        action="append",
        default=[],
        metavar="TOKEN[=USERNAME]",
        help="pre-register a bot token with a username (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.bot))


if __name__ == "__main__":
    main()
