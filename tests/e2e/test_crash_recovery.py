"""End-to-end tier: `loa run` killed with SIGKILL at random points while publishing, on platforms
that also answer ambiguously after acting: nothing lost, nothing twice.

The sandboxes run in the test process and survive every kill; their records are the judge.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from conftest import Workspace, parsed_article

from bot.context import Loa
from content_queue.models import Actor
from content_queue.store import ChannelPlan

ARTICLES = int(os.environ.get("LOA_TEST_CRASH_ARTICLES", "200"))
KILLS = int(os.environ.get("LOA_TEST_CRASH_KILLS", "20"))


def _start(ws: Workspace) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from bot.cli.main import main; main()",
            "--config",
            str(ws.config),
            "run",
        ],
        cwd=ws.dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.timeout(600)
def test_sigkill_at_random_points_loses_nothing_and_posts_nothing_twice(
    workspace: Workspace,
) -> None:
    ws = workspace
    text = ws.config.read_text("utf-8").replace(
        "[schedule]\nretry_base_seconds = 1",
        "[schedule]\nretry_base_seconds = 0.5\nlease_seconds = 1.5\ndispatch_interval_seconds = 0.2",
    )
    ws.config.write_text(text, "utf-8")
    for sb in (ws.wp, ws.fb, ws.zalo):
        sb.latency = 0.01  # widen the window between a platform's answer and its recording
    # Some posts are created late, after their sender may have been killed: a look on the
    # platform before it finished would find nothing and post again (reconcile_after_seconds).
    ws.wp.inject(
        "slow", count=-1, probability=0.15, path=r"/wp/v2/posts$", method="POST", seconds=0.7
    )
    # Posts made, then answered with no stated outcome (a 5xx with the platform's JSON, a proxy's
    # 502 page, a truncated body): looked for, never sent again.
    for sb, path in (
        (ws.wp, r"/wp/v2/posts$"),
        (ws.fb, r"/feed$"),
        (ws.zalo, r"/v2.0/article/create$"),
    ):
        for kind in ("after:http_500", "after:html_502", "after:truncated"):
            sb.inject(kind, count=-1, probability=0.03, path=path, method="POST")
    loa = ws.loa()
    cover = ws.cover()
    actor = Actor("test", "cli")
    plan = [
        ChannelPlan("website"),
        ChannelPlan("facebook", "website"),
        ChannelPlan("zalo", "website"),
    ]
    now = datetime.now(UTC)
    for i in range(ARTICLES):
        art = loa.store.articles.submit(
            parsed_article(f"Bài thử nghiệm khôi phục số {i:03d}", cover=cover), actor
        ).article
        loa.store.articles.approve(art.id, actor, now, plan)

    # Take the first Zalo token pair now: a kill in the instant between Zalo rotating the refresh
    # token and its answer reaching Loa is the one loss no software can prevent (it is detected
    # and reported; see test_zalo_token_rotation.py), and is not what this test is about.
    assert loa.channel("zalo").check().ok

    rng = random.Random(20261125)
    kills = 0
    while kills < KILLS:
        proc = _start(ws)
        time.sleep(rng.uniform(0.6, 1.6))  # start-up is ~0.5 s; kill somewhere in the work
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        if not loa.store.articles.list(["approved"]):
            break

    proc = _start(ws)
    try:
        deadline = time.monotonic() + 240  # a bound on the wait, not a speed assertion
        while loa.store.articles.list(["approved"]) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    assert kills >= min(KILLS, 20) or not loa.store.articles.list(["approved"])
    stuck = [
        (a.id, d.channel, d.state, d.attempts, d.last_error_kind, d.last_error)
        for a in loa.store.articles.list()
        if a.state != "published"
        for d in a.deliveries
    ]
    assert not stuck, stuck[:10]
    posts = ws.wp.records["posts"]
    titles = [p["title"]["raw"] if isinstance(p["title"], dict) else p["title"] for p in posts]
    assert len(titles) == ARTICLES and len(set(titles)) == ARTICLES, _history(loa, posts, titles)
    fb_messages = [p["message"] for p in ws.fb.records["posts"]]
    assert len(fb_messages) == ARTICLES and len(set(fb_messages)) == ARTICLES
    zalo_titles = [a["title"] for a in ws.zalo.records["articles"]]
    assert len(zalo_titles) == ARTICLES and len(set(zalo_titles)) == ARTICLES


def _history(loa: Loa, posts: list[dict], titles: list[str]) -> str:
    """What the platform and Loa recorded of the posts that should not be there."""
    known = {a.title: a.id for a in loa.store.articles.list()}
    odd = {t for t in titles if titles.count(t) > 1 or t not in known}
    lines = [
        f"post {p.get('id')} {p.get('slug')} {t!r} {p.get('date_gmt')}"
        for p, t in zip(posts, titles, strict=True)
        if t in odd
    ]
    for t in odd & known.keys():
        lines += [
            f"{e['at']:%H:%M:%S.%f} {e['action']} {e['detail']}"
            for e in loa.store.audit.audit_entries(known[t])
        ]
    return "\n".join(lines)
