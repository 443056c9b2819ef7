"""The dispatcher against the WordPress, Facebook and Zalo sandboxes over real HTTP."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import Workspace, parsed_article, wait_for

from bot.approval import approve_article
from bot.context import Loa
from bot.notifier import Notifier
from bot.run import build_dispatcher
from bot.service.dispatcher import Dispatcher
from content_queue.models import Actor, Article
from content_queue.store import ChannelPlan
from content_queue.tables import deliveries

EDITOR = Actor("bien-tap", "cli")
ADMIN = Actor("quan-tri", "cli")


def _submit_and_approve(loa: Loa, ws: Workspace, title: str, *, cover: bool = True) -> Article:
    art = loa.store.articles.submit(
        parsed_article(title, cover=ws.cover() if cover else None), EDITOR
    )
    approved, skipped = approve_article(loa, art.article.id, ADMIN, now=True)
    assert skipped == ({} if cover else {"zalo": skipped.get("zalo")})
    return approved


def _tick(loa: Loa) -> int:
    d = build_dispatcher(loa)
    try:
        return d.tick()
    finally:
        d.close()


def _by_channel(loa: Loa, article_id: int) -> dict[str, object]:
    return {d.channel: d for d in loa.store.articles.get(article_id).deliveries}


def _due_now(loa: Loa, delivery_id: int) -> None:
    """Bring a delivery's next attempt forward, as the passing of time would."""
    with loa.store.engine.begin() as conn:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.id == delivery_id)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_publishes_through_the_three_sandboxes(workspace: Workspace) -> None:
    loa = workspace.loa()
    art = _submit_and_approve(loa, workspace, "Sở Ngoại vụ đẩy mạnh dịch vụ công trực tuyến")
    assert _tick(loa) == 3
    done = loa.store.articles.get(art.id)
    assert done.state == "published"
    by = {d.channel: d for d in done.deliveries}
    assert {d.state for d in by.values()} == {"sent"}

    (post,) = workspace.wp.posts.values()
    assert post["status"] == "publish" and f"/{post['slug']}/" in (by["website"].url or "")
    assert len(workspace.wp.media) == 1
    cover_url = loa.store.articles.draft_inputs(art.id)[1]["website"]["cover_url"]
    assert cover_url and cover_url.startswith(workspace.wp.url)

    (fb_post,) = workspace.fb.posts.values()
    assert by["website"].url in (fb_post.get("link") or "") + (fb_post.get("message") or "")
    (zalo_article,) = workspace.zalo.media.values()
    assert zalo_article["cover"]["photo_url"] == cover_url
    texts = " ".join(b.get("content", "") for b in zalo_article["body"])
    assert by["website"].url in texts
    assert _tick(loa) == 0  # nothing left: no second post anywhere
    assert len(workspace.wp.posts) == len(workspace.fb.posts) == len(workspace.zalo.media) == 1


def test_http_500_once_is_retried_and_posted_once(workspace: Workspace) -> None:
    loa = workspace.loa()
    workspace.fb.inject("http_500", path=r"/feed$", method="POST")
    art = _submit_and_approve(loa, workspace, "Tin thử lỗi 500", cover=False)
    wait_for(lambda: loa.store.articles.get(art.id).state == "published", lambda: _tick(loa))
    assert len(workspace.fb.posts) == 1 and len(workspace.wp.posts) == 1


def test_throttling_backs_off_the_channel_with_one_alert(workspace: Workspace) -> None:
    loa = workspace.loa()
    workspace.fb.inject("throttle", count=-1, path=r"/feed$")
    art = _submit_and_approve(loa, workspace, "Tin thử giới hạn tần suất")
    _tick(loa)
    by = _by_channel(loa, art.id)
    assert by["website"].state == "sent" and by["zalo"].state == "sent"  # others unaffected
    fb = by["facebook"]
    assert fb.state == "retry" and fb.last_error_kind == "rate_limited"
    backoff = loa.store.channels.channel_status("facebook").backoff_until
    assert backoff is not None and backoff > datetime.now(UTC) + timedelta(minutes=5)
    assert fb.next_attempt_at == backoff

    _due_now(loa, fb.id)
    _tick(loa)  # the channel is held: the due delivery is not even tried
    assert _by_channel(loa, art.id)["facebook"].attempts == fb.attempts

    loa.store.channels.set_backoff("facebook", None)
    _tick(loa)  # throttled again
    alerts = [a for a in loa.notifier.open_alerts() if a["key"] == "throttled:facebook"]
    assert len(alerts) == 1 and alerts[0]["count"] == 2
    assert len(workspace.fb.posts) == 0


def test_expired_token_pauses_the_channel_until_resumed(workspace: Workspace) -> None:
    loa = workspace.loa()
    workspace.fb.expire_token()
    art = _submit_and_approve(loa, workspace, "Tin thử token hết hạn")
    _tick(loa)
    st = loa.store.channels.channel_status("facebook")
    assert st.paused and st.needs_reauth
    (alert,) = [a for a in loa.notifier.open_alerts() if a["key"] == "auth:facebook"]
    assert "loa channels connect facebook" in alert["message"]
    assert _by_channel(loa, art.id)["facebook"].state == "retry"
    assert len(workspace.fb.posts) == 0

    _tick(loa)  # paused: nothing is tried
    assert len(workspace.fb.posts) == 0

    workspace.fb.token_expired = False  # the admin reconnected the page
    loa.store.channels.set_paused("facebook", False, ADMIN)
    _tick(loa)
    assert loa.store.articles.get(art.id).state == "published"
    assert len(workspace.fb.posts) == 1


def test_rejected_post_fails_and_the_article_is_partial(workspace: Workspace) -> None:
    loa = workspace.loa()
    workspace.fb.inject("spam", path=r"/feed$")
    art = _submit_and_approve(loa, workspace, "Tin thử bị coi là spam")
    _tick(loa)
    done = loa.store.articles.get(art.id)
    assert done.state == "partial"
    by = {d.channel: d for d in done.deliveries}
    assert by["facebook"].state == "failed" and "1346003" in (by["facebook"].last_error or "")
    assert by["website"].state == by["zalo"].state == "sent"
    (alert,) = [a for a in loa.notifier.open_alerts() if a["key"] == f"failed:{by['facebook'].id}"]
    assert f"loa retry {art.id} facebook" in alert["message"]
    assert len(workspace.fb.posts) == 0


def test_notifier_merges_repeats_and_sends_once(workspace: Workspace) -> None:
    loa = workspace.loa()
    sent: list[str] = []
    notifier = Notifier(loa.store, [sent.append])
    assert notifier.alert("auth:zalo", "Kênh zalo đã tạm dừng.")
    assert not notifier.alert("auth:zalo", "Kênh zalo đã tạm dừng.")
    assert not notifier.alert("auth:zalo", "Kênh zalo đã tạm dừng.")
    (open_alert,) = notifier.open_alerts()
    assert open_alert["count"] == 3 and len(sent) == 1
    notifier.resolve("auth:zalo")
    assert notifier.open_alerts() == []
    assert notifier.alert("auth:zalo", "Kênh zalo lại tạm dừng.")
    assert len(sent) == 2


def test_two_dispatchers_post_each_delivery_exactly_once(
    workspace: Workspace, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOA_DATABASE__URL", pg_url)
    loas = [workspace.loa(), workspace.loa()]
    plan = [ChannelPlan("website"), ChannelPlan("facebook", "website")]
    due = datetime.now(UTC) - timedelta(seconds=1)
    for i in range(50):
        art = loas[0].store.articles.submit(parsed_article(f"Tin song song số {i}"), EDITOR).article
        loas[0].store.articles.approve(art.id, ADMIN, due, plan)
    dispatchers = [build_dispatcher(loa, owner=f"worker-{n}") for n, loa in enumerate(loas)]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(5):
                dispatchers[n].tick()
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for d in dispatchers:
            d.close()
    assert not errors
    with loas[0].store.engine.connect() as conn:
        states = conn.execute(
            sa.select(deliveries.c.state, sa.func.count()).group_by(deliveries.c.state)
        ).all()
    assert dict(states) == {"sent": 100}
    assert len(workspace.wp.posts) == 50 and len(workspace.fb.posts) == 50
    titles = sorted(p["title"] for p in workspace.wp.posts.values())
    assert titles == sorted(f"Tin song song số {i}" for i in range(50))
    for loa in loas:
        loa.store.engine.dispose()


def _attempt_window(loa: Loa, delivery_id: int) -> tuple[datetime, datetime]:
    with loa.store.engine.connect() as conn:
        row = conn.execute(
            sa.select(deliveries.c.first_attempt_at, deliveries.c.sent_at).where(
                deliveries.c.id == delivery_id
            )
        ).one()
    return row.first_attempt_at, row.sent_at


def test_dependents_of_one_article_are_posted_side_by_side(workspace: Workspace) -> None:
    loa = workspace.loa()
    for sb in (workspace.wp, workspace.fb, workspace.zalo):
        sb.latency = 0.3  # a real platform's answer time: long enough to see calls overlap
    art = _submit_and_approve(loa, workspace, "Tin đăng song song lên Facebook và Zalo")
    assert _tick(loa) == 3
    by = _by_channel(loa, art.id)
    site, fb, zalo = (_attempt_window(loa, by[c].id) for c in ("website", "facebook", "zalo"))
    assert fb[0] >= site[1] and zalo[0] >= site[1]  # both waited for the website's URL
    assert fb[0] < zalo[1] and zalo[0] < fb[1]  # and then ran at the same time, not one by one


def test_stop_during_a_tick_finishes_calls_in_flight_and_claims_nothing_more(
    workspace: Workspace,
) -> None:
    loa = workspace.loa()
    workspace.wp.latency = 0.3
    plan = [ChannelPlan("website")]
    ids = []
    for i in range(6):
        art = loa.store.articles.submit(parsed_article(f"Tin dừng dịch vụ số {i}"), EDITOR).article
        loa.store.articles.approve(art.id, ADMIN, datetime.now(UTC), plan)
        ids.append(art.id)
    d = Dispatcher(loa.store, loa.channels(), loa.settings.schedule, loa.notifier, max_workers=2)
    ticking = threading.Thread(target=d.tick)
    ticking.start()
    wait_for(lambda: len(workspace.wp.posts) >= 1, lambda: None)
    d.stop()
    ticking.join(timeout=30)
    d.close()
    states = [dl.state for i in ids for dl in loa.store.articles.get(i).deliveries]
    assert "in_flight" not in states  # every call that started was recorded
    assert states.count("sent") == len(workspace.wp.posts) < 6  # the rest was left for later
    assert set(states) == {"sent", "waiting"}
    assert _tick(loa) == 6 - states.count("sent")  # and goes out at the next start
    assert len(workspace.wp.posts) == 6


def test_due_posts_do_not_wait_behind_a_platform_that_hangs(workspace: Workspace) -> None:
    loa = workspace.loa()
    workspace.wp.latency = (
        0.8  # the website hangs (under its 1 s timeout); Facebook answers at once
    )
    slow = loa.store.articles.submit(parsed_article("Tin chờ trang web trả lời"), EDITOR).article
    loa.store.articles.approve(
        slow.id, ADMIN, datetime.now(UTC) - timedelta(seconds=5), [ChannelPlan("website")]
    )
    quick = []
    for i in range(5):
        art = loa.store.articles.submit(parsed_article(f"Tin Facebook số {i}"), EDITOR).article
        loa.store.articles.approve(art.id, ADMIN, datetime.now(UTC), [ChannelPlan("facebook")])
        quick.append(art.id)
    d = Dispatcher(loa.store, loa.channels(), loa.settings.schedule, loa.notifier, max_workers=2)
    try:
        assert d.tick() == 6
    finally:
        d.close()
    site_sent = _attempt_window(loa, loa.store.articles.get(slow.id).deliveries[0].id)[1]
    fb_sent = [_attempt_window(loa, loa.store.articles.get(i).deliveries[0].id)[1] for i in quick]
    assert max(fb_sent) < site_sent  # the free lane kept posting while the website hung


@pytest.mark.parametrize("fault", ["timeout_after", "slow"])
def test_a_post_whose_answer_never_came_is_found_not_sent_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """``timeout_after``: the post is created, the answer lost. ``slow``: the website creates the
    post 1.6 s after the request, when Loa has stopped waiting (1 s): a look at 0.1 s (the retry
    delay) would find nothing, so Loa looks only ``reconcile_after_seconds`` later."""
    monkeypatch.setenv("LOA_SCHEDULE__RETRY_BASE_SECONDS", "0.1")
    monkeypatch.setenv("LOA_SCHEDULE__RECONCILE_AFTER_SECONDS", "2")
    loa = workspace.loa()
    workspace.wp.inject(fault, path=r"/wp/v2/posts$", method="POST", seconds=1.6)
    art = _submit_and_approve(loa, workspace, "Tin thử mất câu trả lời", cover=False)
    _tick(loa)
    site = _by_channel(loa, art.id)["website"]
    assert site.state == "retry" and site.last_error_kind == "transient" and site.may_have_posted
    assert site.next_attempt_at is not None
    assert site.next_attempt_at - datetime.now(UTC) > timedelta(seconds=1.5)

    wait_for(lambda: loa.store.articles.get(art.id).state == "published", lambda: _tick(loa))
    assert len(workspace.wp.posts) == 1
    creates = [r for r in workspace.wp.request_log if r[1] == "POST" and r[2].endswith("/posts")]
    assert len(creates) == 1
    sent = [e for e in loa.store.audit.audit_entries(art.id) if e["action"] == "sent"]
    assert sent[0]["detail"]["channel"] == "website" and sent[0]["detail"]["reconciled"]


def test_a_call_that_outlasts_the_lease_keeps_it_while_the_worker_lives(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOA_SCHEDULE__LEASE_SECONDS", "1")  # renewed every third of it
    monkeypatch.setenv("LOA_SCHEDULE__RECONCILE_AFTER_SECONDS", "0")
    monkeypatch.setenv("LOA_CHANNELS__WEBSITE__TIMEOUT_SECONDS", "5")
    loa = workspace.loa()
    workspace.wp.inject("slow", path=r"/wp/v2/posts$", method="POST", seconds=2)
    art = loa.store.articles.submit(parsed_article("Tin đăng lâu hơn thời hạn giữ"), EDITOR).article
    loa.store.articles.approve(art.id, ADMIN, datetime.now(UTC), [ChannelPlan("website")])
    busy, other = (
        Dispatcher(loa.store, loa.channels(), loa.settings.schedule, loa.notifier, owner=name)
        for name in ("worker-busy", "worker-other")
    )
    ticking = threading.Thread(target=busy.tick)
    try:
        ticking.start()
        wait_for(
            lambda: loa.store.articles.get(art.id).deliveries[0].lease_owner == "worker-busy",
            lambda: None,
        )
        while ticking.is_alive():  # another worker looks for abandoned leases all along
            other.tick()
            time.sleep(0.05)
    finally:
        ticking.join()
        busy.close()
        other.close()
    assert len(workspace.wp.posts) == 1
    actions = [e["action"] for e in loa.store.audit.audit_entries(art.id)]
    assert "lease_expired" not in actions
    sent = [e for e in loa.store.audit.audit_entries(art.id) if e["action"] == "sent"]
    assert [e["detail"]["owner"] for e in sent] == ["worker-busy"]


def test_a_look_that_fails_keeps_the_doubt_so_the_next_attempt_looks_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOA_SCHEDULE__RETRY_BASE_SECONDS", "0.1")
    monkeypatch.setenv("LOA_SCHEDULE__RECONCILE_AFTER_SECONDS", "0.2")
    loa = workspace.loa()
    workspace.wp.inject("timeout_after", path=r"/wp/v2/posts$", method="POST", seconds=1.5)
    workspace.wp.inject("http_500", path=r"/wp/v2/posts$", method="GET")  # the first look
    art = _submit_and_approve(loa, workspace, "Tin thử tra cứu lỗi", cover=False)
    wait_for(lambda: loa.store.articles.get(art.id).state == "published", lambda: _tick(loa))
    assert len(workspace.wp.posts) == 1
    creates = [r for r in workspace.wp.request_log if r[1] == "POST" and r[2].endswith("/posts")]
    assert len(creates) == 1
    looks = [r for r in workspace.wp.request_log if r[1] == "GET" and r[2].endswith("/posts")]
    assert len(looks) == 2  # the failed look, then the one that found the post
    doubts = [
        (e["detail"]["kind"], e["detail"]["may_have_posted"])
        for e in loa.store.audit.audit_entries(art.id)
        if e["action"] == "delivery_retry"
    ]
    assert doubts == [("transient", True), ("transient", True)]
