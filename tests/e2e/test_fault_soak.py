"""End-to-end tier: faults on 30 % of writes, every article still posted exactly once.

The faults include the answers that state no outcome after the platform acted: a 5xx with the
platform's JSON, a proxy's 502 HTML page, a truncated 2xx body, a dropped connection.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from conftest import Workspace, parsed_article

from bot.run import build_dispatcher
from content_queue.models import Actor
from content_queue.store import ChannelPlan
from content_queue.tables import alerts

ARTICLES = 20
FAULTS = (
    "http_500",
    "drop_before",
    "drop_after",  # refused, or lost before/after acting
    "after:http_500",
    "after:html_502",
    "after:truncated",
)  # acted, then no stated outcome


def test_thirty_percent_faults_end_with_every_article_posted_exactly_once(
    workspace: Workspace,
) -> None:
    ws = workspace
    ws.config.write_text(
        ws.config.read_text("utf-8").replace(
            "[schedule]\nretry_base_seconds = 1",
            "[schedule]\nretry_base_seconds = 0.05\nretry_max_seconds = 0.5\nmax_attempts = 40",
        ),
        "utf-8",
    )
    loa = ws.loa()
    assert loa.channel("zalo").check().ok  # first token pair before the faults start
    cover = ws.cover()
    actor = Actor("test", "cli")
    plan = [
        ChannelPlan("website"),
        ChannelPlan("facebook", "website"),
        ChannelPlan("zalo", "website"),
    ]
    for i in range(ARTICLES):
        art = loa.store.articles.submit(
            parsed_article(f"Bài chịu lỗi số {i:02d}", cover=cover), actor
        ).article
        loa.store.articles.approve(art.id, actor, datetime.now(UTC), plan)
    for sb in (ws.wp, ws.fb, ws.zalo):
        sb.rng.seed(7)
        for kind in FAULTS:
            # six kinds at 6 % each: about 31 % of writes fail one way or another
            sb.inject(kind, count=-1, probability=0.06, method="POST")
    d = build_dispatcher(loa)
    deadline = time.monotonic() + 120  # a bound on the loop, not a speed assertion
    try:
        while loa.store.articles.list(["approved"]) and time.monotonic() < deadline:
            d.tick()
            time.sleep(0.05)
    finally:
        d.close()
    stuck = [
        (a.id, x.channel, x.state, x.last_error)
        for a in loa.store.articles.list()
        if a.state != "published"
        for x in a.deliveries
    ]
    assert not stuck, stuck[:5]
    wp_titles = [p["title"]["raw"] for p in ws.wp.records["posts"]]
    assert sorted(wp_titles) == sorted(set(wp_titles)) and len(wp_titles) == ARTICLES
    fb_messages = [p["message"] for p in ws.fb.records["posts"]]
    assert len(fb_messages) == ARTICLES == len(set(fb_messages))
    zalo_titles = [a["title"] for a in ws.zalo.records["articles"]]
    assert len(zalo_titles) == ARTICLES == len(set(zalo_titles))
    # bounded work: requests per post stay within a small multiple of the fault-free count
    requests = sum(len(sb.request_log) for sb in (ws.wp, ws.fb, ws.zalo))
    assert requests / (3 * ARTICLES) < 25
    # one alert per incident: every open or closed alert key appears once
    with loa.store.engine.connect() as conn:
        keys = list(conn.execute(sa.select(alerts.c.key)).scalars())
    assert len(keys) == len(set(keys))
