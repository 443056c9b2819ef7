"""The web page inside ``loa run``: a busy address leaves the service running without it."""

from __future__ import annotations

import asyncio
import io
import logging
import socket

import pytest
from conftest import Workspace

from bot.logmask import install_secret_mask
from bot.run import build_service
from bot.web.app import build_app, uvicorn_config


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


def test_uvicorns_error_log_is_masked_like_loas(
    workspace: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    loa = workspace.loa()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_secret_mask(loa.settings)
        uvicorn_config(build_app(loa))  # configures uvicorn's loggers, as serve_web does
        try:
            raise RuntimeError("GET https://api.example/x?access_token=EAAGsecret123")
        except RuntimeError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    finally:
        root.removeHandler(handler)
        loa.store.engine.dispose()
    written = out.getvalue() + capfd.readouterr().err
    assert "Exception in ASGI application" in out.getvalue()
    assert "EAAGsecret123" not in written
