"""Uploads do not stall the page: 60 uploads at once against a real ``loa run``.

    .venv/bin/python benchmarks/upload_burst.py [--uploads 60] [--editors 6]

Six editors each send ten realistic .docx files (3 MB, 4 photos) at the same moment while a
viewer loads ``/lich`` every 0.2 s and an admin loads the pending queue. Prints the answers by
status (200 taken, 429 "Hệ thống đang bận"), the page latencies during the burst (p50, p95, max)
and ``loa run``'s peak memory (workers are separate processes and not counted).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))

from _service import Sampler, loa_run  # noqa: E402
from ingest import MB, realistic_docx  # noqa: E402


def _watch(session: requests.Session, url: str, stop: threading.Event, took: list[float]) -> None:
    while not stop.is_set():
        started = time.monotonic()
        session.get(url, timeout=120)
        took.append(time.monotonic() - started)
        stop.wait(0.2)


def _figures(took: list[float]) -> str:
    q = statistics.quantiles(took, n=20, method="inclusive") if len(took) >= 2 else took * 19
    return f"p50 {statistics.median(took):.2f} s, p95 {q[18]:.2f} s, max {max(took):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=60)
    parser.add_argument("--editors", type=int, default=6)
    args = parser.parse_args()
    docx = realistic_docx(Path(tempfile.mkdtemp()) / "bai.docx", photos=4, target_bytes=3 * MB)
    content = docx.read_bytes()
    editors = [f"bien-tap-{i}" for i in range(args.editors)]
    users = {"xem": "viewer", "lan": "admin", **dict.fromkeys(editors, "editor")}
    with loa_run(users) as run:
        sessions = {name: run.login(name) for name in editors}
        forms = {
            name: re.search(  # type: ignore[union-attr]
                r'name="csrf" value="([^"]+)"', s.get(f"{run.base}/nop-bai").text
            ).group(1)
            for name, s in sessions.items()
        }
        stop = threading.Event()
        lich: list[float] = []
        queue: list[float] = []
        watchers = [
            threading.Thread(
                target=_watch, args=(run.login("xem"), f"{run.base}/lich", stop, lich)
            ),
            threading.Thread(
                target=_watch, args=(run.login("lan"), f"{run.base}/cho-duyet", stop, queue)
            ),
        ]
        for w in watchers:
            w.start()
        time.sleep(1.0)
        idle = list(lich)
        gate = threading.Barrier(args.uploads)

        def upload(n: int) -> int:
            name = editors[n % len(editors)]
            gate.wait()
            r = sessions[name].post(
                f"{run.base}/nop-bai",
                data={"csrf": forms[name]},
                files={"file": (f"bai-{n}.docx", content)},
                headers={"origin": run.base},
                timeout=600,
            )
            return r.status_code

        sampler = Sampler(run)
        sampler.start()
        started = time.monotonic()
        lich.clear()
        queue.clear()
        with ThreadPoolExecutor(args.uploads) as pool:
            codes = Counter(pool.map(upload, range(args.uploads)))
        wall = time.monotonic() - started
        stop.set()
        for w in watchers:
            w.join()
        peak = sampler.stop()
        print(f"{args.uploads} uploads of {len(content) / MB:.1f} MB by {args.editors} editors")
        print(f"answers {dict(sorted(codes.items()))} in {wall:.1f} s")
        print(f"/lich before: {_figures(idle)}; during: {_figures(lich)} ({len(lich)} loads)")
        print(f"/cho-duyet during: {_figures(queue)} ({len(queue)} loads)")
        print(f"loa run peak RSS {peak / 1024:.0f} MB")


if __name__ == "__main__":
    main()
