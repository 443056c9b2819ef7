"""Times compute_kpis + write_docx for a year of 200 articles x 3 channels and 100,000 samples
(plus a year of daily follower counts: the growth table and chart)."""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.reports.docx_report import ReportAgency, write_docx
from bot.reports.kpis import compute_kpis, parse_period
from bot.reports.tables import write_xlsx
from content_queue.db import open_database
from content_queue.store import Store
from content_queue.tables import articles, deliveries, follower_samples, reach_samples
from content_queue.topics import TOPIC_ORDER

ARTICLES = 200
CHANNELS = ("website", "facebook", "zalo")
SAMPLES = 100_000
METRICS = {
    "website": ("views",),
    "facebook": ("post_total_media_view_unique", "reactions", "comments", "shares"),
    "zalo": ("views", "shares"),
}


def seed(engine) -> None:  # type: ignore[no-untyped-def]
    """Bulk-inserts the articles, deliveries and reach samples."""
    rnd = random.Random(7)
    start = datetime(2026, 1, 1, 1, tzinfo=UTC)
    arts, dels = [], []
    for i in range(1, ARTICLES + 1):
        sent = start + timedelta(hours=rnd.randrange(0, 360 * 24))
        arts.append(
            {
                "id": i,
                "title": f"Bài số {i} về cải cách hành chính",
                "topic": TOPIC_ORDER[i % 9],
                "state": "published",
                "submitted_at": sent,
                "content_hash": f"h{i}",
                "updated_at": sent,
                "images": [],
                "channels": [],
            }
        )
        for j, ch in enumerate(CHANNELS):
            dels.append(
                {
                    "id": i * 3 + j,
                    "article_id": i,
                    "channel": ch,
                    "state": "sent",
                    "idempotency_key": f"{i}-{ch}",
                    "sent_at": sent + timedelta(minutes=j),
                    "updated_at": sent,
                }
            )
    samples = []
    for n in range(SAMPLES):
        d = dels[n % len(dels)]
        metric = METRICS[d["channel"]][n % len(METRICS[d["channel"]])]
        samples.append(
            {
                "delivery_id": d["id"],
                "metric": metric,
                "value": n % 997,
                "collected_at": d["sent_at"] + timedelta(hours=n // len(dels)),
                "available": n % 50 != 0,
            }
        )
    followers = [
        {
            "channel": ch,
            "metric": metric,
            "value": base + day * 3,
            "collected_at": start + timedelta(days=day),
            "available": True,
        }
        for day in range(365)
        for ch, metric, base in (
            ("facebook", "followers_count", 5000),
            ("facebook", "fan_count", 4800),
            ("zalo", "followers", 1200),
        )
    ]
    with engine.begin() as conn:
        conn.execute(articles.insert(), arts)
        conn.execute(deliveries.insert(), dels)
        conn.execute(reach_samples.insert(), samples)
        conn.execute(follower_samples.insert(), followers)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        t0 = time.perf_counter()
        seed(engine)
        t1 = time.perf_counter()
        kpis = compute_kpis(
            Store(engine), parse_period("2026"), now=datetime(2026, 12, 31, tzinfo=UTC)
        )
        t2 = time.perf_counter()
        write_docx(kpis, Path(tmp) / "report.docx", agency=ReportAgency())
        t3 = time.perf_counter()
        write_xlsx(kpis, Path(tmp) / "report.xlsx")
        t4 = time.perf_counter()
        size = (Path(tmp) / "report.docx").stat().st_size
        engine.dispose()
    print(
        f"seed {ARTICLES} articles x {len(CHANNELS)} channels, {SAMPLES:,} samples: {t1 - t0:.2f} s"
    )
    print(f"compute_kpis: {t2 - t1:.3f} s")
    print(f"write_docx:   {t3 - t2:.3f} s ({size / 1024:.0f} KiB)")
    print(f"compute_kpis + write_docx: {t3 - t1:.3f} s (target < 3 s)")
    print(f"write_xlsx:   {t4 - t3:.3f} s")


if __name__ == "__main__":
    main()
