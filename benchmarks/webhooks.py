"""Webhook to 200: how long `POST /hooks/zalo` takes, verified and stored, through real HTTP.

    .venv/bin/python benchmarks/webhooks.py [--db postgresql://postgres@127.0.0.1:5432/test]
        [--events 2000] [--clients 8]

Serves the real web app with uvicorn on 127.0.0.1 (as `loa run` does), and POSTs signed Zalo
events (each a new msg_id, as citizens write) from one client, then from ``--clients`` clients at
once, while the `citizens` job answers them in the background as in production. Prints p50/p95/p99
of the time from sending the request to receiving the 200 (the platform's view), and how many
events were stored. On PostgreSQL the data goes to a throw-away schema, dropped after.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))

from bot.citizens import CitizenJob  # noqa: E402
from bot.context import Loa  # noqa: E402
from bot.devtools.sandboxes import Sandboxes  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.web.app import build_app  # noqa: E402
from content_queue.db import normalise_url  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--no-job", action="store_true", help="only the hooks, no answering beside")
    args = ap.parse_args()
    schema = None
    url = "sqlite:///loa.db"
    if args.db:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(normalise_url(args.db))
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{args.db}?options=-csearch_path%3D{schema}"
    boxes = Sandboxes.start()
    work = Path(tempfile.mkdtemp(prefix="loa-bench-"))
    port = _port()
    (work / "config.toml").write_text(
        f'[database]\nurl = "{url}"\n[web]\nlisten = "127.0.0.1:{port}"\n'
        '[assistant]\nenabled = true\nchannels = ["zalo"]\n' + boxes.channels_toml(),
        "utf-8",
    )
    for line in boxes.env_text().splitlines():
        k, v = line.split("=", 1)
        os.environ[k] = v
    loa = Loa(load_settings(work / "config.toml"))
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(loa),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    hook = f"http://127.0.0.1:{port}/hooks/zalo"
    inbox = boxes.zalo.inbox
    stop = threading.Event()
    job = CitizenJob(loa, owner="bench")

    def answering() -> None:  # the citizens job answers while the hooks take new events
        while not stop.is_set():
            try:
                job.tick()
            except Exception as exc:  # keep measuring; say what happened
                print("job:", exc)
            time.sleep(0.5)

    worker = threading.Thread(target=answering, daemon=True)
    if not args.no_job:
        worker.start()

    local = threading.local()

    def one(i: int) -> float:
        session = getattr(local, "s", None)
        if session is None:
            session = local.s = requests.Session()
        body, headers = inbox.signed(f"84{i:014d}", "thu tuc hop phap hoa lanh su can giay to gi?")
        start = time.perf_counter()
        r = session.post(hook, data=body, headers=headers, timeout=10)
        took = time.perf_counter() - start
        if r.status_code != 200:
            raise SystemExit(f"webhook answered {r.status_code}: {r.text}")
        return took * 1000

    try:
        for _ in range(20):  # warm-up (imports, first connections)
            one(10**9 + _)
        n = args.events
        seq = [one(i) for i in range(n)]
        with ThreadPoolExecutor(args.clients) as pool:
            par = list(pool.map(one, range(n, 2 * n)))
        stored = len(loa.store.citizens.events())
        db = "PostgreSQL" if args.db else "SQLite"
        for label, values in (("1 client", seq), (f"{args.clients} clients", par)):
            print(
                f"{db}, {label}: {len(values)} webhooks, p50 {statistics.median(values):.1f} ms, "
                f"p95 {_pct(values, 95):.1f} ms, p99 {_pct(values, 99):.1f} ms, "
                f"max {max(values):.1f} ms"
            )
        print(f"events stored: {stored} (expected {2 * n + 20})")
    finally:
        stop.set()
        if worker.is_alive():
            worker.join(10)
        server.should_exit = True
        boxes.stop() if hasattr(boxes, "stop") else None
        loa.store.engine.dispose()
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
