"""Two `loa run` processes on one PostgreSQL database share 500 deliveries without a duplicate."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from conftest import Workspace, parsed_article

from content_queue.models import Actor
from content_queue.store import ChannelPlan

DELIVERIES = 500


@pytest.mark.timeout(300)
def test_two_run_processes_share_500_deliveries_without_a_duplicate(
    workspace: Workspace, pg_url: str
) -> None:
    ws = workspace
    ws.config.write_text(
        ws.config.read_text("utf-8")
        .replace('url = "sqlite:///loa.db"', f'url = "{pg_url}"')
        .replace(
            "[schedule]\nretry_base_seconds = 1",
            "[schedule]\nretry_base_seconds = 0.5\ndispatch_interval_seconds = 0.2",
        ),
        "utf-8",
    )
    loa = ws.loa()
    actor = Actor("test", "cli")
    now = datetime.now(UTC)
    plan = [ChannelPlan("website"), ChannelPlan("facebook", "website")]
    for i in range(DELIVERIES // 2):
        art = loa.store.articles.submit(parsed_article(f"Bài chia việc số {i:03d}"), actor).article
        loa.store.articles.approve(art.id, actor, now, plan)
    procs = [
        subprocess.Popen(
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
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 240  # a bound on the wait, not a speed assertion
        while loa.store.articles.list(["approved"]) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    assert not loa.store.articles.list(["approved"])
    titles = [p["title"]["raw"] for p in ws.wp.records["posts"]]
    assert len(titles) == DELIVERIES // 2 == len(set(titles))
    messages = [p["message"] for p in ws.fb.records["posts"]]
    assert len(messages) == DELIVERIES // 2 == len(set(messages))
    owners = {
        e["detail"].get("owner") for e in loa.store.audit.audit_entries() if e["action"] == "sent"
    }
    assert len(owners) == 2, owners  # both workers did a share of the work
