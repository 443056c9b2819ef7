"""Punctuality: articles approved for slots a few seconds apart; how late is the first request?

    .venv/bin/python benchmarks/punctuality.py [--articles 30] [--gap 1.0]

Runs the real service loop in-process against the sandboxes and reports the lateness of each
article's first website request after its slot time (p50, p99, max).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _setup import workspace  # noqa: E402

from bot.run import build_service
from content_queue.models import Actor, ParsedArticle  # noqa: E402
from content_queue.store import ChannelPlan  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=30)
    ap.add_argument("--gap", type=float, default=1.0)
    args = ap.parse_args()
    loa, boxes, _ = workspace()
    loa.settings.telegram.token = None  # headless: measure the scheduler alone
    actor = Actor("bench", "cli")
    start = datetime.now(UTC) + timedelta(seconds=3)
    slots = []
    for i in range(args.articles):
        a = loa.store.articles.submit(
            ParsedArticle(
                title=f"Bài đúng giờ số {i}",
                summary="Tóm tắt.",
                body_html="<p>Nội dung.</p>",
                body_text="Nội dung.",
                topic="h",
                content_hash=f"p-{i}-{time.time()}",
            ),
            actor,
        ).article
        due = start + timedelta(seconds=i * args.gap)
        loa.store.articles.approve(a.id, actor, due, [ChannelPlan("website")])
        slots.append(due.timestamp())
    service = build_service(loa)
    loop = asyncio.new_event_loop()
    t = threading.Thread(target=lambda: loop.run_until_complete(service.run()), daemon=True)
    t.start()
    deadline = time.monotonic() + args.articles * args.gap + 30
    while loa.store.articles.list(["approved"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    loop.call_soon_threadsafe(service.stopping.set)
    t.join(10)
    creates = sorted(
        ts
        for ts, method, path in boxes.website.request_log
        if method == "POST" and path.endswith("/wp/v2/posts")
    )
    late = sorted(c - s for c, s in zip(creates, sorted(slots), strict=False))
    boxes.stop()
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))]
    print(
        f"articles: {len(late)}, gap {args.gap} s; lateness of the post request after the slot: "
        f"p50 {statistics.median(late) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {late[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
