"""Child process for the crash test: writes events through EventWriter until it is killed.

Usage: python writer_child.py DB_URL CONVERSATION_ID
After each flush it writes the highest acknowledged `seq` to stdout, one line per flush.
"""

from __future__ import annotations

import asyncio
import sys

from cvi_app.store import EventWriter, create_db_engine
from tests.store.helpers import utterance


async def main(url: str, conversation_id: str) -> None:
    engine = create_db_engine(url)
    async with EventWriter(engine, max_batch=100, max_delay=0.005) as writer:
        seq = 0
        while True:
            for _ in range(40):
                seq += 1
                writer.submit(utterance(seq, conversation_id=conversation_id))
            await writer.flush()
            if writer.stats.rejected:
                raise SystemExit(f"{writer.stats.rejected} events rejected")
            sys.stdout.write(f"{seq}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
