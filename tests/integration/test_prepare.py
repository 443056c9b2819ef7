"""Ready before the slot (issue 16): preparation at approval, facts kept across restarts, calls
counted by kind — against the sandboxes over real HTTP, storage on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Workspace, parsed_article

from bot.approval import approve_article
from bot.context import Loa
from bot.prepare import prepare_unsent
from bot.run import build_dispatcher
from bot.telegram.cards import closed_card_text
from channels import metering
from channels.base import TransientError
from content_queue.models import Actor
from content_queue.store import ChannelPlan, Store

EDITOR = Actor("bien-tap", "cli")
ADMIN = Actor("quan-tri", "cli")
LOA = Path(sys.executable).parent / "loa"


def _approve(
    loa: Loa, ws: Workspace, title: str, *, topic: str = "a", in_minutes: float = 60
) -> int:
    art = loa.store.articles.submit(
        parsed_article(title, topic=topic, cover=ws.cover(f"{topic}.jpg")), EDITOR
    )
    when = (
        (datetime.now(UTC) + timedelta(minutes=in_minutes))
        .astimezone(loa.settings.schedule.tz)
        .strftime("%Y-%m-%d %H:%M")
    )
    approve_article(loa, art.article.id, ADMIN, at=when)
    return art.article.id


def _requests_since(box: object, mark: int) -> list[tuple[str, str]]:
    return [(m, p) for _, m, p in box.request_log[mark:] if not p.startswith("/_sandbox/")]  # type: ignore[attr-defined]


def _make_due(loa: Loa, article_id: int) -> None:
    from content_queue.tables import deliveries

    now = datetime.now(UTC)  # the slot comes, as the passing of time would bring it
    with loa.store.engine.begin() as conn:
        conn.execute(
            deliveries.update().where(deliveries.c.article_id == article_id).values(due_at=now)
        )
        conn.execute(
            deliveries.update()
            .where(deliveries.c.article_id == article_id, deliveries.c.after_channel.is_(None))
            .values(next_attempt_at=now)
        )


def _tick(loa: Loa) -> int:
    d = build_dispatcher(loa)
    try:
        return d.tick()
    finally:
        d.close()


# ----- metering ------------------------------------------------------------------------------------
def test_call_kind_keeps_method_and_path_without_ids_tokens_or_query() -> None:
    assert (
        metering.call_kind("post", "https://x.vn/wp-json/wp/v2/posts/123?context=edit")
        == "POST /wp-json/wp/v2/posts/{id}"
    )
    assert (
        metering.call_kind("GET", "https://graph.facebook.com/v25.0/1234_5678") == "GET /v25.0/{id}"
    )
    kind = metering.call_kind(
        "POST", "https://api.telegram.org/bot123456:AAHsecretsecretsecret/sendMessage"
    )
    assert "secret" not in kind and kind == "POST /{id}/sendMessage"


def test_calls_are_counted_by_kind_in_their_context_only(workspace: Workspace) -> None:
    loa = workspace.loa()
    channel = loa.channel("website")
    with metering.metered() as outer:
        with metering.metered() as inner:
            channel.check()
        channel.check()
    channel.check()  # outside any counter: not kept anywhere
    assert inner.as_dict() == {"GET /wp-json/wp/v2/users/me": 1}
    assert outer.as_dict() == {"GET /wp-json/wp/v2/users/me": 2}


def test_a_request_that_gets_no_answer_is_counted(workspace: Workspace) -> None:
    loa = workspace.loa()
    workspace.wp.inject("drop_before", path=r".*/users/me$")
    with metering.metered() as calls, pytest.raises(TransientError):
        loa.channel("website").check()  # the connection is dropped before an answer
    assert calls.as_dict() == {"GET /wp-json/wp/v2/users/me": 1}


# ----- storage -------------------------------------------------------------------------------------
def test_preparations_facts_and_calls_are_stored(store: Store) -> None:
    art = store.articles.submit(parsed_article("Bài lưu chuẩn bị"), EDITOR).article
    due = datetime.now(UTC) + timedelta(hours=2)
    store.articles.approve(
        art.id, ADMIN, due, [ChannelPlan("website"), ChannelPlan("facebook", "website")]
    )
    rows = store.preparations.to_prepare()
    assert [(r.article_id, r.channel) for r in rows] == [(art.id, "website"), (art.id, "facebook")]
    assert store.preparations.to_prepare([art.id + 1]) == []

    store.preparations.record_preparation(
        art.id,
        "website",
        revision=1,
        fingerprint="f1",
        due_at=due,
        data={},
        error="Trang web từ chối tạo chuyên mục.",
        calls={"POST /x": 1},
    )
    prep = store.preparations.record_preparation(
        art.id,
        "website",
        revision=1,
        fingerprint="f1",
        due_at=due,
        data={"terms": {"categories:A": 5}},
        error=None,
        calls={"GET /x": 2},
    )
    assert prep.ready
    (stored,) = store.preparations.preparations_of(art.id).values()
    assert stored.ready and stored.data == {"terms": {"categories:A": 5}} and stored.error is None
    assert stored.calls == {"GET /x": 2} and stored.due_at == due

    store.preparations.save_facts("website", {"categories:A": 5, "tags:Thẻ": 7})
    store.preparations.save_facts("website", {"categories:A": 9})
    assert store.preparations.facts_of("website") == {"categories:A": 9, "tags:Thẻ": 7}
    assert store.preparations.facts_of("facebook") == {}

    d = store.articles.get(art.id).deliveries[0]
    store.preparations.add_delivery_calls(
        {d.id: {"POST /wp-json/wp/v2/posts": 1, "GET /wp-json/wp/v2/tags": 2}}
    )
    store.preparations.add_delivery_calls({d.id: {"POST /wp-json/wp/v2/posts": 1}, d.id + 1: {}})
    assert store.preparations.calls_of_article(art.id) == {
        d.id: {"GET /wp-json/wp/v2/tags": 2, "POST /wp-json/wp/v2/posts": 2}
    }


# ----- preparing -----------------------------------------------------------------------------------
def test_approval_prepares_and_a_restarted_service_posts_with_no_term_lookups(
    workspace: Workspace,
) -> None:
    loa = workspace.loa()
    art_id = _approve(loa, workspace, "Sở Ngoại vụ chuẩn bị trước giờ đăng", topic="b")
    preps = loa.store.preparations.preparations_of(art_id)
    assert {n: p.state for n, p in preps.items()} == {
        "website": "ready",
        "facebook": "ready",
        "zalo": "ready",
    }
    terms = preps["website"].data["terms"]
    assert set(loa.store.preparations.facts_of("website")) == set(terms)
    assert {t["id"] for t in workspace.wp.terms.values()} >= set(terms.values())
    assert any(k.startswith("POST ") and "/categories" in k for k in preps["website"].calls)

    fresh = workspace.loa()  # a new process: nothing in memory
    mark = len(workspace.wp.request_log)
    prepare_unsent(fresh)
    at_start = _requests_since(workspace.wp, mark)
    assert at_start and all(m == "GET" for m, _ in at_start)  # checks the kept ids; creates nothing
    assert len(at_start) <= 2  # one read per taxonomy

    _make_due(fresh, art_id)
    mark = len(workspace.wp.request_log)
    _tick(fresh)
    assert fresh.store.articles.get(art_id).state == "published"
    at_slot = _requests_since(workspace.wp, mark)
    assert ("POST", "/wp-json/wp/v2/posts") in at_slot
    assert not [p for _, p in at_slot if "/categories" in p or "/tags" in p]
    (post,) = workspace.wp.posts.values()
    assert post["categories"] == [v for k, v in terms.items() if k.startswith("categories:")]
    assert sorted(post["tags"]) == sorted(v for k, v in terms.items() if k.startswith("tags:"))


def test_a_term_deleted_on_the_site_is_replaced_before_the_slot(workspace: Workspace) -> None:
    loa = workspace.loa()
    art_id = _approve(loa, workspace, "Bài có chuyên mục bị xoá", topic="c")
    old = loa.store.preparations.preparations_of(art_id)["website"].data["terms"]
    (cat_key,) = [k for k in old if k.startswith("categories:")]
    with workspace.wp.lock:
        del workspace.wp.terms[old[cat_key]]  # an editor deletes it in wp-admin

    fresh = workspace.loa()
    prepare_unsent(fresh)
    new = fresh.store.preparations.preparations_of(art_id)["website"].data["terms"]
    assert new[cat_key] != old[cat_key] and new[cat_key] in workspace.wp.terms
    assert fresh.store.preparations.facts_of("website")[cat_key] == new[cat_key]
    _make_due(fresh, art_id)
    _tick(fresh)
    (post,) = workspace.wp.posts.values()
    assert post["categories"] == [new[cat_key]]


def test_a_refused_term_alerts_admins_before_the_slot_and_shows_on_the_card(
    workspace: Workspace,
) -> None:
    loa = workspace.loa()
    workspace.wp.inject(
        "rest:403:rest_cannot_create", path=r".*/categories$", method="POST", count=5
    )
    art_id = _approve(loa, workspace, "Bài không tạo được chuyên mục", topic="d")
    prep = loa.store.preparations.preparations_of(art_id)["website"]
    assert not prep.ready and "quyền" in (prep.error or "")
    (alert,) = [a for a in loa.notifier.open_alerts() if a["key"] == f"prepare:{art_id}:website"]
    assert "Chưa chuẩn bị được bài" in str(alert["message"]) and "website" in str(alert["message"])
    card = closed_card_text(loa, loa.store.articles.get(art_id))
    assert "website: chưa chuẩn bị được trước giờ đăng" in card

    workspace.wp.reset_faults()
    prepare_unsent(loa)  # the service's next round
    assert loa.store.preparations.preparations_of(art_id)["website"].ready
    assert not [a for a in loa.notifier.open_alerts() if a["key"].startswith("prepare:")]
    assert "chưa chuẩn bị được" not in closed_card_text(loa, loa.store.articles.get(art_id))


def test_media_ahead_uploads_images_before_the_slot_and_not_again(workspace: Workspace) -> None:
    text = workspace.config.read_text("utf-8").replace(
        'type = "wordpress"\n', 'type = "wordpress"\nprepare_media_ahead = true\n'
    )
    workspace.config.write_text(text, "utf-8")
    loa = workspace.loa()
    art_id = _approve(loa, workspace, "Bài tải ảnh trước", topic="e")
    assert len(workspace.wp.media) == 1  # uploaded at approval, before the slot
    (media_id,) = workspace.wp.media
    fresh = workspace.loa()
    prepare_unsent(fresh)  # handed back after a restart without uploading again
    assert len(workspace.wp.media) == 1
    _make_due(fresh, art_id)
    _tick(fresh)
    assert fresh.store.articles.get(art_id).state == "published"
    assert len(workspace.wp.media) == 1
    (post,) = workspace.wp.posts.values()
    assert post["featured_media"] == media_id


def test_zalo_token_is_refreshed_only_when_it_would_expire_near_the_slot(
    workspace: Workspace,
) -> None:
    loa = workspace.loa()
    art_id = _approve(loa, workspace, "Bài Zalo cần mã còn hạn", topic="g", in_minutes=30)
    zalo = loa.channel("zalo")
    first = zalo.store.load()  # type: ignore[attr-defined]
    assert first.get("access_token")  # the first refresh happened at approval, not at the slot
    assert "Đã làm mới mã truy cập Zalo" in " ".join(
        loa.store.preparations.preparations_of(art_id)["zalo"].data["notes"]
    )

    prepare_unsent(loa)  # still valid well past the slot: no call
    assert zalo.store.load()["access_token"] == first["access_token"]  # type: ignore[attr-defined]

    soon = (datetime.now(UTC) + timedelta(minutes=40)).isoformat()  # expires 10 min after the slot
    zalo.store.save({"access_expires_at": soon})  # type: ignore[attr-defined]
    mark = len(workspace.zalo.request_log)
    prepare_unsent(loa)
    assert zalo.store.load()["access_token"] != first["access_token"]  # type: ignore[attr-defined]
    assert [p for _, p in _requests_since(workspace.zalo, mark)] == ["/v4/oa/access_token"]


def test_zalo_refresh_refused_is_a_failed_preparation(workspace: Workspace) -> None:
    loa = workspace.loa()
    workspace.zalo.inject("http_500", path=r"/v4/oa/access_token$", count=3)
    art_id = _approve(loa, workspace, "Bài Zalo không làm mới được mã", topic="h")
    prep = loa.store.preparations.preparations_of(art_id)["zalo"]
    assert not prep.ready and prep.error
    assert [a for a in loa.notifier.open_alerts() if a["key"] == f"prepare:{art_id}:zalo"]


def test_loa_show_prints_preparations_and_calls_per_delivery(workspace: Workspace) -> None:
    loa = workspace.loa()
    art_id = _approve(loa, workspace, "Bài xem số lượt gọi", topic="i")
    website = next(d for d in loa.store.articles.get(art_id).deliveries if d.channel == "website")
    loa.store.preparations.add_delivery_calls({website.id: {"POST /wp-json/wp/v2/posts": 1}})
    env = dict(os.environ)
    res = subprocess.run(
        [str(LOA), "-c", str(workspace.config), "show", str(art_id)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "lượt gọi nền tảng: 1 (POST /wp-json/wp/v2/posts ×1)" in res.stdout
    assert "chuẩn bị website" in res.stdout and "sẵn sàng" in res.stdout
    res = subprocess.run(
        [str(LOA), "-c", str(workspace.config), "show", str(art_id), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    shown = json.loads(res.stdout)  # one object, not a one-element list
    assert shown["calls"] == {str(website.id): {"POST /wp-json/wp/v2/posts": 1}}
    assert shown["preparations"]["website"]["state"] == "ready"


def test_calls_per_delivery_are_recorded_by_the_dispatcher(workspace: Workspace) -> None:
    loa = workspace.loa()
    art_id = _approve(loa, workspace, "Bài đếm lượt gọi", topic="f")
    _make_due(loa, art_id)
    _tick(loa)
    by = {d.channel: d.id for d in loa.store.articles.get(art_id).deliveries}
    calls = loa.store.preparations.calls_of_article(art_id)
    assert calls[by["website"]] == {"POST /wp-json/wp/v2/media": 1, "POST /wp-json/wp/v2/posts": 1}
    assert calls[by["facebook"]] == {"POST /v25.0/{id}/feed": 1}
    assert calls[by["zalo"]] == {"POST /v2.0/article/create": 1, "POST /v2.0/article/verify": 2}
