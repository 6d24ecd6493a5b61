"""`python -m cvi_app.tools_sync [--persona ID ...] [--apply]`: give personas the Python tools.

Without `--apply` it is a dry run: it says, for each persona, which tools it adds, updates and
keeps, and prints the JSON Patch, and sends nothing. `make sync-tools` applies.

Exit status: 0 done (or nothing to do), 1 some persona could not be read or changed, 2 the
settings (or the tools module) are not usable.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from cvi_app.config import ConfigError, Settings, load_settings
from cvi_app.live.tools import app_tools
from cvi_app.tavus import TavusClient
from cvi_app.tools_sync.sync import Target, sync_tools

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cvi_app.tools_sync",
        description=(
            "Make the app's Python tools (the demo tools and CVI_TOOLS_MODULE's) the tools of "
            "each persona's LLM (layers.llm.tools), keeping tools that are not Python tools. "
            "A dry run unless --apply is given."
        ),
    )
    parser.add_argument(
        "--persona",
        action="append",
        default=[],
        metavar="ID",
        help="a persona to sync (repeatable); default: the catalog's personas that are not stock",
    )
    parser.add_argument("--apply", action="store_true", help="send the changes (PATCH)")
    return parser


def _key(settings: Settings) -> tuple[str, Target]:
    """The key for the app's API in its mode (as the app's session manager keys it), and where."""
    if settings.mode == "tavus" and settings.tavus_api_key is not None:
        key, setting = settings.tavus_api_key.get_secret_value(), "TAVUS_API_KEY"
    elif settings.sandbox_api_key is not None:
        key, setting = settings.sandbox_api_key.get_secret_value(), "CVI_SANDBOX_API_KEY"
    else:
        raise ConfigError(
            "CVI_SANDBOX_API_KEY: in sandbox mode this command talks to the app's sandbox API, "
            "which then accepts only a random key the app made at start (no other process can "
            "know it). Set the same CVI_SANDBOX_API_KEY for the app and for this command."
        )
    return key, Target(mode=settings.mode, api_base=settings.api_base, key_setting=setting)


async def _run(
    key: str,
    target: Target,
    definitions: list[dict[str, Any]],
    persona_ids: Sequence[str],
    *,
    apply: bool,
) -> int:
    client = TavusClient(
        api_key=key, base_url=target.api_base, timeout=10.0, max_retries=1, retry_backoff=0.3
    )
    async with client:
        return await sync_tools(
            client,
            definitions,
            persona_ids=persona_ids,
            apply=apply,
            target=target,
            out=sys.stdout,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status."""
    args = _parser().parse_args(argv)
    # Retries are the client's business; their warnings would only repeat the final error.
    logging.getLogger("cvi_app.tavus").setLevel(logging.ERROR)
    try:
        settings = load_settings()
        # A tools module that cannot load stops the command here, before any request.
        definitions = app_tools(settings).openai_schemas()
        key, target = _key(settings)
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_CONFIG
    return asyncio.run(_run(key, target, definitions, args.persona, apply=args.apply))


if __name__ == "__main__":
    sys.exit(main())
