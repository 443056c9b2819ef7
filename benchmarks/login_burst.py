"""A login burst against a real ``loa run``: guesses checked and the process's peak memory.

    .venv/bin/python benchmarks/login_burst.py [--tries 120] [--db postgresql://…]

Starts the sandboxes and ``loa run`` (its web page on a free local port) in a throw-away folder,
then, each burst posted at the same moment from its own thread:

1. one address, one real account: ``tries - 1`` wrong passwords and the right one;
2. one address, ``tries`` different names (a spray);
3. ``tries`` addresses (``X-Forwarded-For`` from 127.0.0.1, which uvicorn trusts), one unknown
   name, while a viewer loads ``/lich``.

For each it prints the answers by status, how many passwords were checked (the audit's
``web_login_failed`` + ``web_login`` rows for real accounts; 401 + 303 answers for all), and
``loa run``'s resident memory: before, peak during (sampled every 20 ms) and VmHWM at the end.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))

from _service import PASSWORD, Running, Sampler, loa_run  # noqa: E402


def _view(viewer: requests.Session, base: str, took: list[float]) -> None:
    started = time.monotonic()
    viewer.get(f"{base}/lich", timeout=120)
    took.append(time.monotonic() - started)


def burst(run: Running, tries: list[tuple[str | None, str, str]]) -> Counter[int]:
    prepared = [(*run.session(a), name, pw) for a, name, pw in tries]
    gate = threading.Barrier(len(prepared))

    def post(item: tuple) -> int:  # type: ignore[type-arg]
        s, headers, token, name, pw = item
        gate.wait()
        r = s.post(
            f"{run.base}/dang-nhap",
            data={"csrf": token, "username": name, "password": pw},
            headers={**headers, "origin": run.base},
            allow_redirects=False,
            timeout=120,
        )
        return r.status_code

    with ThreadPoolExecutor(len(prepared)) as pool:
        return Counter(pool.map(post, prepared))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=120)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with loa_run({"lan": "admin", "xem": "viewer"}, db=args.db) as run:
        print(f"loa run pid {run.proc.pid}: RSS before {run.rss_kb() / 1024:.0f} MB")
        viewer = run.login("xem")
        n = args.tries
        scenarios = {
            "one address, one account (right password last)": [
                *[("10.1.1.1", "lan", f"sai-{i}") for i in range(n - 1)],
                ("10.1.1.1", "lan", PASSWORD),
            ],
            "one address, a spray of names": [("10.2.2.2", f"ten-{i}", "sai") for i in range(n)],
            "many addresses, one unknown name": [
                (f"10.3.{i // 250}.{i % 250 + 1}", "khong-co", "sai") for i in range(n)
            ],
        }
        for label, tries in scenarios.items():
            before = [e["action"] for e in run.loa.store.audit.audit_entries()]
            sampler = Sampler(run)
            sampler.start()
            lich: list[float] = []
            side = threading.Thread(target=_view, args=(viewer, run.base, lich))
            started = time.monotonic()
            side.start()
            codes = burst(run, tries)
            side.join()
            peak = sampler.stop()
            after = [e["action"] for e in run.loa.store.audit.audit_entries()]
            audited = sum(
                after.count(a) - before.count(a) for a in ("web_login_failed", "web_login")
            )
            print(
                f"{label}: {len(tries)} tries in {time.monotonic() - started:.1f} s; "
                f"answers {dict(sorted(codes.items()))}; checked {codes[401] + codes[303]} "
                f"(audited for real accounts: {audited}); /lich took {lich[0]:.2f} s; "
                f"peak RSS {peak / 1024:.0f} MB"
            )
        print(f"loa run VmHWM (peak over its life): {run.rss_kb('VmHWM') / 1024:.0f} MB")


if __name__ == "__main__":
    main()
