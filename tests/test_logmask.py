"""Secrets never appear in logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.logmask import install_secret_mask
from bot.settings import load_settings


def test_configured_secrets_are_masked_in_log_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "config.toml").write_text(
        '[channels.website]\ntype = "wordpress"\nurl = "http://127.0.0.1:9/wp-json"\nusername = "loa"\n',
        "utf-8")
    monkeypatch.setenv("LOA_CHANNELS__WEBSITE__APP_PASSWORD", "very-secret-password")
    monkeypatch.setenv("LOA_TELEGRAM__TOKEN", "123456:telegram-secret-token")
    settings = load_settings(tmp_path / "config.toml")
    install_secret_mask(settings)
    caplog.handler.addFilter(logging.getLogger().handlers[-1].filters[-1])
    logging.getLogger("loa.test").warning("GET https://api/bot%s/getMe pw=%s",
                                          "123456:telegram-secret-token", "very-secret-password")
    assert "telegram-secret-token" not in caplog.text
    assert "very-secret-password" not in caplog.text
    assert "***" in caplog.text
