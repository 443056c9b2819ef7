"""Fan-out: with latency L per sandbox call, is an article's wall time close to
website + the slowest other channel, rather than their sum?

    .venv/bin/python benchmarks/fanout.py [--articles 50] [--latency 0.2]

Prints the median of wall / (website delivery time + slowest dependent delivery time), where each
delivery time is measured from its own first attempt to its recorded post.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.run import build_dispatcher

sys.path.insert(0, str(Path(__file__).parent))

from _setup import workspace  # noqa: E402

from content_queue.models import Actor, ParsedArticle  # noqa: E402
from content_queue.store import ChannelPlan  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.2)
    args = ap.parse_args()
    loa, boxes, _ = workspace()
    for b in (boxes.website, boxes.facebook, boxes.zalo):
        b.latency = args.latency
    actor = Actor("bench", "cli")
    now = datetime.now(UTC)
    plan = [ChannelPlan("website"), ChannelPlan("facebook", "website")]
    for i in range(args.articles):
        a = loa.store.articles.submit(
            ParsedArticle(
                title=f"Bài đo hiệu năng số {i}",
                summary="Tóm tắt ngắn.",
                body_html="<p>Nội dung.</p>",
                body_text="Nội dung.",
                topic="h",
                content_hash=f"bench-{i}-{time.time()}",
            ),
            actor,
        ).article
        loa.store.articles.approve(a.id, actor, now, plan)
    d = build_dispatcher(loa)
    t0 = time.perf_counter()
    d.tick()
    total = time.perf_counter() - t0
    d.close()
    ratios = []
    for a in loa.store.articles.list(["published"]):
        with loa.store.engine.connect() as conn:
            import sqlalchemy as sa

            from content_queue.tables import deliveries

            rows = {
                r.channel: r
                for r in conn.execute(
                    sa.select(
                        deliveries.c.channel, deliveries.c.first_attempt_at, deliveries.c.sent_at
                    ).where(deliveries.c.article_id == a.id)
                )
            }
        w = rows["website"]
        others = [r for c, r in rows.items() if c != "website"]
        wall = max(r.sent_at for r in rows.values()) - w.first_attempt_at
        ideal = (w.sent_at - w.first_attempt_at) + max(
            r.sent_at - r.first_attempt_at for r in others
        )
        ratios.append(wall / ideal)
    boxes.stop()
    print(
        f"articles: {args.articles}, latency per call: {args.latency * 1000:.0f} ms, "
        f"published: {len(ratios)}, total {total:.2f} s"
    )
    print(
        f"median wall / (website + slowest other): {statistics.median(ratios):.3f} "
        f"(p90 {sorted(ratios)[int(len(ratios) * 0.9) - 1]:.3f})"
    )


if __name__ == "__main__":
    main()
