"""Overhead: Loa's own CPU time per delivery against zero-latency sandboxes in another process.

    .venv/bin/python benchmarks/overhead.py [--deliveries 10000]

The sandboxes run in a child process so their CPU is not counted; the figure is this process's
user+system CPU (dispatcher, adapters, database, HTTP client) divided by the deliveries posted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.context import Loa
from bot.run import build_dispatcher
from bot.settings import load_settings
from content_queue.models import Actor, ParsedArticle
from content_queue.store import ChannelPlan

CHILD = """
import json, sys, time
from bot.devtools.sandboxes import Sandboxes
b = Sandboxes.start()
print(json.dumps({"toml": b.channels_toml(), "env": b.env_text()}), flush=True)
time.sleep(3600)
"""


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=10_000)
    args = ap.parse_args()
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(child.stdout.readline())  # type: ignore[union-attr]
        work = Path(tempfile.mkdtemp(prefix="loa-overhead-"))
        # website only: one call chain per delivery
        toml = (
            "[channels.website]"
            + info["toml"].split("[channels.website]")[1].split("[channels.facebook]")[0]
        )
        (work / "config.toml").write_text('[database]\nurl = "sqlite:///loa.db"\n' + toml, "utf-8")
        for line in info["env"].splitlines():
            k, v = line.split("=", 1)
            if "WEBSITE" in k:
                os.environ[k] = v
        loa = Loa(load_settings(work / "config.toml"))
        actor = Actor("bench", "cli")
        now = datetime.now(UTC)
        for i in range(args.deliveries):
            a = loa.store.articles.submit(
                ParsedArticle(
                    title=f"Bài đo chi phí số {i}",
                    summary="Tóm tắt.",
                    body_html="<p>Nội dung.</p>",
                    body_text="Nội dung.",
                    topic="h",
                    content_hash=f"o-{i}-{time.time()}",
                ),
                actor,
            ).article
            loa.store.articles.approve(a.id, actor, now, [ChannelPlan("website")])
        d = build_dispatcher(loa)
        c0, t0 = cpu(), time.perf_counter()
        n = d.tick()
        c1, t1 = cpu(), time.perf_counter()
        d.close()
        print(
            f"deliveries: {n}; CPU per delivery {(c1 - c0) / n * 1000:.2f} ms "
            f"(wall {t1 - t0:.1f} s; one WordPress call each once term ids are cached)"
        )
    finally:
        child.kill()


if __name__ == "__main__":
    main()
