"""Web page server time: the calendar month page and the plan page on a big database.

    .venv/bin/python benchmarks/web.py [--db postgresql://postgres@127.0.0.1:5432/test]

Seeds 10,000 articles, 30,000 deliveries (website, Facebook, Zalo) and 1,000,000 reach samples,
all within the current year (the worst case for the year's plan page: every row is in it), then
requests each page through the real ASGI app (routing, session check, SQL, Jinja, SVG) and
prints p50/p95 server time. On PostgreSQL the data goes to a throw-away schema, dropped after.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

from _setup import workspace  # noqa: E402

from bot.web.app import build_app  # noqa: E402
from bot.web.passwords import hash_password  # noqa: E402
from content_queue.models import Actor  # noqa: E402
from content_queue.tables import articles, deliveries, reach_samples  # noqa: E402

TOPICS = ("a", "b", "c", "d", "đ", "e", "f", "g", "h", "i")
METRICS = {
    "website": ("views",),
    "facebook": ("post_total_media_view_unique", "reactions", "comments"),
    "zalo": ("views", "likes"),
}


def seed(engine: sa.Engine, n_articles: int, n_samples: int, now: datetime) -> None:
    rnd = random.Random(7)
    year_start = datetime(now.year, 1, 1, tzinfo=UTC)
    span = (now - year_start).total_seconds()
    arts, dels = [], []
    did = 0
    sent_ids: list[tuple[int, str, datetime]] = []
    for i in range(1, n_articles + 1):
        upcoming = i > n_articles * 0.97  # the last 3 %: approved, due in the coming weeks
        at = (
            now + timedelta(hours=rnd.uniform(1, 24 * 40))
            if upcoming
            else year_start + timedelta(seconds=rnd.uniform(0, span - 3600))
        )
        arts.append(
            dict(
                id=i,
                title=f"Bài CCHC số {i}: cải cách thủ tục hành chính",
                topic=rnd.choice(TOPICS),
                state="approved" if upcoming else "published",
                submitted_at=at - timedelta(days=1),
                scheduled_at=at,
                approved_at=at - timedelta(hours=5),
                approved_by="tg:1",
                content_hash=f"h{i}",
                updated_at=at,
                images=[],
                channels=[],
                summary="Tóm tắt bài viết.",
                body_html="<p>Nội dung.</p>",
            )
        )
        for ch in ("website", "facebook", "zalo"):
            did += 1
            failed = not upcoming and rnd.random() < 0.01
            fixed = not upcoming and not failed and rnd.random() < 0.02
            state = "waiting" if upcoming else ("failed" if failed else "sent")
            sent_at = (
                None if upcoming or failed else at + timedelta(minutes=1 if ch == "website" else 2)
            )
            if fixed:
                sent_at = at + timedelta(hours=rnd.uniform(0.5, 30))
            dels.append(
                dict(
                    id=did,
                    article_id=i,
                    channel=ch,
                    state=state,
                    due_at=at,
                    next_attempt_at=at if upcoming and ch == "website" else None,
                    after_channel="website" if ch != "website" else None,
                    idempotency_key=f"k{i}-{ch}",
                    remote_id=None if upcoming else str(did),
                    sent_at=sent_at,
                    updated_at=at,
                    attempts=1,
                    first_failure_at=at if failed or fixed else None,
                    last_error="HTTP 500" if failed else None,
                )
            )
            if sent_at is not None:
                sent_ids.append((did, ch, sent_at))
    with engine.begin() as conn:
        for k in range(0, len(arts), 5000):
            conn.execute(articles.insert(), arts[k : k + 5000])
        for k in range(0, len(dels), 15000):
            conn.execute(deliveries.insert(), dels[k : k + 15000])
        if engine.dialect.name == "postgresql":
            for table in ("articles", "deliveries"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}','id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    # Reach samples through the same trigger the service's inserts go through.
    per = -(-n_samples // len(sent_ids))  # ceil: the last deliveries get fewer
    batch: list[dict[str, object]] = []
    written = 0
    with engine.begin() as conn:
        for did, ch, sent_at in sent_ids:
            metrics = METRICS[ch]
            for s in range(min(per, n_samples - written - len(batch))):
                metric = metrics[s % len(metrics)]
                batch.append(
                    dict(
                        delivery_id=did,
                        metric=metric,
                        collected_at=sent_at + timedelta(hours=1 + s),
                        value=50 + 10 * s + did % 97,
                        available=True,
                    )
                )
            if len(batch) >= 50_000:
                conn.execute(reach_samples.insert(), batch)
                written += len(batch)
                batch = []
            if written + len(batch) >= n_samples:
                break
        if batch:
            conn.execute(reach_samples.insert(), batch)
            written += len(batch)
    print(f"reach samples written: {written:,}")


def timed(
    client: TestClient, path: str, runs: int, change: Callable[[], None] | None = None
) -> list[float]:
    """Server times of ``runs`` requests; with ``change``, the data changes before each one
    (the page's figures must be recomputed: the cold path)."""
    for _ in range(3):
        assert client.get(path).status_code == 200
    times = []
    for _ in range(runs):
        if change is not None:
            change()
        t = time.perf_counter()
        r = client.get(path)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.status_code
    return times


def new_sample(engine: sa.Engine) -> Callable[[], None]:
    """Insert one more reach sample, as the reach collector does (moves the change mark)."""

    def insert() -> None:
        with engine.begin() as conn:
            conn.execute(
                reach_samples.insert().values(
                    delivery_id=1,
                    metric="views",
                    value=1,
                    available=True,
                    collected_at=datetime.now(UTC),
                )
            )

    return insert


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    db, schema, admin = args.db, None, None
    if db and db.startswith("postgresql"):
        schema = "bench_" + uuid.uuid4().hex[:8]
        admin = sa.create_engine(db.replace("postgresql://", "postgresql+psycopg://"))
        with admin.begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {schema}"))
        db = f"{db}?options=-csearch_path%3D{schema}"
    loa, boxes, _ = workspace(db)
    try:
        engine = loa.store.engine
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        seed(engine, args.articles, args.samples, now)
        with engine.connect() as conn:
            counts = {
                t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("articles", "deliveries", "reach_samples", "delivery_reach")
            }
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("ANALYZE"))
                conn.commit()
        print(f"seeded {counts} in {time.perf_counter() - t0:.1f} s on {engine.dialect.name}")
        loa.store.users.add_user(
            "bench", "admin", hash_password("mat-khau-benchmark"), Actor("bench")
        )
        client = TestClient(build_app(loa), base_url="http://127.0.0.1:8080")
        page = client.get("/dang-nhap").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = client.post(
            "/dang-nhap",
            data={"username": "bench", "password": "mat-khau-benchmark", "csrf": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
        local = now.astimezone(loa.settings.schedule.tz)
        pages = {
            "calendar month": f"/lich?thang={local:%Y-%m}",
            "calendar month (last month)": f"/lich?thang={(local.replace(day=1) - timedelta(days=1)):%Y-%m}",
            "plan (year)": f"/ke-hoach?nam={local.year}",
        }
        for name, path in pages.items():
            chips = client.get(path).text.count('class="chip st-')
            for label, change in (("recomputed", new_sample(engine)), ("unchanged data", None)):
                times = timed(client, path, args.runs, change)
                q = statistics.quantiles(times, n=20)
                print(
                    f"{name:28s} {label:15s} p50 {statistics.median(times) * 1000:6.1f} ms  "
                    f"p95 {q[18] * 1000:6.1f} ms  ({args.runs} requests, {chips} chips)"
                )
    finally:
        loa.store.engine.dispose()
        boxes.stop()
        if admin is not None:
            with admin.begin() as c:
                c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
