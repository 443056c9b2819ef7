"""Comments by webhook under load, and the catch-up read's cost.

    .venv/bin/python benchmarks/comments.py [--rate 10000] [--seconds 60] [--db postgresql://…]

Runs the real service (``loa run``: web server with ``/hooks/facebook``, the citizens' job that
takes stored events, the Telegram bot posting cards) in-process against the sandboxes; a sender
thread POSTs signed ``feed`` webhooks at ``--rate`` comments an hour for ``--seconds``, each
carrying a token, and a watcher notes when the Telegram sandbox receives each comment's card.
Prints: webhook ack latency (p50/p99/max), webhook → card latency (p50/p95/max), the backlog
(comments acknowledged but not carded) sampled every 5 s and after the run, and the number of
Graph calls of the catch-up read of 200 posts (target ≤ ceil(200/50)).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent.parent))

from bot.context import Loa  # noqa: E402
from bot.devtools.sandboxes import Sandboxes  # noqa: E402
from bot.run import build_service  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from channels.comments import CommentModerator  # noqa: E402
from channels.sandbox.facebook_comments import sign  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=10000.0, help="comments an hour")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    boxes = Sandboxes.start()
    work = Path(tempfile.mkdtemp(prefix="loa-bench-comments-"))
    port = _port()
    url = args.db or "sqlite:///loa.db"
    (work / "config.toml").write_text(
        f'[database]\nurl = "{url}"\n'
        f'[web]\nlisten = "127.0.0.1:{port}"\nbase_url = "https://loa.example.gov.vn"\n'
        '[assistant]\nenabled = true\nchannels = ["facebook"]\n' + boxes.channels_toml(),
        "utf-8",
    )
    for line in boxes.env_text().splitlines():
        k, v = line.split("=", 1)
        os.environ[k] = v
    fb = boxes.facebook
    os.environ["LOA_CHANNELS__FACEBOOK__APP_SECRET"] = fb.APP_SECRET
    os.environ["LOA_CHANNELS__FACEBOOK__VERIFY_TOKEN"] = "bench"
    loa = Loa(load_settings(work / "config.toml"))
    service = build_service(loa)
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=lambda: loop.run_until_complete(service.run()), daemon=True)
    runner.start()
    hook = f"http://127.0.0.1:{port}/hooks/facebook"
    session = requests.Session()
    for _ in range(100):  # wait for the web server
        try:
            session.get(hook, timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)

    post = fb.add_post("Bài có nhiều bình luận")
    n = int(args.rate * args.seconds / 3600)
    sent_at: dict[str, float] = {}
    carded_at: dict[str, float] = {}
    acks: list[float] = []
    errors = 0
    done = threading.Event()

    def watch() -> None:
        seen = 0
        while not (done.is_set() and len(carded_at) >= len(sent_at)):
            msgs = boxes.telegram.sent
            now = time.monotonic()
            for m in msgs[seen:]:
                text = str(m.get("text", ""))
                i = text.find("mã-bl-")
                if i >= 0:
                    token = text[i : i + 14].split("»")[0].split()[0]
                    carded_at.setdefault(token, now)
            seen = len(msgs)
            if done.is_set() and time.monotonic() > deadline:
                return
            time.sleep(0.02)

    deadline = time.monotonic() + args.seconds + 60
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    backlog: list[int] = []
    start = time.monotonic()
    next_sample = start + 5
    for k in range(n):
        due = start + k * 3600 / args.rate
        while (wait := due - time.monotonic()) > 0:
            time.sleep(min(wait, 0.05))
            if time.monotonic() >= next_sample:
                backlog.append(len(sent_at) - len(carded_at))
                next_sample += 5
        token = f"mã-bl-{k:06d}"
        cid = fb.comments.add(post, f"Bình luận thử {token} của người dân")
        body = fb.comments.webhook_body([(fb.comments.items[cid], "add")])
        headers = {
            "content-type": "application/json",
            "x-hub-signature-256": sign(fb.APP_SECRET, body),
        }
        t0 = time.monotonic()
        r = session.post(hook, data=body, headers=headers, timeout=10)
        acks.append((time.monotonic() - t0) * 1000)
        if r.status_code != 200:
            errors += 1
        sent_at[token] = t0
    done.set()
    while len(carded_at) < len(sent_at) and time.monotonic() < deadline:
        time.sleep(0.2)
    after = len(sent_at) - len(carded_at)
    lat = [carded_at[t] - sent_at[t] for t in sent_at if t in carded_at]

    # the catch-up read of 200 posts
    channel = loa.channel("facebook")
    assert isinstance(channel, CommentModerator)
    posts = [fb.add_post(f"Bài {i}") for i in range(200)]
    for p in posts[::3]:
        fb.comments.add(p, "Bình luận trong lúc mất webhook")
    before = len(fb.request_log)
    read = channel.read_comments(posts, None)
    calls = len(fb.request_log) - before

    loop.call_soon_threadsafe(service.stopping.set)
    runner.join(timeout=15)
    boxes.stop()
    print(f"comments sent by webhook: {len(sent_at)} at {args.rate:.0f}/h for {args.seconds:.0f} s")
    print(
        f"webhook ack: p50 {statistics.median(acks):.1f} ms, p99 {_pct(acks, 0.99):.1f} ms, "
        f"max {max(acks):.1f} ms (target p99 < 50 ms); non-200 answers: {errors}"
    )
    print(
        f"card posted: p50 {statistics.median(lat):.2f} s, p95 {_pct(lat, 0.95):.2f} s, "
        f"max {max(lat):.2f} s (target p95 < 2 s); carded {len(lat)}/{len(sent_at)}"
    )
    print(f"backlog every 5 s: {backlog}; after the run: {after} (target: no growth)")
    print(
        f"catch-up read of 200 posts: {calls} Graph calls (target ≤ {math.ceil(200 / 50)}), "
        f"{len(read.comments)} comments"
    )


if __name__ == "__main__":
    main()
