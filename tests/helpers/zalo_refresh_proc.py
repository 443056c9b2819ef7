"""Run one Zalo token refresh in a process of its own, for the crash and concurrency tests.

Usage: ``python zalo_refresh_proc.py DATABASE_URL SANDBOX_URL``

It builds the real adapter over the real database token store and calls
``ZaloOAChannel.refresh_access_token`` with a checkpoint callback that prints ``STEP <name>`` at
every step. Environment:

- ``LOA_TEST_CRASH_AT=<step>``: at that step print ``PAUSED <step>`` and wait to be killed
  (the test sends SIGKILL: the process dies exactly there).
- ``LOA_TEST_PAUSE_AT=<step>`` with ``LOA_TEST_GO_FILE=<path>``: at that step print
  ``PAUSED <step>`` and wait until the file exists, then go on.

Ends with ``RESULT <fingerprint of the access token>`` (exit 0) or ``ERROR <class> <message>``
(exit 3).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from channels.base import ChannelError
from channels.sandbox.zalo import ZaloSandbox
from channels.zalo_oa import ZaloOAChannel, ZaloOASettings
from channels.zalo_tokens import token_fingerprint
from content_queue.channel_tokens import DbTokenStore
from content_queue.db import create_engine_for


def main(database_url: str, sandbox_url: str) -> int:
    crash_at = os.environ.get("LOA_TEST_CRASH_AT")
    pause_at = os.environ.get("LOA_TEST_PAUSE_AT")
    go_file = Path(os.environ.get("LOA_TEST_GO_FILE", "/nonexistent"))

    def checkpoint(step: str) -> None:
        print(f"STEP {step}", flush=True)
        if step == crash_at:
            print(f"PAUSED {step}", flush=True)
            while True:  # until SIGKILL
                time.sleep(1)
        if step == pause_at:
            print(f"PAUSED {step}", flush=True)
            while not go_file.exists():
                time.sleep(0.01)

    settings = ZaloOASettings(
        api_url=sandbox_url,
        oauth_url=sandbox_url,
        app_id=ZaloSandbox.APP_ID,
        app_secret=ZaloSandbox.APP_SECRET,
        refresh_token=ZaloSandbox.INITIAL_REFRESH_TOKEN,
        timeout_seconds=30,
    )
    engine = create_engine_for(database_url)  # the test migrated it already
    try:
        channel = ZaloOAChannel("zalo", settings, token_store=DbTokenStore(engine, "zalo"))
        try:
            token = channel.refresh_access_token(checkpoint=checkpoint)
        except ChannelError as e:
            print(f"ERROR {type(e).__name__} {e.message}", flush=True)
            return 3
        print(f"RESULT {token_fingerprint(token)}", flush=True)
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
