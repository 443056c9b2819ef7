"""A real ``loa run`` (web page on a free local port) in a throw-away folder, on the sandboxes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from bot.context import Loa
from bot.devtools.sandboxes import Sandboxes
from bot.settings import load_settings
from bot.web.passwords import hash_password
from content_queue.models import Actor

PASSWORD = "mat-khau-rat-dai-2026"


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    base: str
    loa: Loa
    work: Path

    def rss_kb(self, field: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def session(self, address: str | None = None) -> tuple[requests.Session, dict[str, str], str]:
        """A client with the login form's CSRF cookie: (session, headers, csrf token)."""
        s = requests.Session()
        headers = {"x-forwarded-for": address} if address else {}
        page = s.get(f"{self.base}/dang-nhap", headers=headers, timeout=30)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        return s, headers, token

    def login(self, name: str) -> requests.Session:
        s, headers, token = self.session()
        r = s.post(
            f"{self.base}/dang-nhap",
            data={"csrf": token, "username": name, "password": PASSWORD},
            headers={**headers, "origin": self.base},
            allow_redirects=False,
            timeout=60,
        )
        assert r.status_code == 303, r.status_code
        return s


class Sampler(threading.Thread):
    """The peak of ``loa run``'s resident memory, sampled every 20 ms."""

    def __init__(self, running: Running) -> None:
        super().__init__(daemon=True)
        self.running, self.peak, self.on = running, 0, True

    def run(self) -> None:
        while self.on:
            self.peak = max(self.peak, self.running.rss_kb())
            time.sleep(0.02)

    def stop(self) -> int:
        self.on = False
        self.join()
        return self.peak


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def loa_run(
    users: dict[str, str], extra_toml: str = "", db: str | None = None
) -> Iterator[Running]:
    """``loa run`` with ``users`` (name → role) and ``extra_toml`` appended to its config."""
    boxes = Sandboxes.start()
    work = Path(tempfile.mkdtemp(prefix="loa-bench-run-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    (work / "config.toml").write_text(
        f'[database]\nurl = "{db or "sqlite:///loa.db"}"\n'
        f'[web]\nlisten = "127.0.0.1:{port}"\nbase_url = "{base}"\n'
        + extra_toml
        + "\n"
        + boxes.channels_toml(),
        "utf-8",
    )
    env = dict(os.environ)
    for line in boxes.env_text().splitlines():
        k, v = line.split("=", 1)
        env[k] = os.environ[k] = v
    loa = Loa(load_settings(work / "config.toml"))
    for name, role in users.items():
        loa.store.users.add_user(name, role, hash_password(PASSWORD), Actor("bench"))
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("loa")), "--config", str(work / "config.toml"), "run"],
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
        yield Running(proc, base, loa, work)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        boxes.stop()
