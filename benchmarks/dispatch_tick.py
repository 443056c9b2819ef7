"""Dispatcher cost: 100,000 finished articles in the database, one due; the cost of one tick.

    .venv/bin/python benchmarks/dispatch_tick.py [--db postgresql://postgres@127.0.0.1:5432/test]

Measures a tick against zero-latency sandboxes when nothing is due (the idle tick, the common case)
and the claim statement's plan (the due rows must come from an index, in order, never a scan).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.run import build_dispatcher

sys.path.insert(0, str(Path(__file__).parent))

from _setup import workspace  # noqa: E402

from content_queue.store import claim_statement  # noqa: E402
from content_queue.tables import articles, deliveries  # noqa: E402


def seed(engine: sa.Engine, n: int) -> None:
    now = datetime.now(UTC) - timedelta(days=30)
    arts, dels = [], []
    for i in range(1, n + 1):
        arts.append(
            dict(
                id=i,
                title=f"Bài {i}",
                topic="h",
                state="published",
                submitted_at=now,
                content_hash=f"h{i}",
                updated_at=now,
                images=[],
                channels=[],
            )
        )
        for ch in ("website", "facebook", "zalo"):
            dels.append(
                dict(
                    article_id=i,
                    channel=ch,
                    state="sent",
                    due_at=now,
                    sent_at=now,
                    idempotency_key=f"k{i}-{ch}",
                    remote_id=str(i),
                    updated_at=now,
                )
            )
    with engine.begin() as conn:
        for k in range(0, n, 5000):
            conn.execute(articles.insert(), arts[k : k + 5000])
        for k in range(0, len(dels), 15000):
            conn.execute(deliveries.insert(), dels[k : k + 15000])
        if engine.dialect.name == "postgresql":
            conn.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('articles','id'), :n)"), {"n": n}
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None)
    ap.add_argument("--articles", type=int, default=100_000)
    args = ap.parse_args()
    db = args.db
    if db and db.startswith("postgresql"):
        schema = "bench_" + uuid.uuid4().hex[:8]
        with sa.create_engine(db.replace("postgresql://", "postgresql+psycopg://")).begin() as c:
            c.execute(sa.text(f"CREATE SCHEMA {schema}"))
        db = f"{db}?options=-csearch_path%3D{schema}"
    loa, boxes, _ = workspace(db)
    engine = loa.store.engine
    t0 = time.perf_counter()
    seed(engine, args.articles)
    print(
        f"seeded {args.articles} finished articles ({args.articles * 3} deliveries) "
        f"in {time.perf_counter() - t0:.1f} s on {engine.dialect.name}"
    )
    d = build_dispatcher(loa)
    d.tick()
    idle = []
    for _ in range(50):
        t = time.perf_counter()
        d.tick()
        idle.append(time.perf_counter() - t)
    # The plan of the claim statement itself (EXPLAIN does not run it).
    claim = claim_statement(engine.dialect.name)
    compiled = claim.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    now = datetime.now(UTC)
    values = {**compiled.params, "p_now": now, "p_until": now, "p_owner": "plan", "p_limit": 8}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            args = tuple(
                values[k].isoformat() if isinstance(values[k], datetime) else values[k]
                for k in compiled.positiontup or ()
            )
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args).all()
        else:
            plan = conn.exec_driver_sql("EXPLAIN " + str(compiled), values).all()
    print(
        f"idle tick (nothing due): median {statistics.median(idle) * 1000:.2f} ms, "
        f"max {max(idle) * 1000:.2f} ms"
    )
    print("due query plan:", " | ".join(str(r[-1]) for r in plan))
    d.close()
    boxes.stop()


if __name__ == "__main__":
    main()
