"""`python -m cvi_app.sandbox`: run the sandbox on its own (REST under /v2, rooms under /rooms).

The REST API accepts one key: `--api-key`, else `CVI_SANDBOX_API_KEY`, else a random one made at
start. The key is printed once at start, so the person who ran it can use it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from cvi_app.config import get_settings, sandbox_api_key
from cvi_app.sandbox.app import create_sandbox_app


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line; defaults come from the app's settings (environment)."""
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m cvi_app.sandbox",
        description="Local Tavus-compatible API, rooms and simulated replica.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--words-per-second",
        type=float,
        default=settings.sandbox_words_per_second,
        help="how fast the simulated replica speaks",
    )
    parser.add_argument(
        "--twins",
        action=argparse.BooleanOptionalAction,
        default=settings.sandbox_twins,
        help="also send the newer 'pal' twin of every replica event",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="the only x-api-key accepted (default: CVI_SANDBOX_API_KEY, else a random key)",
    )
    parser.add_argument("--max-concurrent", type=int, default=settings.sandbox_max_concurrent)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.words_per_second <= 0:
        parser.error("--words-per-second must be positive")
    if args.api_key is None:
        args.api_key = sandbox_api_key()
    elif not args.api_key.strip():
        parser.error("--api-key must not be blank")
    args.api_key = args.api_key.strip()
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sandbox server until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    # Printed, not logged: the person who started the server needs it, log files do not.
    sys.stdout.write(f"Sandbox API key: {args.api_key}\n")
    sys.stdout.flush()
    app = create_sandbox_app(
        api_key=args.api_key,
        max_concurrent=args.max_concurrent,
        words_per_second=args.words_per_second,
        twins=args.twins,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
