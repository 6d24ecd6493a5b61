"""`python -m cvi_app.sandbox`: the sandbox service (REST API, rooms, simulated replica) on its own.

It serves the sandbox at the paths the app mounts it at, the REST API under `/sandbox/v2` and
the rooms under `/sandbox/rooms/`, so app processes pointed at it (`CVI_SANDBOX_URL=<its URL>`)
see the same URLs as with the mounted one, and a reverse proxy can send an app host's
`/sandbox/` to it. The same is served at the root too (`/v2`, `/rooms/`), for any Tavus client
whose base URL is set to `<its URL>/v2`.

Settings come from the environment, as for the mounted sandbox (`CVI_SANDBOX_API_KEY`,
`CVI_SANDBOX_MAX_CONCURRENT`, `CVI_SANDBOX_WORDS_PER_SECOND`, `CVI_SANDBOX_TWINS`), plus
`CVI_SANDBOX_PUBLIC_URL`: the origin browsers reach the service at, which the room URLs of new
conversations start with (default: the origin the API was called at). The command line overrides
each. The REST API accepts one key: `--api-key`, else `CVI_SANDBOX_API_KEY`, else a random one made
at start. The key is printed once at start, so the person who ran it can use it, and the URL once
the service answers. SIGTERM or SIGINT closes every room (each participant is told `room-closed`)
and exits with status 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from types import FrameType

import uvicorn

from cvi_app.config import SANDBOX_API_PREFIX, exact_origin, get_settings, sandbox_api_key
from cvi_app.sandbox.app import Sandbox, create_sandbox_app, sandbox_of

DEFAULT_PORT = 8100
SERVED_UNDER = ("", SANDBOX_API_PREFIX.rsplit("/", 1)[0])  # the root and `/sandbox`


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line; defaults come from the app's settings (environment)."""
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="python -m cvi_app.sandbox",
        description="Local Tavus-compatible API, rooms and simulated replica.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--public-url",
        default=settings.sandbox_public_url,
        help="the origin browsers reach this service at, for room URLs "
        "(default: CVI_SANDBOX_PUBLIC_URL, else the origin the API was called at)",
    )
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
    if args.public_url is not None:
        try:
            args.public_url = exact_origin(args.public_url)
        except ValueError as exc:
            parser.error(f"--public-url {exc}")
    if args.api_key is None:
        args.api_key = sandbox_api_key()
    elif not args.api_key.strip():
        parser.error("--api-key must not be blank")
    args.api_key = args.api_key.strip()
    return args


class SandboxServer(uvicorn.Server):
    """uvicorn serving the sandbox: says where it answers, and closes the rooms first on exit.

    Args:
        config: uvicorn's configuration (its app is the sandbox app).
        sandbox: The sandbox's parts, closed before the connections are.
    """

    def __init__(self, config: uvicorn.Config, sandbox: Sandbox) -> None:
        super().__init__(config)
        self.sandbox = sandbox

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start serving, then print the service's URL."""
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            url = _local_url(self.servers[0].sockets[0].getsockname())
            # Printed, not logged: the person (or script) that started it needs it.
            sys.stdout.write(
                f"Sandbox service running at {url} (REST API {url}{SANDBOX_API_PREFIX}); "
                f"point app processes at it with CVI_SANDBOX_URL={url} and the same "
                "CVI_SANDBOX_API_KEY\n"
            )
            sys.stdout.flush()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Close every room (participants hear `room-closed`), then stop serving."""
        await self.sandbox.aclose()
        await super().shutdown(sockets=sockets)


def _local_url(address: tuple[str, int] | tuple[str, int, int, int]) -> str:
    host, port = address[0], address[1]
    if host in ("0.0.0.0", "::"):  # every interface: this machine answers on loopback too
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    # uvicorn stops on the signal, restores this handler, then raises the signal again.
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sandbox service until SIGTERM or SIGINT."""
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
        prefixes=SERVED_UNDER,
        public_origin=args.public_url,
    )
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level)
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _exit_quietly)
    SandboxServer(config, sandbox_of(app)).run()


if __name__ == "__main__":
    main()
