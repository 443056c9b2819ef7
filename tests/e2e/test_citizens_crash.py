"""End-to-end tier: citizens keep writing to the Zalo OA while `loa run` is killed with SIGKILL at
random points between "stored" and "answered": no question is lost, none answered twice.

The Zalo sandbox (and its citizens) runs in the test process and survives every kill; a webhook
that got no 200 (Loa down, or 503) is sent again, as Zalo does.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import Workspace

import bot
from content_queue.knowledge import read_catalogue
from content_queue.models import Actor

SAMPLE = Path(bot.__file__).parent / "demo_articles" / "thu_tuc_mau.json"
QUESTIONS = 30
KILLS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@pytest.mark.timeout(300)
def test_sigkill_between_stored_and_answered_loses_and_repeats_nothing(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace
    port = _free_port()
    text = ws.config.read_text("utf-8").replace(
        "[schedule]\nretry_base_seconds = 1",
        "[schedule]\nretry_base_seconds = 1\nlease_seconds = 1.5",
    )
    text += f"""
[web]
listen = "127.0.0.1:{port}"
base_url = "https://loa.example.gov.vn"

[assistant]
enabled = true
channels = ["zalo"]
"""
    ws.config.write_text(text, "utf-8")
    monkeypatch.setenv("LOA_CHANNELS__ZALO__OA_SECRET_KEY", ws.zalo.inbox.OA_SECRET_KEY)
    ws.zalo.latency = 0.02  # widen the window between Zalo acting and Loa recording it
    loa = ws.loa()
    loa.store.knowledge.import_procedures(read_catalogue(SAMPLE), Actor("test"))
    assert loa.channel("zalo").check().ok  # the first token pair, taken before any kill
    url = f"http://127.0.0.1:{port}/hooks/zalo"

    rng = random.Random(20261206)
    pending = [(f"84000000000{i:05d}", f"msg-crash-{i:03d}") for i in range(QUESTIONS)]
    kills = 0
    proc = _start(ws)
    try:
        while pending or kills < KILLS:
            if pending:
                user, msg_id = pending[0]
                try:
                    ok = (
                        ws.zalo.inbox.citizen_writes(
                            url,
                            user,
                            "thu tuc hop phap hoa lanh su can giay to gi?",
                            msg_id=msg_id,
                        ).status
                        == 200
                    )
                except OSError:  # Loa is down: Zalo retries later
                    ok = False
                if ok:
                    pending.pop(0)
                else:
                    time.sleep(0.2)
            if kills < KILLS and rng.random() < 0.15:
                time.sleep(rng.uniform(0.0, 0.4))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                proc = _start(ws)
            elif not pending:
                time.sleep(0.2)
        data = loa.store.citizens
        deadline = time.monotonic() + 120  # a bound on the wait, not a speed assertion
        while time.monotonic() < deadline:
            replies = data.replies()
            if (
                len(replies) == QUESTIONS
                and all(r.state in ("sent", "in_doubt") for r in replies)
                and data.event_states().keys() <= {"done", "ignored"}
            ):
                break
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    assert kills == KILLS
    questions = data.questions(limit=1000)
    assert len(questions) == QUESTIONS  # nothing lost, nothing stored twice
    assert data.event_states() == {"done": QUESTIONS}
    replies = data.replies()
    assert len(replies) == QUESTIONS and {r.state for r in replies} <= {"sent", "in_doubt"}
    per_user = Counter(r["user_id"] for r in ws.zalo.records["replies"])
    assert max(per_user.values()) == 1  # never twice
    sent = {r.citizen_id for r in replies if r.state == "sent"}
    assert sent <= set(per_user)  # every "sent" reached its citizen
    # A reply in doubt went out at most once and was never sent again.
    assert len(per_user) >= len(sent)


@pytest.mark.timeout(300)
def test_two_run_processes_on_postgresql_answer_each_question_once(
    workspace: Workspace, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace
    text = ws.config.read_text("utf-8").replace('url = "sqlite:///loa.db"', f'url = "{pg_url}"')
    text += '\n[assistant]\nenabled = true\nchannels = ["zalo"]\n'
    ws.config.write_text(text, "utf-8")
    monkeypatch.setenv("LOA_CHANNELS__ZALO__OA_SECRET_KEY", ws.zalo.inbox.OA_SECRET_KEY)
    loa = ws.loa()
    loa.store.knowledge.import_procedures(read_catalogue(SAMPLE), Actor("test"))
    assert loa.channel("zalo").check().ok
    ports = [_free_port(), _free_port()]
    procs = []
    for port in ports:
        env = dict(os.environ, LOA_WEB__LISTEN=f"127.0.0.1:{port}")
        procs.append(
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
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    data = loa.store.citizens
    try:
        for i in range(40):
            url = f"http://127.0.0.1:{ports[i % 2]}/hooks/zalo"
            deadline = time.monotonic() + 30
            while True:
                try:
                    r = ws.zalo.inbox.citizen_writes(
                        url, f"84100000000{i:05d}", "thu tuc hop phap hoa lanh su can giay to gi?"
                    )
                    if r.status == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "the web hook never answered"
                time.sleep(0.2)
        deadline = time.monotonic() + 120
        while (
            time.monotonic() < deadline
            and len([r for r in data.replies() if r.state == "sent"]) < 40
        ):
            time.sleep(0.5)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    assert len(data.questions(limit=1000)) == 40
    assert [r.state for r in data.replies()] == ["sent"] * 40
    per_user = Counter(r["user_id"] for r in ws.zalo.records["replies"])
    assert len(per_user) == 40 and set(per_user.values()) == {1}
    assert len(data.events()) == 40  # each webhook stored once, whichever process took it
