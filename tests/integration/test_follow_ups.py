"""Reads that do not gate a post (Facebook permalink, Zalo link) are done after it, off the lanes."""

from __future__ import annotations

from conftest import Workspace, parsed_article

from bot.approval import approve_article
from bot.context import Loa
from bot.run import build_dispatcher
from bot.service.followups import MAX_ATTEMPTS, complete_follow_ups
from content_queue.models import Actor

EDITOR = Actor("bien-tap", "cli")
ADMIN = Actor("quan-tri", "cli")


def _publish_now(workspace: Workspace, title: str) -> tuple[Loa, int]:
    loa = workspace.loa()
    art = loa.store.articles.submit(parsed_article(title, cover=workspace.cover()), EDITOR).article
    approve_article(loa, art.id, ADMIN, now=True)
    d = build_dispatcher(loa)
    try:
        d.tick()
    finally:
        d.close()
    assert loa.store.articles.get(art.id).state == "published"
    return loa, art.id


def test_permalink_and_link_are_read_after_the_posts(workspace: Workspace) -> None:
    loa, art_id = _publish_now(workspace, "Bài đọc liên kết sau khi đăng")
    by = {d.channel: d for d in loa.store.articles.get(art_id).deliveries}
    fb_id = by["facebook"].remote_id
    assert by["facebook"].url == f"https://www.facebook.com/{fb_id}"  # good enough until read
    assert by["zalo"].url is None
    assert not [p for _, m, p in workspace.fb.request_log if m == "GET"]  # no read in the lane

    assert complete_follow_ups(loa) == 2
    by = {d.channel: d for d in loa.store.articles.get(art_id).deliveries}
    assert by["facebook"].url == workspace.fb.posts[fb_id]["permalink_url"]
    assert by["zalo"].url == workspace.zalo.media[by["zalo"].remote_id]["link_view"]
    assert complete_follow_ups(loa) == 0
    actions = [e["action"] for e in loa.store.audit.audit_entries(art_id)]
    assert actions.count("followed_up") == 2


def test_a_read_that_keeps_failing_is_given_up_and_the_post_stands(workspace: Workspace) -> None:
    loa, art_id = _publish_now(workspace, "Bài không đọc được liên kết")
    workspace.fb.inject("http_500", method="GET", count=MAX_ATTEMPTS)
    workspace.zalo.inject("http_500", path=r".*/getslice$", count=MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS):
        assert complete_follow_ups(loa) == 0
    by = {d.channel: d for d in loa.store.articles.get(art_id).deliveries}
    assert by["facebook"].state == "sent" and (by["facebook"].url or "").startswith(
        "https://www.facebook.com/"
    )
    assert complete_follow_ups(loa) == 0  # given up: not read again
    assert len([1 for _, m, _ in workspace.fb.request_log if m == "GET"]) == MAX_ATTEMPTS
