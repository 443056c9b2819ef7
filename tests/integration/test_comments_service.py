"""Comments through the service on SQLite and PostgreSQL: webhook and catch-up meet without a
comment lost or carded twice, admins' actions are never done twice under every fault class,
one decision wins, and two services on one PostgreSQL handle each comment once."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Workspace

from bot.comments import (
    catch_up_comments,
    comment_action,
    handle_feed_change,
    reconcile_comment_actions,
)
from bot.context import Loa
from channels.sandbox.facebook import FacebookSandbox
from content_queue.models import Actor
from content_queue.tables import articles, deliveries

ADMIN = Actor("tg:Lan (111)", "telegram")
OTHER = Actor("web:Hùng (hung)", "web")
ACTED = ["after:http_500", "after:html_502", "after:truncated", "drop_after"]
NOT_ACTED = ["http_500", "html_502", "drop_before", "transient"]


def make_loa(ws: Workspace, db: str | None = None) -> Loa:
    text = ws.config.read_text("utf-8")
    if db is not None:
        text = text.replace('url = "sqlite:///loa.db"', f'url = "{db}"')
    if "[comments]" not in text:
        text += "\n[comments]\nreply_settle_seconds = 0\n"
    ws.config.write_text(text, "utf-8")
    return ws.loa()


def seed_post(loa: Loa, fb: FacebookSandbox, title: str) -> str:
    """A Facebook post Loa made (seeded: the dispatcher is tested elsewhere)."""
    remote = fb.add_post(title)
    now = datetime.now(UTC)
    with loa.store.engine.begin() as conn:
        aid = conn.execute(
            articles.insert().values(
                title=title,
                topic="a",
                state="published",
                submitted_at=now,
                content_hash=uuid.uuid4().hex,
                updated_at=now,
                images=[],
                channels=[],
            )
        ).inserted_primary_key[0]
        conn.execute(
            deliveries.insert().values(
                article_id=aid,
                channel="facebook",
                state="sent",
                idempotency_key=f"{aid}-facebook-{uuid.uuid4().hex[:6]}",
                remote_id=remote,
                url=f"https://www.facebook.com/{remote}",
                sent_at=now,
                updated_at=now,
            )
        )
    return remote


def change(fb: FacebookSandbox, cid: str, verb: str = "add") -> dict[str, Any]:
    c = fb.comments.items.get(cid) or {
        "id": cid,
        "post_id": "",
        "parent_id": None,
        "from": ("", ""),
        "message": "",
        "created": 0,
    }
    body = fb.comments.webhook_body([(c, verb)])
    import json

    return json.loads(body)["entry"][0]["changes"][0]["value"]


@pytest.fixture
def loa(workspace: Workspace) -> Loa:
    return make_loa(workspace)


def test_a_webhook_outage_is_caught_up_with_no_comment_lost_or_carded_twice(
    loa: Loa, workspace: Workspace
) -> None:
    fb = workspace.fb
    post = seed_post(loa, fb, "Hướng dẫn cấp hộ chiếu phổ thông")
    before = [fb.comments.add(post, f"Câu hỏi {i}") for i in range(3)]
    for cid in before:
        assert handle_feed_change(loa, "facebook", change(fb, cid)) is not None
    # the webhook is down: these arrive only on Facebook
    missed = [fb.comments.add(post, f"Trong lúc mất webhook {i}") for i in range(4)]
    assert catch_up_comments(loa) == {"facebook": 4}
    assert catch_up_comments(loa) == {"facebook": 0}
    # the webhook comes back and redelivers one it had queued
    handle_feed_change(loa, "facebook", change(fb, missed[0]))
    rows = loa.store.comments.listed()
    assert sorted(c.remote_id for c in rows) == sorted(before + missed)
    cards = loa.store.comments.without_card()
    assert len(cards) == 7
    assert all(loa.store.comments.claim_card(c.id, -100) for c in cards)
    assert not any(loa.store.comments.claim_card(c.id, -100) for c in cards)


def test_the_pages_own_replies_are_kept_but_never_carded(loa: Loa, workspace: Workspace) -> None:
    fb = workspace.fb
    post = seed_post(loa, fb, "Bài")
    cid = fb.comments.add(post, "Hỏi")
    handle_feed_change(loa, "facebook", change(fb, cid))
    c = loa.store.comments.by_remote("facebook", cid)
    assert c is not None
    assert comment_action(loa, c.id, "reply", ADMIN, text="Xin cảm ơn.").ok
    catch_up_comments(loa)  # finds our reply on Facebook
    assert [x.remote_id for x in loa.store.comments.without_card()] == [cid]


def test_edits_and_removals_update_the_stored_comment(loa: Loa, workspace: Workspace) -> None:
    fb = workspace.fb
    post = seed_post(loa, fb, "Bài")
    cid = fb.comments.add(post, "Chào")
    handle_feed_change(loa, "facebook", change(fb, cid))
    fb.comments.edit(cid, "Vay tiền nhanh, liên hệ 0912 345 678")
    c = handle_feed_change(loa, "facebook", change(fb, cid, "edited"))
    assert c is not None and c.edited and "scam" in c.flags
    fb.comments.remove(cid)
    gone = handle_feed_change(
        loa, "facebook", {"item": "comment", "verb": "remove", "comment_id": cid}
    )
    assert gone is not None and gone.state == "removed"
    assert not comment_action(loa, gone.id, "hide", ADMIN).ok


@pytest.mark.parametrize("fault", ACTED + NOT_ACTED)
def test_a_reply_from_an_admin_is_posted_once_under_every_fault(
    loa: Loa, workspace: Workspace, fault: str
) -> None:
    fb = workspace.fb
    cid = fb.comments.add(seed_post(loa, fb, "Bài"), "Cho hỏi lệ phí?")
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None
    fb.inject(fault, path=r"_7\d+/comments$", method="POST")
    out = comment_action(loa, c.id, "reply", ADMIN, text="Lệ phí 200.000 đồng.")
    assert not out.ok and out.action is not None and out.action.state == "in_doubt"
    reconcile_comment_actions(loa)  # looks first; sends again only when not found
    reconcile_comment_actions(loa)
    assert len(fb.records["comment_replies"]) == 1
    done = loa.store.comments.get(c.id)
    assert done is not None and done.state == "answered" and done.busy is None
    assert not comment_action(loa, c.id, "reply", OTHER, text="Lệ phí 200.000 đồng.").ok


@pytest.mark.parametrize("fault", ACTED + NOT_ACTED)
@pytest.mark.parametrize("kind", ["hide", "delete"])
def test_hide_and_delete_end_done_once_under_every_fault(
    loa: Loa, workspace: Workspace, fault: str, kind: str
) -> None:
    fb = workspace.fb
    cid = fb.comments.add(seed_post(loa, fb, "Bài"), "Đồ ngu")
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None and c.flags == ("insult",)
    fb.inject(fault, count=4, path=r"_7\d+$", method="DELETE" if kind == "delete" else "POST")
    comment_action(loa, c.id, kind, ADMIN, reason="Lời lẽ xúc phạm")
    for _ in range(3):
        reconcile_comment_actions(loa)
    after = loa.store.comments.get(c.id)
    assert after is not None and after.busy is None
    if kind == "delete":
        assert after.state == "deleted" and cid not in fb.comments.items
    else:
        assert after.state == "hidden" and fb.comments.items[cid]["is_hidden"]
    done = [a for a in loa.store.comments.actions_of(c.id) if a.state == "done"]
    assert len(done) == 1 and done[0].reason == "Lời lẽ xúc phạm"


def test_a_private_reply_in_doubt_waits_for_a_person(loa: Loa, workspace: Workspace) -> None:
    fb = workspace.fb
    cid = fb.comments.add(seed_post(loa, fb, "Bài"), "Phản ánh chậm trả kết quả")
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None
    fb.inject("after:http_500", path=r"/messages$", method="POST")
    out = comment_action(loa, c.id, "private_reply", ADMIN, text="Đã nhận.")
    assert out.action is not None and out.action.state == "ask"
    reconcile_comment_actions(loa)
    assert len(fb.records["private_replies"]) == 1  # never sent again by Loa
    assert loa.store.comments.resolve_in_doubt(
        out.action.id, OTHER, sent=True, now=datetime.now(UTC)
    )
    assert not loa.store.comments.resolve_in_doubt(
        out.action.id, ADMIN, sent=False, now=datetime.now(UTC)
    )


def test_one_decision_wins_when_two_admins_delete_at_once(loa: Loa, workspace: Workspace) -> None:
    fb = workspace.fb
    cid = fb.comments.add(seed_post(loa, fb, "Bài"), "Spam bit.ly/abc")
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None
    fb.latency = 0.3
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda a=a: results.append(comment_action(loa, c.id, "delete", a, reason="spam"))
        )
        for a in (ADMIN, OTHER)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(r.ok for r in results) == [False, True]
    assert len(fb.records["comment_deletes"]) == 1
    entries = [
        e
        for e in loa.store.comments.timeline(comment_id=c.id)
        if e["action"] == "comment_delete_done"
    ]
    assert len(entries) == 1 and entries[0]["actor"] in (ADMIN.name, OTHER.name)


def test_two_services_on_one_postgresql_handle_each_comment_once(
    workspace: Workspace, pg_url: str
) -> None:
    first = make_loa(workspace, pg_url)
    second = Loa(first.settings)
    fb = workspace.fb
    post = seed_post(first, fb, "Bài")
    ids = [fb.comments.add(post, f"Bình luận {i}") for i in range(40)]
    claimed: list[int] = []
    lock = threading.Lock()

    def service(loa: Loa, chat: int) -> None:
        for cid in ids:
            handle_feed_change(loa, "facebook", change(fb, cid))
        catch_up_comments(loa)
        for c in loa.store.comments.without_card():
            if loa.store.comments.claim_card(c.id, chat):
                with lock:
                    claimed.append(c.id)

    threads = [threading.Thread(target=service, args=(x, n)) for n, x in enumerate((first, second))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rows = first.store.comments.listed()
    assert len(rows) == 40 == len({r.remote_id for r in rows})
    assert sorted(claimed) == sorted(r.id for r in rows)
    received = [
        e
        for r in rows
        for e in first.store.comments.timeline(comment_id=r.id)
        if e["action"] == "comment_received"
    ]
    assert len(received) == 40
    for x in (first, second):
        x.store.engine.dispose()
        x.store.comments.engine.dispose()
