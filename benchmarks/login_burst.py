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
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bot.context import Loa
from bot.devtools.sandboxes import Sandboxes
from bot.settings import load_settings
from bot.web.passwords import hash_password
from content_queue.models import Actor
from content_queue.users import add_user

PASSWORD = "mat-khau-rat-dai-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss_kb(self.pid))
            time.sleep(0.02)


def _ready(base: str, address: str | None) -> tuple[requests.Session, dict[str, str], dict]:
    s = requests.Session()
    headers = {"x-forwarded-for": address} if address else {}
    page = s.get(f"{base}/dang-nhap", headers=headers, timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return s, headers, {"csrf": token}


def burst(base: str, tries: list[tuple[str | None, str, str]]) -> Counter[int]:
    prepared = [(*_ready(base, a), name, pw) for a, name, pw in tries]
    gate = threading.Barrier(len(prepared))

    def post(item: tuple) -> int:  # type: ignore[type-arg]
        s, headers, form, name, pw = item
        gate.wait()
        r = s.post(
            f"{base}/dang-nhap",
            data={**form, "username": name, "password": pw},
            headers={**headers, "origin": base},
            allow_redirects=False,
            timeout=120,
        )
        return r.status_code

    with ThreadPoolExecutor(len(prepared)) as pool:
        return Counter(pool.map(post, prepared))


def _view(viewer: requests.Session, base: str, took: list[float]) -> None:
    started = time.monotonic()
    viewer.get(f"{base}/lich", timeout=120)
    took.append(time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=120)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    boxes = Sandboxes.start()
    work = Path(tempfile.mkdtemp(prefix="loa-burst-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    (work / "config.toml").write_text(
        f'[database]\nurl = "{args.db or "sqlite:///loa.db"}"\n'
        f'[web]\nlisten = "127.0.0.1:{port}"\nbase_url = "{base}"\n' + boxes.channels_toml(),
        "utf-8",
    )
    env = dict(os.environ)
    for line in boxes.env_text().splitlines():
        k, v = line.split("=", 1)
        env[k] = v
        os.environ[k] = v
    loa = Loa(load_settings(work / "config.toml"))
    add_user(loa.store, "lan", "admin", hash_password(PASSWORD), Actor("bench"))
    add_user(loa.store, "xem", "viewer", hash_password(PASSWORD), Actor("bench"))
    loa_bin = Path(sys.executable).with_name("loa")
    proc = subprocess.Popen(
        [str(loa_bin), "--config", str(work / "config.toml"), "run"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/dang-nhap", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        time.sleep(1.0)
        print(f"loa run pid {proc.pid}: RSS before {_rss_kb(proc.pid) / 1024:.0f} MB")
        viewer, _, form = _ready(base, None)
        viewer.post(
            f"{base}/dang-nhap",
            data={**form, "username": "xem", "password": PASSWORD},
            headers={"origin": base},
            allow_redirects=False,
        )
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
            before = [e["action"] for e in loa.store.audit_entries()]
            sampler = Sampler(proc.pid)
            sampler.start()
            lich: list[float] = []

            side = threading.Thread(target=_view, args=(viewer, base, lich))
            started = time.monotonic()
            side.start()
            codes = burst(base, tries)
            side.join()
            sampler.running = False
            sampler.join()
            after = [e["action"] for e in loa.store.audit_entries()]
            audited = sum(
                after.count(a) - before.count(a) for a in ("web_login_failed", "web_login")
            )
            print(
                f"{label}: {len(tries)} tries in {time.monotonic() - started:.1f} s; "
                f"answers {dict(sorted(codes.items()))}; checked {codes[401] + codes[303]} "
                f"(audited for real accounts: {audited}); /lich took {lich[0]:.2f} s; "
                f"peak RSS {sampler.peak / 1024:.0f} MB"
            )
        print(f"loa run VmHWM (peak over its life): {_rss_kb(proc.pid, 'VmHWM') / 1024:.0f} MB")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        boxes.stop()


if __name__ == "__main__":
    main()
