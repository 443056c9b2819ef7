"""The store on SQLite and PostgreSQL: submission, decisions, audit, leases, settling."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from conftest import parsed_article

from content_queue.models import Actor
from content_queue.store import ChannelPlan, Store
from content_queue.workflow import (
    DELIVERY_TRANSITIONS,
    DeliveryState,
    IllegalTransition,
    sources_of,
)

EDITOR = Actor("bien-tap", "cli")
ADMIN = Actor("quan-tri", "telegram")
PLAN = [ChannelPlan("website"), ChannelPlan("facebook", "website")]


def _now() -> datetime:
    return datetime.now(UTC)


def _approved(store: Store, title: str = "Bài đã duyệt", plan: list[ChannelPlan] = PLAN) -> int:
    art = store.articles.submit(parsed_article(title), EDITOR).article
    store.articles.approve(art.id, ADMIN, _now() - timedelta(seconds=1), plan)
    return art.id


def _one_line_vi(exc: pytest.ExceptionInfo[IllegalTransition]) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.startswith("Không thể")
    return text


def test_submit_duplicate_and_revision(store: Store) -> None:
    first = store.articles.submit(
        parsed_article("Tin CCHC", external_id="doc-1", body="Bản đầu."), EDITOR
    )
    assert first.outcome == "created" and first.article.revision == 1
    assert first.article.state == "pending"

    again = store.articles.submit(
        parsed_article("Tin CCHC", external_id="doc-1", body="Bản đầu."), EDITOR
    )
    assert again.outcome == "duplicate" and again.article.id == first.article.id

    revised = store.articles.submit(
        parsed_article("Tin CCHC (sửa)", external_id="doc-1", body="Bản sửa."), EDITOR
    )
    assert revised.outcome == "revised"
    assert revised.article.id == first.article.id and revised.article.revision == 2
    assert revised.article.title == "Tin CCHC (sửa)"
    assert len(store.articles.list()) == 1


def test_revision_after_approval_is_refused(store: Store) -> None:
    art = store.articles.submit(
        parsed_article("Tin A", external_id="doc-2", body="Một."), EDITOR
    ).article
    store.articles.approve(art.id, ADMIN, _now(), PLAN)
    with pytest.raises(IllegalTransition, match="đã được duyệt hoặc đã đăng"):
        store.articles.submit(parsed_article("Tin A", external_id="doc-2", body="Hai."), EDITOR)
    assert store.articles.get(art.id).revision == 1


def test_approve_creates_one_waiting_delivery_per_plan_with_dependency(store: Store) -> None:
    art = store.articles.submit(parsed_article(), EDITOR).article
    due = _now() + timedelta(hours=1)
    approved = store.articles.approve(art.id, ADMIN, due, PLAN + [ChannelPlan("zalo", "website")])
    assert approved.state == "approved" and approved.approved_by == "quan-tri"
    by = {d.channel: d for d in approved.deliveries}
    assert sorted(by) == ["facebook", "website", "zalo"]
    assert all(d.state == "waiting" for d in by.values())
    assert by["website"].next_attempt_at == due and by["website"].after_channel is None
    for name in ("facebook", "zalo"):
        assert by[name].after_channel == "website" and by[name].next_attempt_at is None
    assert len({d.idempotency_key for d in by.values()}) == 3


def test_a_dependency_on_an_unplanned_channel_does_not_block(store: Store) -> None:
    art = store.articles.submit(parsed_article(), EDITOR).article
    approved = store.articles.approve(art.id, ADMIN, _now(), [ChannelPlan("facebook", "website")])
    (d,) = approved.deliveries
    assert d.after_channel is None and d.next_attempt_at is not None


def test_illegal_transitions_are_one_vietnamese_line(store: Store) -> None:
    rejected = store.articles.submit(parsed_article("Bài bị từ chối"), EDITOR).article
    store.articles.reject(rejected.id, ADMIN, "Sai số liệu")
    with pytest.raises(IllegalTransition) as exc:
        store.articles.approve(rejected.id, ADMIN, _now(), PLAN)
    assert "đã bị từ chối" in _one_line_vi(exc)

    pending = store.articles.submit(parsed_article("Bài chưa đăng"), EDITOR).article
    with pytest.raises(IllegalTransition) as exc:
        store.articles.begin_retract(pending.id)
    assert "gỡ bài" in _one_line_vi(exc)

    published = _approved(store, "Bài đã đăng", [ChannelPlan("website")])
    (d,) = store.deliveries.claim_due("w1", _now(), limit=10, lease_seconds=60)
    assert store.deliveries.record_sent(d.id, "w1", remote_id="1", url="https://x/1") == 0
    assert store.articles.get(published).state == "published"
    with pytest.raises(IllegalTransition) as exc:
        store.articles.withdraw(published, ADMIN)
    assert "rút lại" in _one_line_vi(exc)

    with pytest.raises(IllegalTransition, match="lý do"):
        store.articles.reject(pending.id, ADMIN, "   ")


def test_every_state_change_writes_an_audit_row(store: Store) -> None:
    art = store.articles.submit(
        parsed_article("Bài có nhật ký", external_id="x-1", body="A"), EDITOR
    ).article
    store.articles.submit(parsed_article("Bài có nhật ký", external_id="x-1", body="B"), EDITOR)
    store.articles.change_topic(art.id, "b", ADMIN)
    store.articles.approve(art.id, ADMIN, _now() - timedelta(seconds=1), PLAN)
    store.articles.withdraw(art.id, ADMIN)
    entries = store.audit.audit_entries(art.id)
    assert [e["action"] for e in entries] == [
        "submitted",
        "revised",
        "topic_changed",
        "approved",
        "withdrawn",
    ]
    assert [e["actor"] for e in entries] == [
        "bien-tap",
        "bien-tap",
        "quan-tri",
        "quan-tri",
        "quan-tri",
    ]
    assert entries[3]["detail"]["channels"] == ["facebook", "website"]
    assert all(d.state == "cancelled" for d in store.articles.get(art.id).deliveries)
    assert store.articles.get(art.id).state == "withdrawn"


def test_claim_leases_once_and_sent_releases_dependents(store: Store) -> None:
    art_id = _approved(store)
    claimed = store.deliveries.claim_due("w1", _now(), limit=10, lease_seconds=60)
    assert [d.channel for d in claimed] == ["website"]  # facebook waits for the website
    (site,) = claimed
    assert site.state == "in_flight" and site.lease_owner == "w1" and site.attempts == 1
    assert store.deliveries.claim_due("w2", _now(), limit=10, lease_seconds=60) == []

    assert (
        store.deliveries.record_sent(site.id, "w2", remote_id="9", url="https://x/9") is None
    )  # not its lease
    assert (
        store.deliveries.record_sent(
            site.id,
            "w1",
            remote_id="7",
            url="https://site/bai-7",
            receipt={"media": {"a.jpg": "https://site/a.jpg"}},
        )
        == 1
    )  # facebook
    art, receipts, links = store.articles.draft_inputs(art_id)
    assert links == {"website": "https://site/bai-7"}
    assert receipts["website"]["media"] == {"a.jpg": "https://site/a.jpg"}
    assert art.state == "approved"  # facebook still to go

    (fb,) = store.deliveries.claim_due("w2", _now(), limit=10, lease_seconds=60)
    assert fb.channel == "facebook"
    assert store.deliveries.record_sent(fb.id, "w2", remote_id="p_1", url="https://fb/p_1") == 0
    art = store.articles.get(art_id)
    assert art.state == "published" and all(d.state == "sent" for d in art.deliveries)
    actions = [e["action"] for e in store.audit.audit_entries(art_id)]
    assert actions.count("sent") == 2


def test_failure_settles_partial_and_retry_reopens(store: Store) -> None:
    art_id = _approved(store)
    (site,) = store.deliveries.claim_due("w", _now(), limit=10, lease_seconds=60)
    store.deliveries.record_sent(site.id, "w", remote_id="1", url="https://site/1")
    (fb,) = store.deliveries.claim_due("w", _now(), limit=10, lease_seconds=60)
    assert store.deliveries.record_failure(
        fb.id, "w", state="failed", error="Facebook từ chối bài.", kind="rejected"
    )
    art = store.articles.get(art_id)
    assert art.state == "partial"
    assert store.deliveries.delivery(fb.id).last_error == "Facebook từ chối bài."

    again = store.deliveries.retry_delivery(fb.id, ADMIN)
    assert again.state == "retry" and again.attempts == 0
    assert store.articles.get(art_id).state == "approved"
    with pytest.raises(IllegalTransition):
        store.deliveries.retry_delivery(site.id, ADMIN)
    actions = [e["action"] for e in store.audit.audit_entries(art_id)]
    assert "delivery_failed" in actions and "retry_requested" in actions


def test_expired_leases_become_in_doubt_and_are_reconciled(store: Store) -> None:
    art_id = _approved(store, plan=[ChannelPlan("website")])
    (d,) = store.deliveries.claim_due("dead-worker", _now(), limit=10, lease_seconds=30)
    assert store.deliveries.expire_leases(_now(), reconcile_after=0) == []  # lease still valid
    later = _now() + timedelta(seconds=31)
    expired = store.deliveries.expire_leases(later, reconcile_after=20)
    assert [x.id for x in expired] == [d.id]
    doubt = store.deliveries.delivery(d.id)
    assert doubt.state == "in_doubt" and doubt.lease_owner is None
    assert doubt.last_error_kind == "lease_expired"
    # the dead worker's late answer is not recorded
    assert store.deliveries.record_sent(d.id, "dead-worker", remote_id="1", url="https://x") is None

    # looked for on the platform only once it has had time to finish the dead worker's request
    assert (
        store.deliveries.claim_in_doubt("w2", later + timedelta(seconds=19), lease_seconds=30) == []
    )
    later += timedelta(seconds=20)
    (again,) = store.deliveries.claim_in_doubt("w2", later, lease_seconds=30)
    assert again.id == d.id and again.attempts == 2  # a look counts, so endless failed looks stop
    store.deliveries.record_failure(
        d.id,
        "w2",
        state="in_doubt",
        error="?",
        kind="cannot_tell",
        keep_attempts=True,
        may_have_posted=True,
    )
    assert (
        store.deliveries.delivery(d.id).attempts == 1
        and store.deliveries.delivery(d.id).may_have_posted
    )
    store.deliveries.resolve_in_doubt(d.id, ADMIN, posted=True, url="https://site/da-dang")
    assert store.articles.get(art_id).state == "published"
    assert "lease_expired" in [e["action"] for e in store.audit.audit_entries(art_id)]


def test_a_living_worker_renews_its_leases_and_only_its_own(store: Store) -> None:
    _approved(store, plan=[ChannelPlan("website")])
    (d,) = store.deliveries.claim_due("w1", _now(), limit=10, lease_seconds=30)
    assert store.deliveries.renew_leases("w2", [d.id], _now() + timedelta(seconds=90)) == 0
    assert store.deliveries.renew_leases("w1", [d.id], _now() + timedelta(seconds=90)) == 1
    assert store.deliveries.expire_leases(_now() + timedelta(seconds=31), reconcile_after=0) == []
    assert store.deliveries.delivery(d.id).state == "in_flight"
    (gone,) = store.deliveries.expire_leases(_now() + timedelta(seconds=91), reconcile_after=0)
    assert gone.id == d.id
    assert store.deliveries.renew_leases("w1", [d.id], _now() + timedelta(seconds=90)) == 0  # lost


def test_pause_holds_and_resume_requeues(store: Store) -> None:
    art_id = _approved(store, plan=[ChannelPlan("facebook")])
    (d,) = store.deliveries.claim_due("w", _now(), limit=10, lease_seconds=60)
    store.channels.set_paused("facebook", True, Actor.service(), "Token hết hạn", needs_reauth=True)
    store.deliveries.record_failure(
        d.id,
        "w",
        state="retry",
        next_attempt_at=None,
        error="Token hết hạn",
        kind="auth",
        keep_attempts=True,
    )
    st = store.channels.channel_status("facebook")
    assert st.paused and st.needs_reauth and st.paused_reason == "Token hết hạn"
    assert store.deliveries.claim_due("w", _now(), limit=10, lease_seconds=60) == []
    store.channels.set_paused("facebook", False, ADMIN)
    assert not store.channels.channel_status("facebook").paused
    (again,) = store.deliveries.claim_due(
        "w", _now() + timedelta(seconds=1), limit=10, lease_seconds=60
    )
    assert again.id == d.id and again.attempts == 1
    actions = [e["action"] for e in store.audit.audit_entries()]
    assert "channel_paused" in actions and "channel_resumed" in actions
    assert store.articles.get(art_id).state == "approved"


def test_concurrent_claims_never_share_a_delivery(pg_url: str) -> None:
    stores = [Store.open(pg_url), Store.open(pg_url)]
    try:
        for i in range(200):
            _approved(stores[0], f"Bài số {i}", [ChannelPlan("website")])
        got: list[list[int]] = [[], []]
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                while True:
                    batch = stores[n].deliveries.claim_due(
                        f"w{n}", _now(), limit=7, lease_seconds=60
                    )
                    if not batch:
                        return
                    got[n].extend(d.id for d in batch)
            except BaseException as exc:  # surfaced in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert not set(got[0]) & set(got[1])
        assert len(got[0]) + len(got[1]) == 200
        assert {d.id for a in stores[0].articles.list() for d in a.deliveries} == set(got[0]) | set(
            got[1]
        )
    finally:
        for s in stores:
            s.engine.dispose()


def test_the_store_refuses_illegal_delivery_transitions(store: Store) -> None:
    art_id = _approved(store, plan=[ChannelPlan("website")])
    (d,) = store.deliveries.claim_due("w1", _now(), limit=10, lease_seconds=30)
    with pytest.raises(IllegalTransition):
        store.deliveries.record_failure(d.id, "w1", state="sent", error="?", kind="transient")
    with pytest.raises(ValueError):
        store.deliveries.record_failure(d.id, "w1", state="retry", error="?", kind="no_such_kind")
    with pytest.raises(IllegalTransition):  # not posted: nothing to take down
        store.deliveries.record_retracted(d.id, ADMIN)
    assert store.deliveries.record_failure(
        d.id,
        "w1",
        state="retry",
        error="5xx",
        kind="transient",
        next_attempt_at=_now(),
        may_have_posted=True,
    )
    doubt = store.deliveries.delivery(d.id)
    assert doubt.state == "retry" and doubt.may_have_posted and doubt.last_error_kind == "transient"
    with pytest.raises(IllegalTransition):  # only a failed or retrying delivery is retried
        store.deliveries.resolve_in_doubt(d.id, ADMIN, posted=False)
    (again,) = store.deliveries.claim_due("w1", _now(), limit=10, lease_seconds=30)
    assert again.may_have_posted  # the next attempt looks first
    assert store.deliveries.record_sent(again.id, "w1", remote_id="9", url="https://site/9") == 0
    sent = store.deliveries.delivery(d.id)
    assert sent.state == "sent" and not sent.may_have_posted
    assert store.articles.get(art_id).state == "published"


def test_every_delivery_state_has_its_transitions_declared() -> None:
    assert set(DELIVERY_TRANSITIONS) == set(DeliveryState)
    assert sources_of(DeliveryState.RETRACTED) == {DeliveryState.SENT}
    for terminal in (DeliveryState.CANCELLED, DeliveryState.RETRACTED):
        assert not DELIVERY_TRANSITIONS[terminal]


def test_a_post_is_recorded_with_its_calls_and_the_next_claim_in_one_transaction(
    store: Store,
) -> None:
    """The website's post releases the Facebook delivery that waited for its URL; recording it
    claims that one for the same worker, and the calls are stored with the post."""
    art_id = _approved(store, "Bài đăng rồi nhận tiếp")
    (site,) = store.deliveries.claim_due("w1", _now(), limit=10, lease_seconds=60)
    released, claimed = store.deliveries.record_sent_and_claim(
        site.id,
        "w1",
        remote_id="1",
        url="https://x/1",
        calls={"POST /wp-json/wp/v2/posts": 1},
        lease_seconds=60,
    )
    assert released == 1
    assert claimed is not None and claimed.channel == "facebook"
    assert (claimed.state, claimed.lease_owner, claimed.attempts) == ("in_flight", "w1", 1)
    assert store.preparations.calls_of_article(art_id) == {
        site.id: {"POST /wp-json/wp/v2/posts": 1}
    }
    # The last delivery settles the article; nothing is left to claim.
    released, claimed = store.deliveries.record_sent_and_claim(
        claimed.id, "w1", remote_id="p_1", url="https://fb/p_1", lease_seconds=60
    )
    assert (released, claimed) == (0, None)
    assert store.articles.get(art_id).state == "published"
    # A lost lease records nothing (but the calls) and still claims nothing twice.
    assert store.deliveries.record_sent_and_claim(
        site.id, "w1", remote_id="1", url="https://x/1", lease_seconds=60
    ) == (None, None)
