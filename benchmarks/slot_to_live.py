"""Slot to live: K articles of K topics in one slot, after a fresh start of ``loa run``.

    .venv/bin/python benchmarks/slot_to_live.py [--articles 4] [--latency 0.25] [--runs 3]
                                                [--media-ahead]

Each run starts fresh sandboxes (every call takes ``--latency`` L), a fresh workspace, submits K
articles (topics a, b, c, …, each with a JPEG cover) and approves them for one slot (with issue 16's
code, approving prepares them), then starts ``loa run`` as a new process (nothing in memory)
``--lead`` seconds before the slot and waits until every delivery is sent and followed up. From the sandboxes' request logs:

* slot to live: from the slot to the last dependent post created (the last Facebook ``/feed`` or
  Zalo ``article/create`` request's arrival + L, as the sandbox sleeps L before acting), / 2L —
  2L being the least any publisher needs (website POST, then the POST that links to it);
* calls per post on each platform, by kind, before the slot (preparation) and from the slot on.

``--media-ahead`` sets ``prepare_media_ahead = true`` on the website (unknown key before #16).
Runs against any checkout: it only uses the CLI, the store and ``approve_article``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from bot.approval import approve_article
from bot.context import Loa
from bot.devtools.sandboxes import Sandboxes
from bot.settings import load_settings
from content_queue.models import Actor, ParsedArticle, ParsedImage

TOPICS = ("a", "b", "c", "d", "đ", "e", "f", "g", "h", "i")
_ID = re.compile(r"\d[\d_]*|[^/]{24,}")


def kind(method: str, path: str) -> str:
    return method + " " + "/".join("{id}" if _ID.fullmatch(p) else p for p in path.split("/"))


def one_run(k: int, latency: float, media_ahead: bool, lead: float) -> dict[str, object]:
    boxes = Sandboxes.start()
    work = Path(tempfile.mkdtemp(prefix="loa-slot-"))
    channels = boxes.channels_toml()
    if media_ahead:
        channels = channels.replace(
            'type = "wordpress"\n', 'type = "wordpress"\nprepare_media_ahead = true\n'
        )
    (work / "config.toml").write_text('[database]\nurl = "sqlite:///loa.db"\n' + channels, "utf-8")
    env_lines = [ln for ln in boxes.env_text().splitlines() if not ln.startswith("LOA_TELEGRAM__")]
    (work / ".env").write_text("\n".join(env_lines) + "\n", "utf-8")
    for key in [k for k in os.environ if k.startswith("LOA_")]:
        os.environ.pop(key)
    for box in (boxes.website, boxes.facebook, boxes.zalo):
        box.latency = latency
    loa = Loa(load_settings(work / "config.toml"))
    actor = Actor("bench", "cli")
    slot = (datetime.now(UTC) + timedelta(seconds=2 * lead + k * 8 * latency)).replace(
        microsecond=0
    )
    for i in range(k):
        cover = work / f"bia-{i}.jpg"
        Image.new("RGB", (800, 450), (40 + 20 * i, 90, 160)).save(cover, "JPEG", quality=80)
        title = f"Chủ đề {TOPICS[i]}: kết quả cải cách hành chính quý IV số {i}"
        body = f"Nội dung bài {i} về cải cách hành chính, dịch vụ công trực tuyến."
        parsed = ParsedArticle(
            title=title,
            summary=f"Tóm tắt bài {i}.",
            body_html=f"<p>{body}</p>",
            body_text=body,
            topic=TOPICS[i],
            publish_at=slot,
            content_hash=f"slot-{i}-{time.time_ns()}",
            cover=ParsedImage(
                path=str(cover),
                mime_type="image/jpeg",
                width=800,
                height=450,
                size_bytes=cover.stat().st_size,
            ),
        )
        art = loa.store.articles.submit(parsed, actor).article
        approve_article(loa, art.id, actor)
    approved_at = time.time()
    loa.store.engine.dispose()
    start_in = slot.timestamp() - time.time() - lead
    if start_in < 0:
        print(
            f"  approvals ended {-start_in:.1f} s too late: the service starts less than {lead} s before the slot"
        )
    time.sleep(max(start_in, 0))  # the service starts fresh, ``lead`` seconds before the slot
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "loa"),
            "--config",
            str(work / "config.toml"),
            *(["-v"] if os.environ.get("SLOT_TIMELINE") else []),
            "run",
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "run.log", "w"),  # noqa: SIM115 - the service's log, kept open
    )
    deadline = slot.timestamp() + 60
    try:
        # Poll nothing around the slot: the sandboxes serve from this process's threads.
        time.sleep(max(slot.timestamp() + 4 * latency + 0.5 - time.time(), 0))
        while time.time() < deadline:
            time.sleep(0.2)
            states = [d.state for a in loa.store.articles.list() for d in a.deliveries]
            if len(states) == 3 * k and all(s == "sent" for s in states):
                break
        else:
            print(f"  not every delivery was sent in time; see {work / 'run.log'}")
        follow_deadline = time.time() + 15  # reads left for after the posts (permalink, link)
        while time.time() < follow_deadline and any(
            r.get("follow_up")
            for a in loa.store.articles.list()
            for r in loa.store.articles.draft_inputs(a.id)[1].values()
        ):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    t_slot = slot.timestamp()
    dependents = [
        t
        for box, pat in ((boxes.facebook, r".*/feed$"), (boxes.zalo, r".*/article/create$"))
        for t, m, p in box.request_log
        if m == "POST" and re.fullmatch(pat, p)
    ]
    last = max(dependents) + latency if len(dependents) == 2 * k else float("nan")
    last_post = max(dependents, default=float("inf")) + 0.001
    if os.environ.get("SLOT_TIMELINE"):  # each platform request's arrival, in ms after the slot
        for name, box in (
            ("website", boxes.website),
            ("facebook", boxes.facebook),
            ("zalo", boxes.zalo),
        ):
            print(
                f"  {name}: "
                + ", ".join(
                    f"{(t - slot.timestamp()) * 1000:.0f} {m} {p.rsplit('/', 1)[-1]}"
                    for t, m, p in box.request_log
                    if t >= slot.timestamp() - 1
                )
            )
    calls: dict[str, dict[str, Counter[str]]] = {}
    for name, box in (
        ("website", boxes.website),
        ("facebook", boxes.facebook),
        ("zalo", boxes.zalo),
    ):
        calls[name] = {
            "approval": Counter(),
            "before": Counter(),
            "slot": Counter(),
            "after": Counter(),
        }
        for t, m, p in box.request_log:
            if p.startswith(("/_sandbox/", "/wp-content/")):  # control; Zalo fetching the cover
                continue
            phase = (
                "after"
                if t > last_post
                else "slot"
                if t >= t_slot - 0.001
                else "approval"
                if t <= approved_at
                else "before"
            )
            calls[name][phase][kind(m, p)] += 1
    boxes.stop()
    recorded: dict[str, Counter[str]] = {}  # Loa's own count per delivery (issue 16), if any
    for a in loa.store.articles.list():
        channel_of = {d.id: d.channel for d in a.deliveries}
        for delivery_id, kinds in loa.store.preparations.calls_of_article(a.id).items():
            recorded.setdefault(channel_of[delivery_id], Counter()).update(kinds)
    return {"ratio": (last - t_slot) / (2 * latency), "calls": calls, "recorded": recorded}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=4)
    ap.add_argument("--latency", type=float, default=0.25)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--lead", type=float, default=10.0, help="seconds the service starts before the slot"
    )
    ap.add_argument("--media-ahead", action="store_true")
    args = ap.parse_args()
    k = min(args.articles, len(TOPICS))
    ratios, totals, recorded = [], {}, {}
    for run in range(args.runs):
        r = one_run(k, args.latency, args.media_ahead, args.lead)
        ratios.append(r["ratio"])
        for name, c in r["recorded"].items():  # type: ignore[union-attr]
            recorded.setdefault(name, Counter()).update(c)
        print(f"run {run + 1}: slot to last dependent post = {r['ratio']:.3f} × 2L")
        for name, phases in r["calls"].items():  # type: ignore[union-attr]
            for phase, c in phases.items():
                totals.setdefault(name, {}).setdefault(phase, Counter()).update(c)
    print(
        f"\n{k} articles in one slot, L = {args.latency * 1000:.0f} ms, {args.runs} runs, "
        f"media ahead: {'yes' if args.media_ahead else 'no'}"
    )
    print(
        f"slot to live / 2L: median {statistics.median(ratios):.3f}, worst {max(ratios):.3f} "
        "(target: median <= 1.15, worst <= 1.3)"
    )
    posts = k * args.runs
    print(
        "calls per post (approval: during approve; before: service start to slot; slot: slot to the last "
        "dependent post; after: later reads):"
    )
    for name, phases in totals.items():
        line = ", ".join(f"{phase} {sum(c.values()) / posts:.2f}" for phase, c in phases.items())
        print(f"  {name}: {line}")
        for phase, c in phases.items():
            for what, n in sorted(c.items()):
                print(f"      {phase:8} {what}: {n / posts:.2f}")
    print("calls per post as Loa recorded them per delivery (`loa show`):")
    for name, c in sorted(recorded.items()):
        print(
            f"  {name}: {sum(c.values()) / posts:.2f} ("
            + ", ".join(f"{what} {n / posts:.2f}" for what, n in sorted(c.items()))
            + ")"
        )
    if not recorded:
        print("  none recorded (code without per-delivery metering in the dispatcher)")


if __name__ == "__main__":
    main()
