"""`python -m cvi_app.sandbox`: run the sandbox on its own (REST under /v2, rooms under /rooms)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import uvicorn

from cvi_app.config import get_settings
from cvi_app.sandbox.app import create_sandbox_app


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line; defaults come from the app's settings (environment)."""
    settings = get_settings()
    key = settings.sandbox_api_key
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
        default=key.get_secret_value() if key else None,
        help="the only x-api-key accepted (default: any non-blank key)",
    )
    parser.add_argument("--max-concurrent", type=int, default=settings.sandbox_max_concurrent)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.words_per_second <= 0:
        parser.error("--words-per-second must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sandbox server until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    app = create_sandbox_app(
        api_key=args.api_key,
        max_concurrent=args.max_concurrent,
        words_per_second=args.words_per_second,
        twins=args.twins,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
