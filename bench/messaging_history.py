"""Latency of a history page at the newest, middle and oldest end of a big channel.

History pages are keyset queries on the ``(channel_id, id)`` index, so a page should
cost the same at any depth (docs/messaging.md, "History"). This bench checks that
claim where it matters: one channel holding N messages (1,000,000 by default) in the
service's real SQLite store, paged through the real domain method
``Messages.history(channel, HistoryQuery(...))`` with the default page of 50.

Load: every message goes through the public ``Store.insert`` (one autocommit
transaction each, WAL, ``synchronous=NORMAL``), from ``--concurrency`` tasks so that
aiosqlite's worker thread always has the next statement queued. No private bulk path:
the load time printed is what the store's own insert costs.

Measure: ``--pages`` pages at each position, in rotation (so cache warmth is shared),
after one warm-up round. Positions:

- ``newest``: no cursor (what a client opening the channel asks for);
- ``newest-before``: ``before=<newest id>``;
- ``middle``: ``before=<id of message N/2>``;
- ``oldest``: ``before=<id of message 50>``, i.e. the 50 oldest messages.

Prints p50 and p99 per position, the ratio of the largest to the smallest p50 (goal:
<= 2, "flat") and whether every p50 is <= 5 ms (goal).

    python bench/messaging_history.py [--messages 1000000] [--pages 200] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from meshkit.plugins import get_plugin_manager
from meshkit.services.messaging.messages import Messages
from meshkit.services.messaging.models import Channel, HistoryQuery, Membership, Message
from meshkit.store import Store, new_id, open_store
from meshkit.testing import make_settings

PAGE = 50
CONTENT = "a typical chat line, about sixty characters long, nothing more"
GOAL_P50_MS = 5.0
GOAL_RATIO = 2.0


async def load(store: Store, channel: Channel, count: int, concurrency: int) -> dict[int, str]:
    """Insert ``count`` messages; the ids at the positions the bench pages from.

    Ids are taken from one shared counter in the event loop, so position ``i`` is also
    the ``i``-th id in sort order (``new_id`` is strictly increasing in a process).
    """
    wanted = {PAGE, count // 2, count - 1}
    positions: dict[int, str] = {}
    next_index = 0
    now = datetime.now(UTC)
    report_every = max(count // 10, 1)
    started = time.perf_counter()

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            message_id = new_id()
            if index in wanted:
                positions[index] = message_id
            await store.insert(
                Message(
                    id=message_id,
                    channel_id=channel.id,
                    author_id=f"user{index % 100}",
                    content=CONTENT,
                    created_at=now,
                    nonce_key=f"id:{message_id}",
                )
            )
            if (index + 1) % report_every == 0:
                elapsed = time.perf_counter() - started
                print(f"  loaded {index + 1:>9,} in {elapsed:6.1f} s", flush=True)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return positions


def database_size(data_dir: Path) -> int:
    """Bytes of the messaging database, WAL included."""
    return sum(f.stat().st_size for f in data_dir.glob("messaging.sqlite3*"))


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples``, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def measure(
    messages: Messages, channel: Channel, queries: dict[str, HistoryQuery], pages: int
) -> dict[str, list[float]]:
    """Seconds per page for each named query, interleaved round by round."""
    timings: dict[str, list[float]] = {name: [] for name in queries}
    for name, query in queries.items():  # warm-up: statement cache, first page reads
        page = await messages.history(channel, query)
        if len(page) != PAGE:
            print(f"  warning: {name} returned {len(page)} messages, not {PAGE}")
    for _ in range(pages):
        for name, query in queries.items():
            started = time.perf_counter()
            await messages.history(channel, query)
            timings[name].append(time.perf_counter() - started)
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    if args.messages < 2 * PAGE + 1:
        parser.error(f"--messages must be at least {2 * PAGE + 1}")

    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp))
        store = await open_store(settings, service="messaging")
        try:
            await store.ensure_indexes([Channel, Membership, Message])
            channel = await store.insert(
                Channel(
                    kind="public",
                    name="big",
                    key="ch:big",
                    created_by="bench",
                    created_at=datetime.now(UTC),
                )
            )
            print(f"loading {args.messages:,} messages ({args.concurrency} concurrent inserts)")
            started = time.perf_counter()
            positions = await load(store, channel, args.messages, args.concurrency)
            took = time.perf_counter() - started
            size = database_size(Path(tmp))
            print(
                f"load: {args.messages:,} messages in {took:.1f} s "
                f"({args.messages / took:,.0f}/s), database {size / 2**20:,.0f} MiB"
            )

            plugins = get_plugin_manager(settings, load_entry_points=False)
            messages = Messages(store, plugins, service=None)
            queries = {
                "newest": HistoryQuery(limit=PAGE),
                "newest-before": HistoryQuery(before=positions[args.messages - 1], limit=PAGE),
                "middle": HistoryQuery(before=positions[args.messages // 2], limit=PAGE),
                "oldest": HistoryQuery(before=positions[PAGE], limit=PAGE),
            }
            timings = await measure(messages, channel, queries, args.pages)
        finally:
            await store.close()

    print(f"history page of {PAGE}, {args.pages} pages per position:")
    p50s: dict[str, float] = {}
    for name, samples in timings.items():
        p50s[name] = statistics.median(samples) * 1000
        p99 = percentile(samples, 0.99) * 1000
        print(f"  {name:<14} p50 {p50s[name]:6.2f} ms   p99 {p99:6.2f} ms")
    ratio = max(p50s.values()) / min(p50s.values())
    worst = max(p50s.values())
    print(
        f"p50 max/min ratio {ratio:.2f} (goal <= {GOAL_RATIO:.0f}: "
        f"{'met' if ratio <= GOAL_RATIO else 'MISSED'}); "
        f"worst p50 {worst:.2f} ms (goal <= {GOAL_P50_MS:.0f} ms: "
        f"{'met' if worst <= GOAL_P50_MS else 'MISSED'})"
    )


if __name__ == "__main__":
    asyncio.run(main())
