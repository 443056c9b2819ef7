"""Follower samples and broadcast rows on SQLite and PostgreSQL: growth, quota, never twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from content_queue.broadcasts import BroadcastCandidate
from content_queue.models import Actor
from content_queue.store import Store
from content_queue.tables import articles, metadata

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def test_growth_is_first_and_last_count_of_the_period_with_the_previous_one_as_start(
    store: Store,
) -> None:
    store.followers.record_follower_counts(
        "facebook", {"followers_count": 1000, "fan_count": 900}, T0 - timedelta(hours=2)
    )  # the last day of September
    for day, count in ((1, 1010), (15, 1100), (31, 1200)):
        store.followers.record_follower_counts(
            "facebook",
            {"followers_count": count, "fan_count": None},
            T0 + timedelta(days=day - 1, hours=1),
        )
    store.followers.record_follower_counts("zalo", {"followers": 300}, T0 + timedelta(days=10))
    store.followers.record_follower_counts(
        "zalo", {"followers": 340}, T0 + timedelta(days=40)
    )  # November
    got = {
        (g.channel, g.metric): g
        for g in store.followers.follower_growth(T0, T0 + timedelta(days=31))
    }
    fb = got[("facebook", "followers_count")]
    assert (fb.start, fb.end, fb.growth, fb.samples) == (1000, 1200, 200, 3)
    assert fb.growth_percent == 20.0 and [v for _, v in fb.points] == [1010, 1100, 1200]
    fans = got[("facebook", "fan_count")]  # no longer given in October: unknown, not zero
    assert (fans.start, fans.end, fans.growth) == (900, None, None)
    zalo = got[("zalo", "followers")]
    assert (zalo.start, zalo.end, zalo.growth) == (300, 300, 0)
    assert store.followers.last_follower_sample_at("zalo") == T0 + timedelta(days=40)
    assert store.followers.last_follower_sample_at("website") is None


def _article(store: Store, title: str) -> int:
    with store.engine.begin() as conn:
        return int(
            conn.execute(
                articles.insert().values(
                    title=title,
                    topic="a",
                    state="published",
                    submitted_at=T0,
                    content_hash=uuid.uuid4().hex,
                    updated_at=T0,
                    images=[],
                    channels=[],
                )
            ).inserted_primary_key[0]
        )


def test_proposals_respect_the_quota_one_open_at_a_time_and_never_repeat_an_article(
    store: Store,
) -> None:
    b = store.broadcasts
    items = [
        BroadcastCandidate(_article(store, f"Bài {i}"), f"z{i}", f"Bài {i}", T0, None)
        for i in range(4)
    ]
    first = b.propose("zalo", "each", "2026-10", 2, items[:2], 50, T0)
    assert first is not None and first.article_ids == (items[0].article_id, items[1].article_id)
    assert first.titles == ("Bài 0", "Bài 1") and first.recipients == 50
    assert b.propose("zalo", "each", "2026-10", 2, items[2:], 50, T0) is None  # one is open
    assert b.decide(first.id, Actor("a"), approve=True, now=T0)
    assert not b.decide(first.id, Actor("b"), approve=False, now=T0)  # the first decision won
    assert b.begin_send(first.id, T0) and not b.begin_send(first.id, T0)
    b.record_sent(first.id, message_id="m1", moderation_state="reviewing", now=T0)
    assert b.propose("zalo", "each", "2026-10", 2, items[1:3], 50, T0) is None  # item 1 again
    second = b.propose("zalo", "digest", "2026-10", 2, items[2:3], 50, T0)
    assert second is not None and b.decide(second.id, Actor("a"), approve=False, now=T0)
    assert b.used("zalo", "2026-10") == 1  # a rejected proposal uses no quota
    third = b.propose("zalo", "each", "2026-10", 2, items[3:], 50, T0)
    assert third is not None and b.used("zalo", "2026-10") == 2
    assert b.decide(third.id, Actor("a"), approve=False, now=T0)
    assert b.used("zalo", "2026-10") == 1
    sent = b.sent_between(T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert [(x.id, x.message_id, x.moderation_state) for x in sent] == [
        (first.id, "m1", "reviewing")
    ]
    entries = [e["action"] for e in store.audit.audit_entries()]
    assert entries.count("broadcast_proposed") == 3 and "broadcast_sent" in entries


def test_the_migrated_schema_matches_the_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    ours = [
        d
        for d in diff
        if any(n in repr(d) for n in ("follower_samples", "broadcasts", "broadcast_articles"))
    ]
    assert ours == []
    assert sa.inspect(store.engine).has_table("broadcast_articles")
