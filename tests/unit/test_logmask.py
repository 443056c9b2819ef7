"""Secrets never appear in logs: the formatter masks messages, arguments and tracebacks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logmask import MaskingFormatter, install_secret_mask, mask_secrets
from bot.settings import Settings, load_settings
from content_queue.channel_tokens import DbTokenStore
from content_queue.db import open_database

BOT_TOKEN = "123456789:AAHtelegramSecretTokenValue_0123456789"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    (tmp_path / "config.toml").write_text(
        '[database]\nurl = "postgresql://loa:db-pass-word-9@127.0.0.1:5432/loa"\n'
        '[channels.website]\ntype = "wordpress"\nurl = "http://127.0.0.1:9/wp-json"\n'
        'username = "loa"\n',
        "utf-8",
    )
    monkeypatch.setenv("LOA_CHANNELS__WEBSITE__APP_PASSWORD", "very-secret-password\n")
    monkeypatch.setenv("LOA_TELEGRAM__TOKEN", f" {BOT_TOKEN}\n")
    return load_settings(tmp_path / "config.toml")


@pytest.fixture
def log_output(settings: Settings) -> Iterator[io.StringIO]:
    """A root handler writing to a buffer, masked the way ``loa`` masks its handlers."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_secret_mask(settings)
        yield out
    finally:
        root.removeHandler(handler)


def test_secrets_are_stripped_when_loaded(settings: Settings) -> None:
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == BOT_TOKEN
    password = settings.parsed_channels["website"].app_password  # type: ignore[attr-defined]
    assert password.get_secret_value() == "very-secret-password"


def test_configured_secrets_are_masked_in_messages_and_arguments(log_output: io.StringIO) -> None:
    logging.getLogger("loa.test").warning(
        "GET https://api/bot%s/getMe pw=%s", BOT_TOKEN, "very-secret-password"
    )
    text = log_output.getvalue()
    assert "telegramSecretToken" not in text and "very-secret-password" not in text
    assert "GET https://api/bot***/getMe pw=***" in text


def test_a_traceback_carrying_the_bot_token_is_masked(log_output: io.StringIO) -> None:
    def call_bot_api() -> None:
        token = BOT_TOKEN
        raise ConnectionError(
            f"cannot reach https://api.telegram.org/bot{token}/getUpdates "
            f"(password for the database: db-pass-word-9)"
        )

    try:
        call_bot_api()
    except ConnectionError:
        logging.getLogger("loa.test").exception("polling failed")
    text = log_output.getvalue()
    assert "Traceback" in text and "ConnectionError" in text
    assert "telegramSecretToken" not in text and "db-pass-word-9" not in text


def test_tokens_loaded_from_the_database_are_masked(
    tmp_path: Path, log_output: io.StringIO
) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'tokens.db'}")
    try:
        DbTokenStore(engine, "zalo").save({"access_token": "zalo-access-from-the-database"})
    finally:
        engine.dispose()
    logging.getLogger("loa.test").warning("zalo said: %s", "zalo-access-from-the-database xyz")
    text = log_output.getvalue()
    assert "zalo-access-from-the-database" not in text and "zalo said: *** xyz" in text


@pytest.mark.parametrize(
    ("line", "leak", "kept"),
    [
        (
            "Authorization: Bearer EAAGm0PX4ZCpsBAKZAsecret",
            "EAAGm0PX4ZCpsBAKZAsecret",
            "Bearer ***",
        ),
        (
            "GET /v25.0/me?fields=id&access_token=EAAB123secret&x=1",
            "EAAB123secret",
            "access_token=***&x=1",
        ),
        (
            '{"access_token": "zalo-json-token", "expires_in": "90000"}',
            "zalo-json-token",
            '"expires_in": "90000"',
        ),
        ("refresh_token=abcDEF987&app_id=42", "abcDEF987", "app_id=42"),
        (
            "POST https://api.telegram.org/bot987654321:AAE-someOtherBotToken_xyz/sendMessage",
            "someOtherBotToken",
            "/bot***/sendMessage",
        ),
        (
            "token 987654321:AAE-someOtherBotToken_xyz_0123456789 leaked",
            "someOtherBotToken",
            "token *** leaked",
        ),
        (
            "connecting to postgresql+psycopg://loa:s3cr3t-pw@db.local:5432/loa",
            "s3cr3t-pw",
            "postgresql+psycopg://loa:***@db.local:5432/loa",
        ),
        (
            "Authorization: Basic bG9hOnNlY3JldC1wYXNzd29yZA==",
            "bG9hOnNlY3JldC1wYXNzd29yZA",
            "Basic ***",
        ),
    ],
)
def test_credential_shaped_strings_are_masked(line: str, leak: str, kept: str) -> None:
    masked = mask_secrets(line, [])
    assert leak not in masked and kept in masked


def test_ordinary_text_is_left_alone() -> None:
    line = "Đã đăng bài #12 lên facebook lúc 08:30; https://example.gov.vn/tin-tuc/bai-12"
    assert mask_secrets(line, ["short"]) == line


def test_installing_twice_does_not_wrap_twice(settings: Settings, log_output: io.StringIO) -> None:
    install_secret_mask(settings)
    formatters = [h.formatter for h in logging.getLogger().handlers]
    assert all(not isinstance(getattr(f, "inner", None), MaskingFormatter) for f in formatters)
