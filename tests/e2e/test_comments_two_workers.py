"""End-to-end tier: two `loa run` processes on one PostgreSQL database, comments arriving by
webhook at either of them and, for a webhook outage before they started, only on Facebook: every
comment is stored once and carded once in the admins' chat — none lost, none twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from conftest import Workspace, serving

from channels.sandbox.telegram import TelegramSandbox
from content_queue.tables import articles, deliveries

MISSED, PUSHED = 10, 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(300)
def test_two_run_processes_store_and_card_each_comment_once(
    workspace: Workspace, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace
    with serving(TelegramSandbox()) as tg:
        text = ws.config.read_text("utf-8").replace('url = "sqlite:///loa.db"', f'url = "{pg_url}"')
        text += (
            f'\n[telegram]\napi_url = "{tg.url}"\nadmins = [111]\nchat_id = {tg.CHAT_ID}\n'
            '\n[assistant]\nenabled = true\nchannels = ["facebook"]\n'
        )
        ws.config.write_text(text, "utf-8")
        monkeypatch.setenv("LOA_TELEGRAM__TOKEN", tg.TOKEN)
        monkeypatch.setenv("LOA_CHANNELS__FACEBOOK__APP_SECRET", ws.fb.APP_SECRET)
        monkeypatch.setenv("LOA_CHANNELS__FACEBOOK__VERIFY_TOKEN", "e2e")
        loa = ws.loa()
        post = ws.fb.add_post("Bài của Loa trên Trang")
        now = datetime.now(UTC)
        with (
            loa.store.engine.begin() as conn
        ):  # Loa's post (seeded: the dispatcher is tested elsewhere)
            aid = conn.execute(
                articles.insert().values(
                    title="Bài của Loa",
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
                    idempotency_key=f"{aid}-facebook",
                    remote_id=post,
                    sent_at=now,
                    updated_at=now,
                )
            )
        missed = [ws.fb.comments.add(post, f"Lúc mất webhook {i}") for i in range(MISSED)]
        ports = [_free_port(), _free_port()]
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", "from bot.cli.main import main; main()"]
                + ["--config", str(ws.config), "run"],
                cwd=ws.dir,
                env=dict(os.environ, LOA_WEB__LISTEN=f"127.0.0.1:{port}"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for port in ports
        ]
        pushed = []
        try:
            for i in range(PUSHED):
                cid = ws.fb.comments.add(post, f"Bình luận số {i}")
                pushed.append(cid)
                url = f"http://127.0.0.1:{ports[i % 2]}/hooks/facebook"
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if ws.fb.comments.notify(url, ws.fb.comments.items[cid], "add") == 200:
                            break
                    except OSError:
                        pass
                    assert time.monotonic() < deadline, "the web hook never answered"
                    time.sleep(0.2)

            def cards() -> Counter[str]:
                return Counter(
                    str(m["text"]).split("</b>")[0]
                    for m in tg.sent
                    if str(m.get("text", "")).startswith("💬")
                )

            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(cards()) < MISSED + PUSHED:
                time.sleep(0.5)
            time.sleep(2)  # a duplicate would show up now
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=30)
        stored = loa.store.comments.listed(limit=1000)
        assert sorted(c.remote_id for c in stored) == sorted(missed + pushed)
        seen = cards()
        assert len(seen) == MISSED + PUSHED and set(seen.values()) == {1}
        assert {c.source for c in stored if c.remote_id in missed} == {"catchup"}
