"""The web page inside ``loa run``: a busy address leaves the service running without it."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from conftest import Workspace

from bot.run import build_service


def test_a_busy_web_address_does_not_stop_the_service(
    workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with workspace.config.open("a", encoding="utf-8") as f:
            f.write(f'\n[web]\nlisten = "127.0.0.1:{port}"\nbase_url = "http://127.0.0.1:{port}"\n')
        loa = workspace.loa()
        with caplog.at_level(logging.WARNING, logger="bot.web.app"):
            asyncio.run(
                build_service(loa).run(stop_after=1.5)
            )  # returns: the service was not killed
        loa.store.engine.dispose()
    assert any("web page not started" in r.getMessage() for r in caplog.records)
