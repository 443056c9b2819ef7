"""Storage behind the web page on SQLite and PostgreSQL: accounts, sessions, the calendar's and
the plan's reads, and the trigger that keeps each delivery's plan reach sample."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import parsed_article

from bot.reports.kpis import compute_kpis, parse_period
from content_queue.login_attempts import LoginRules
from content_queue.models import Actor
from content_queue.store import ChannelPlan, Store
from content_queue.tables import delivery_reach, reach_samples
from content_queue.workflow import IllegalTransition

ADMIN = Actor("admin")
PLAN = [ChannelPlan("website"), ChannelPlan("facebook", "website")]


def _sent_article(store: Store, title: str, topic: str, due: datetime) -> list[int]:
    """An approved article whose deliveries were posted at ``due``; returns delivery ids."""
    aid = store.articles.submit(parsed_article(title, topic=topic), ADMIN).article.id
    store.articles.approve(aid, ADMIN, due, PLAN)
    ids = []
    for _ in range(2):  # website first, then facebook once released
        for d in store.deliveries.claim_due(
            "w", due + timedelta(minutes=1), limit=5, lease_seconds=60
        ):
            store.deliveries.record_sent(
                d.id, "w", remote_id=f"r{d.id}", url=f"https://x.gov.vn/{d.id}"
            )
            ids.append(d.id)
    return ids


def test_accounts_and_sessions(store: Store) -> None:
    user = store.users.add_user("lan", "admin", "$argon2id$fake", ADMIN, full_name="Nguyễn Thị Lan")
    assert user.actor.name == "web:Nguyễn Thị Lan (lan)"
    with pytest.raises(IllegalTransition, match="đã có"):
        store.users.add_user("lan", "viewer", "$argon2id$x", ADMIN)
    with pytest.raises(IllegalTransition, match="không hợp lệ"):
        store.users.add_user("an", "boss", "$argon2id$x", ADMIN)
    store.users.open_session(user, "h1", "csrf1", timedelta(hours=1), "127.0.0.1")
    live = store.users.session_user("h1", idle=timedelta(minutes=5))
    assert live is not None and live.user.name == "lan" and live.csrf_token == "csrf1"
    assert store.users.session_user("h1", idle=timedelta(0)) is None  # idle too long: ended
    assert store.users.session_user("h1", idle=timedelta(minutes=5)) is None
    store.users.open_session(user, "h2", "csrf2", timedelta(hours=1), None)
    store.users.set_password_hash("lan", "$argon2id$new", ADMIN)
    assert store.users.session_user("h2", idle=timedelta(minutes=5)) is None
    store.users.open_session(user, "h3", "csrf3", timedelta(seconds=-1), None)
    assert store.users.session_user("h3", idle=timedelta(minutes=5)) is None  # expired
    store.users.open_session(user, "h4", "csrf4", timedelta(hours=1), None)
    store.users.set_disabled("lan", True, ADMIN)
    assert store.users.session_user("h4", idle=timedelta(minutes=5)) is None


def test_login_tries_are_reserved_per_address_and_account(store: Store) -> None:
    rules = LoginRules(address_limit=4, free_failures=2, first_delay=timedelta(seconds=10))
    now = datetime.now(UTC)
    tries = store.login_attempts
    assert tries.reserve("10.0.0.1", "an", rules, now).granted
    assert tries.reserve("10.0.0.1", "an", rules, now).granted  # second wrong: delay starts
    late = tries.reserve("10.0.0.1", "an", rules, now)
    assert (late.granted, late.refused, late.retry_after) == (False, "account", 10.0)
    assert tries.reserve("10.0.0.2", "an", rules, now).granted  # another address is not delayed
    assert tries.reserve("10.0.0.1", "an", rules, now + timedelta(seconds=10)).granted
    again = tries.reserve("10.0.0.1", "an", rules, now + timedelta(seconds=11))
    assert again.refused == "account" and again.retry_after == 19.0  # doubled: 20 s
    good = tries.reserve("10.0.0.1", "binh", rules, now)
    full = tries.reserve("10.0.0.1", "chi", rules, now)
    assert good.granted and full.refused == "address"
    tries.succeeded(good)  # a right password gives its try back to the address
    assert tries.reserve("10.0.0.1", "chi", rules, now).granted
    rows = tries.count()
    assert rows > 0 and tries.sweep(now + timedelta(days=1)) == rows
    assert tries.count() == 0


def test_calendar_places_posts_on_their_day_and_filters(store: Store) -> None:
    now = datetime.now(UTC)
    _sent_article(store, "Bài đã đăng", "a", now - timedelta(hours=1))  # sent now
    later = store.articles.submit(parsed_article("Bài chờ đăng", topic="b"), ADMIN).article.id
    store.articles.approve(later, ADMIN, now + timedelta(days=3), PLAN)
    asked = store.articles.submit(parsed_article("Bài xin đăng", topic="c"), ADMIN).article
    lo, hi = now - timedelta(days=1), now + timedelta(days=10)
    entries, truncated = store.reads.calendar_entries(lo, hi)
    assert not truncated
    assert sorted((e.title, e.channel, e.state) for e in entries) == [
        ("Bài chờ đăng", "facebook", "waiting"),
        ("Bài chờ đăng", "website", "waiting"),
        ("Bài đã đăng", "facebook", "sent"),
        ("Bài đã đăng", "website", "sent"),
    ]
    assert all(lo <= e.at < hi for e in entries)
    assert [e.title for e in entries][-2:] == ["Bài chờ đăng", "Bài chờ đăng"]  # by time
    only = store.reads.calendar_entries(lo, hi, channels=["website"], topic="b")[0]
    assert [(e.title, e.channel) for e in only] == [("Bài chờ đăng", "website")]
    assert store.reads.calendar_entries(lo, hi, limit=1) == (entries[:1], True)
    assert store.reads.calendar_entries(hi, hi + timedelta(days=30)) == ([], False)
    assert [(q.article_id, q.title) for q in store.reads.pending_queue()] == [
        (asked.id, "Bài xin đăng")
    ]


def _year(store: Store, now: datetime):  # type: ignore[no-untyped-def]
    return compute_kpis(store, parse_period(str(now.year)), tz="UTC", now=now)


def test_year_figures_and_the_reach_trigger(store: Store) -> None:
    now = datetime.now(UTC)
    web1, fb1 = _sent_article(store, "Bài một", "a", now - timedelta(hours=2))
    web2, _ = _sent_article(store, "Bài hai", "đ", now - timedelta(hours=1))
    _sent_article(store, "Bài ba", "a", now - timedelta(minutes=5))
    t0 = now - timedelta(hours=1)
    rows = [
        (fb1, "post_total_media_view_unique", 100, True, t0),
        (fb1, "post_total_media_view_unique", 150, True, t0 + timedelta(minutes=10)),
        (fb1, "post_total_media_view_unique", None, False, t0 + timedelta(minutes=20)),  # 150 kept
        (fb1, "reach", 999, True, t0),  # a later preference: not counted while the first exists
        (web1, "views", 40, True, t0 + timedelta(minutes=10)),
        (web1, "views", 30, True, t0),  # older: ignored
        (web2, "views", None, False, t0),
        (web2, "views", 5, True, t0 - timedelta(minutes=1)),  # older, but the only available one
    ]
    with store.engine.begin() as conn:
        for did, metric, value, available, at in rows:
            conn.execute(
                reach_samples.insert().values(
                    delivery_id=did,
                    metric=metric,
                    value=value,
                    available=available,
                    collected_at=at,
                )
            )
    with store.engine.connect() as conn:
        chosen = {
            r.delivery_id: (r.metric, r.value) for r in conn.execute(sa.select(delivery_reach))
        }
    assert chosen[fb1] == ("post_total_media_view_unique", 150)
    assert chosen[web1] == ("views", 40) and chosen[web2] == ("views", 5)
    kpis = _year(store, now)
    mk = f"{now.year}-{now.month:02d}"
    assert {m.month: m.published for m in kpis.months if m.published} == {now.month: 3}
    assert {t.key: t.per_month for t in kpis.topics if t.articles} == {"a": {mk: 2}, "đ": {mk: 1}}
    assert {r.channel: r.reach_per_month for r in kpis.reach} == {
        "facebook": {mk: 150},
        "website": {mk: 45},
    }
    assert {c.channel: c.per_month for c in kpis.channels} == {
        "website": {mk: 3},
        "facebook": {mk: 3},
    }
    assert not kpis.failures.failed and not kpis.failures.fixed


def test_calendar_days_keep_the_first_posts_of_a_crowded_day_and_count_the_rest(
    store: Store,
) -> None:
    day0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=5)
    for i in range(4):  # four articles on day 0 (eight chips), one on day 1
        aid = store.articles.submit(parsed_article(f"Bài {i}"), ADMIN).article.id
        store.articles.approve(aid, ADMIN, day0 + timedelta(hours=1 + i), PLAN)
    late = store.articles.submit(parsed_article("Bài ngày sau"), ADMIN).article.id
    store.articles.approve(late, ADMIN, day0 + timedelta(days=1, hours=2), PLAN)
    bounds = [day0 + timedelta(days=k) for k in range(4)]
    days = store.reads.calendar_days(bounds, per_day=3)
    assert [n for _, n in days] == [8, 2, 0]
    assert [(e.title, e.channel) for e in days[0][0]] == [
        ("Bài 0", "facebook"),
        ("Bài 0", "website"),
        ("Bài 1", "facebook"),
    ]
    assert [e.title for e in days[1][0]] == ["Bài ngày sau", "Bài ngày sau"]
    only = store.reads.calendar_days(bounds, per_day=10, channels=["website"])
    assert [n for _, n in only] == [4, 1, 0]


def test_the_reach_trigger_agrees_with_the_report() -> None:
    """The migration's copy of the reach metrics is the order ``bot.reports.kpis`` ranks them in."""
    import importlib.util
    from pathlib import Path

    from bot.reports.kpis import REACH_METRICS

    path = (
        Path(__file__).parents[2]
        / "content_queue"
        / "migrations"
        / "versions"
        / "0005_web_users.py"
    )
    spec = importlib.util.spec_from_file_location("m0005", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert module.REACH_METRICS == REACH_METRICS


def test_year_figures_count_failures_and_time_to_fix(store: Store) -> None:
    now = datetime.now(UTC)
    for title in ("Hỏng hẳn", "Lỗi rồi được"):
        aid = store.articles.submit(parsed_article(title), ADMIN).article.id
        store.articles.approve(aid, ADMIN, now - timedelta(minutes=5), [ChannelPlan("website")])
    first, second = store.deliveries.claim_due("w", now, limit=5, lease_seconds=60)
    store.deliveries.record_failure(
        first.id, "w", state="failed", error="HTTP 400", kind="rejected"
    )
    store.deliveries.record_failure(
        second.id,
        "w",
        state="retry",
        error="HTTP 500",
        kind="transient",
        next_attempt_at=now - timedelta(seconds=1),
    )
    f = _year(store, now).failures
    assert (len(f.failed), len(f.fixed)) == (1, 0)
    (again,) = store.deliveries.claim_due(
        "w", now + timedelta(seconds=1), limit=5, lease_seconds=60
    )
    store.deliveries.record_sent(again.id, "w", remote_id="9", url="https://x.gov.vn/9")
    f = _year(store, now + timedelta(seconds=2)).failures
    assert (len(f.failed), len(f.fixed)) == (1, 1)
    assert f.failed[0].failed_at is not None and 0 <= f.fixed[0].hours_to_fix < 1


def test_simultaneous_reservations_grant_no_more_than_the_rules(store: Store) -> None:
    rules = LoginRules(address_limit=7, free_failures=3)
    now = datetime.now(UTC)

    def at_once(tries: list[tuple[str, str]]) -> list[bool]:
        gate = threading.Barrier(len(tries))

        def one(item: tuple[str, str]) -> bool:
            gate.wait()
            return store.login_attempts.reserve(item[0], item[1], rules, now).granted

        with ThreadPoolExecutor(len(tries)) as pool:
            return list(pool.map(one, tries))

    assert sum(at_once([("10.9.9.9", "an")] * 20)) <= 3  # the account's free tries
    granted = sum(at_once([("10.8.8.8", f"ten-{n}") for n in range(20)]))
    assert 1 <= granted <= 7  # the address's limit


def test_a_right_password_amid_a_burst_gives_no_fresh_guesses(store: Store) -> None:
    rules = LoginRules(free_failures=3)
    now = datetime.now(UTC)
    tries = store.login_attempts
    mine = tries.reserve("10.0.0.5", "an", rules, now)
    tries.reserve("10.0.0.5", "an", rules, now)  # another try of the burst, reserved meanwhile
    tries.succeeded(mine)
    assert tries.reserve("10.0.0.5", "an", rules, now).granted  # the third and last free try
    assert tries.reserve("10.0.0.5", "an", rules, now).refused == "account"
    alone = tries.reserve("10.0.0.6", "an", rules, now)
    tries.succeeded(alone)  # nothing else reserved: the slate is clean
    assert all(tries.reserve("10.0.0.6", "an", rules, now).granted for _ in range(3))
