"""Every command Loa tells a person to type is run, on the command line and in the chat.

The instructions come from :mod:`bot.instructions` (and, for a hand-off post, from the package's
``HUONG-DAN.txt``); each is executed as a person would (the CLI through typer's runner, the chat
through the Telegram Bot API sandbox) and must act on the delivery it names, and on no other.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import make_cover, parsed_article
from test_telegram_bot import BotThread, wait_until
from typer.testing import CliRunner

from bot.approval import approve_article
from bot.cli.main import app
from bot.context import Loa
from bot.instructions import URL_PLACEHOLDER, either, instruction
from bot.run import build_dispatcher
from bot.settings import load_settings
from bot.telegram import texts
from bot.telegram.handlers import COMMANDS
from channels.sandbox.facebook import FacebookSandbox
from channels.sandbox.telegram import TelegramSandbox
from channels.sandbox.zalo import ZaloSandbox
from content_queue.models import Actor
from content_queue.tables import deliveries

ADMIN = 111
LOA = Path(sys.executable).with_name("loa")


@dataclass
class Desk:
    """A workspace with a hand-off website, Facebook and Zalo, and the bot in the chat."""

    config: Path
    loa: Loa
    tg: TelegramSandbox
    fb: FacebookSandbox
    zalo: ZaloSandbox

    def article(self, title: str) -> int:
        cover = make_cover(self.config.parent / f"bia-{len(title)}.jpg")
        article_id = self.loa.store.articles.submit(
            parsed_article(title, cover=cover), Actor("ed", "cli")
        ).article.id
        approve_article(self.loa, article_id, Actor("admin", "cli"), now=True)
        return article_id

    def states(self, article_id: int) -> dict[str, str]:
        return {d.channel: d.state for d in self.loa.store.articles.get(article_id).deliveries}

    def set_state(self, article_id: int, channel: str, state: str) -> None:
        """Put one delivery where a platform failure would leave it (arranging, not acting)."""
        with self.loa.store.engine.begin() as conn:
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.article_id == article_id, deliveries.c.channel == channel)
                .values(state=state)
            )

    def tick(self) -> None:
        dispatcher = build_dispatcher(self.loa)
        try:
            dispatcher.tick()
        finally:
            dispatcher.close()

    def alert(self, key: str) -> str:
        (text,) = [str(a["message"]) for a in self.loa.notifier.open_alerts() if a["key"] == key]
        return text

    def run(self, text: str, surface: str) -> str:
        """Type ``text`` where it was meant to be typed; returns what Loa answered."""
        if surface == "cli":
            words = shlex.split(text)
            assert words[0] == "loa", text
            res = CliRunner().invoke(app, ["-c", str(self.config), *words[1:]])
            return res.output + (str(res.exception) if res.exception else "")
        assert text.startswith("/"), text
        before = len(self.tg.sent)
        self.tg.send_user_message(ADMIN, text)
        # The bot's answer; an approval card (buttons) posted meanwhile is not one.
        return wait_until(
            lambda: next(
                (
                    m["text"]
                    for m in self.tg.sent[before:]
                    if m["chat"]["id"] == TelegramSandbox.CHAT_ID
                    and "text" in m
                    and not m.get("markup")
                ),
                None,
            )
        )


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    for key in [k for k in os.environ if k.startswith("LOA_") and k != "LOA_SECRET_KEY"]:
        monkeypatch.delenv(key)
    fb, zalo, tg = FacebookSandbox(), ZaloSandbox(), TelegramSandbox()
    for box in (fb, zalo, tg):
        box.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "loa.db"}"

[telegram]
api_url = "{tg.url}"
admins = [{ADMIN}]
chat_id = {tg.CHAT_ID}

[channels.website]
type = "handoff"
folder = "{tmp_path / "goi-bai"}"

[channels.facebook]
type = "facebook_page"
page_id = "{fb.PAGE_ID}"
graph_url = "{fb.url}"
api_version = "{fb.LATEST_VERSION}"
after = "website"

[channels.zalo]
type = "zalo_oa"
api_url = "{zalo.url}"
oauth_url = "{zalo.url}"
app_id = "{zalo.APP_ID}"
after = "website"
""",
        "utf-8",
    )
    monkeypatch.setenv("LOA_TELEGRAM__TOKEN", tg.TOKEN)
    monkeypatch.setenv("LOA_CHANNELS__FACEBOOK__PAGE_TOKEN", fb.PAGE_TOKEN)
    monkeypatch.setenv("LOA_CHANNELS__ZALO__APP_SECRET", zalo.APP_SECRET)
    monkeypatch.setenv("LOA_CHANNELS__ZALO__REFRESH_TOKEN", zalo.INITIAL_REFRESH_TOKEN)
    loa = Loa(load_settings(config))
    bot = BotThread(loa)
    bot.start()
    try:
        yield Desk(config, loa, tg, fb, zalo)
    finally:
        try:
            bot.stop()
        finally:
            for box in (fb, zalo, tg):
                box.stop()
            loa.store.engine.dispose()


SURFACES = ["cli", "telegram"]


@pytest.mark.parametrize("surface", SURFACES)
def test_the_hand_off_guide_tells_a_command_that_records_the_url(desk: Desk, surface: str) -> None:
    article_id = desk.article("Hướng dẫn đăng thủ công lên trang thông tin")
    desk.tick()
    assert desk.states(article_id)["website"] == "awaiting_url"
    (guide,) = (desk.config.parent / "goi-bai").glob("*/HUONG-DAN.txt")
    where = "trên máy chủ: " if surface == "cli" else "trong nhóm Telegram: "
    (line,) = [x.split(where, 1)[1] for x in guide.read_text("utf-8").splitlines() if where in x]
    assert line == instruction(
        "confirm", article_id, "website", url=URL_PLACEHOLDER, surface=surface
    )  # type: ignore[arg-type]
    url = f"https://songoaivu.example.gov.vn/tin-tuc/bai-{article_id}"
    answer = desk.run(line.replace(URL_PLACEHOLDER, url), surface)
    website = next(
        d for d in desk.loa.store.articles.get(article_id).deliveries if d.channel == "website"
    )
    assert (website.state, website.url) == ("sent", url), answer
    assert desk.states(article_id)["facebook"] == "waiting"


@pytest.mark.parametrize("surface", SURFACES)
def test_each_delivery_instruction_acts_on_the_delivery_it_names(desk: Desk, surface: str) -> None:
    article_id = desk.article("Cải cách hành chính: thử lại, xác nhận, chưa đăng")
    desk.set_state(article_id, "website", "sent")
    desk.set_state(article_id, "facebook", "failed")
    desk.set_state(article_id, "zalo", "in_doubt")

    desk.run(instruction("retry", article_id, "facebook", surface=surface), surface)  # type: ignore[arg-type]
    assert desk.states(article_id) == {"website": "sent", "facebook": "retry", "zalo": "in_doubt"}
    desk.run(instruction("notposted", article_id, "zalo", surface=surface), surface)  # type: ignore[arg-type]
    assert desk.states(article_id) == {"website": "sent", "facebook": "retry", "zalo": "retry"}

    # Two deliveries fit and no channel is named: the answer lists commands, each one works.
    desk.set_state(article_id, "facebook", "in_doubt")
    desk.set_state(article_id, "zalo", "in_doubt")
    answer = desk.run(instruction("confirm", article_id, surface=surface), surface)  # type: ignore[arg-type]
    assert "Hãy ghi rõ kênh" in answer, answer
    assert desk.states(article_id) == {
        "website": "sent",
        "facebook": "in_doubt",
        "zalo": "in_doubt",
    }
    prefix = "loa confirm" if surface == "cli" else "/confirm"
    choices = re.findall(rf"{re.escape(prefix)} {article_id} [a-z]+", answer)
    assert choices == [
        instruction("confirm", article_id, ch, surface=surface)  # type: ignore[arg-type]
        for ch in ("facebook", "zalo")
    ]
    desk.run(choices[1], surface)
    assert desk.states(article_id) == {"website": "sent", "facebook": "in_doubt", "zalo": "sent"}

    # One delivery fits: the channel may be left out.
    desk.run(instruction("confirm", article_id, surface=surface), surface)  # type: ignore[arg-type]
    assert desk.states(article_id) == {"website": "sent", "facebook": "sent", "zalo": "sent"}


@pytest.mark.parametrize("surface", SURFACES)
def test_an_instruction_that_does_not_fit_says_why_and_changes_nothing(
    desk: Desk, surface: str
) -> None:
    article_id = desk.article("Bài chưa đăng, không có gì để thử lại")
    before = desk.states(article_id)
    answer = desk.run(instruction("retry", article_id, "facebook", surface=surface), surface)  # type: ignore[arg-type]
    assert "không cần đăng lại" in answer
    answer = desk.run(instruction("retry", article_id, "tiktok", surface=surface), surface)  # type: ignore[arg-type]
    assert "không có lượt đăng lên kênh “tiktok”" in answer
    answer = desk.run(
        instruction("confirm", article_id, "website", url="ftp://x", surface=surface), surface
    )  # type: ignore[arg-type]
    assert "https://" in answer
    assert desk.states(article_id) == before


@pytest.mark.parametrize("surface", SURFACES)
def test_channel_and_article_instructions_act_on_what_they_name(desk: Desk, surface: str) -> None:
    kept, withdrawn = desk.article("Bài giữ lại"), desk.article("Bài rút lại")
    desk.run(instruction("withdraw", withdrawn, surface=surface), surface)  # type: ignore[arg-type]
    assert desk.loa.store.articles.get(withdrawn).state == "withdrawn"
    assert desk.loa.store.articles.get(kept).state == "approved"
    desk.run(instruction("pause", channel="zalo", surface=surface), surface)  # type: ignore[arg-type]
    assert desk.loa.store.channels.channel_status("zalo").paused
    assert not desk.loa.store.channels.channel_status("facebook").paused
    desk.run(instruction("resume", channel="zalo", surface=surface), surface)  # type: ignore[arg-type]
    assert not desk.loa.store.channels.channel_status("zalo").paused


def commands_in(text: str) -> list[tuple[str, str]]:
    """Every (surface, command) an alert tells a person to type."""
    found = [("cli", c) for c in re.findall(r"`(loa [^`]+)`", text)]
    found += [
        ("telegram", c.rstrip("."))
        for c in re.findall(r"(?:^|[\s(])(/[a-z]+(?: (?!hoặc)[A-Za-z0-9_:/.-]+)*)", text)
    ]
    return found


def _website_sent(desk: Desk, article_id: int) -> None:
    desk.tick()  # the hand-off package is made; the website post waits for its URL
    desk.run(
        instruction(
            "confirm", article_id, "website", url="https://example.gov.vn/bai", surface="cli"
        ),
        "cli",
    )
    assert desk.states(article_id)["website"] == "sent"


def test_every_command_a_failed_post_alert_tells_acts_on_that_delivery(desk: Desk) -> None:
    article_id = desk.article("Bài Facebook từ chối vì bị coi là spam")
    _website_sent(desk, article_id)
    desk.fb.inject("spam", path=r"/feed$")
    desk.tick()
    failed = next(
        d for d in desk.loa.store.articles.get(article_id).deliveries if d.channel == "facebook"
    )
    assert failed.state == "failed"
    commands = commands_in(desk.alert(f"failed:{failed.id}"))
    assert {surface for surface, _ in commands} == {"cli", "telegram"}, commands
    for surface, command in commands:
        desk.set_state(article_id, "facebook", "failed")
        desk.run(command, surface)
        assert desk.states(article_id)["facebook"] == "retry", (surface, command)


def test_every_command_an_in_doubt_alert_tells_acts_on_that_delivery(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOA_SCHEDULE__RETRY_BASE_SECONDS", "0.1")
    monkeypatch.setenv("LOA_SCHEDULE__RECONCILE_AFTER_SECONDS", "0.2")
    quick = Loa(load_settings(desk.config))
    article_id = desk.article("Bài Facebook không xác định được đã đăng hay chưa")
    _website_sent(desk, article_id)
    desk.fb.inject("drop_after", path=r"/feed$", method="POST")  # posted, answer lost

    def tick() -> None:
        dispatcher = build_dispatcher(quick)
        try:
            dispatcher.tick()
        finally:
            dispatcher.close()

    tick()
    assert desk.states(article_id)["facebook"] == "retry"
    for i in range(1001):  # more posts since then than a look reads: it cannot tell
        desk.fb.add_post(f"Bài khác số {i}")
    wait_until(lambda: tick() or desk.states(article_id)["facebook"] == "in_doubt")
    quick.store.engine.dispose()
    delivery = next(
        d for d in desk.loa.store.articles.get(article_id).deliveries if d.channel == "facebook"
    )
    commands = commands_in(desk.alert(f"in_doubt:{delivery.id}"))
    assert {surface for surface, _ in commands} == {"cli", "telegram"}, commands
    for surface, command in commands:
        desk.set_state(article_id, "facebook", "in_doubt")
        desk.run(command, surface)
        expected = "sent" if "confirm" in command else "retry"
        assert desk.states(article_id)["facebook"] == expected, (surface, command)


def test_every_command_an_auth_alert_tells_exists_and_resume_resumes(desk: Desk) -> None:
    article_id = desk.article("Bài Facebook khi mã truy cập trang bị thu hồi")
    _website_sent(desk, article_id)
    desk.fb.inject("error:190", path=r"/feed$")  # Graph: the page token is no longer valid
    desk.tick()
    assert desk.loa.store.channels.channel_status("facebook").paused
    commands = commands_in(desk.alert("auth:facebook"))
    assert commands, desk.alert("auth:facebook")
    for surface, command in commands:
        words = shlex.split(command)
        if words[:3] == ["loa", "channels", "connect"]:  # interactive: it must at least parse
            res = CliRunner().invoke(app, ["-c", str(desk.config), *words[1:], "--help"])
            assert res.exit_code == 0 and words[3] == "facebook", res.output
            continue
        desk.run(command, surface)
        assert not desk.loa.store.channels.channel_status("facebook").paused, (surface, command)
        desk.loa.store.channels.set_paused("facebook", True, Actor("test", "cli"), "again")


def test_either_joins_both_forms_and_connect_has_no_chat_form() -> None:
    assert (
        either("retry", 12, "facebook")
        == "`loa retry 12 facebook` (trong Telegram: /retry 12 facebook)"
    )
    assert either("connect", channel="zalo") == "`loa channels connect zalo`"
    with pytest.raises(ValueError):
        instruction("connect", channel="zalo", surface="telegram")
    with pytest.raises(ValueError):
        instruction("retry", 12, "face book")


def test_every_command_the_chat_help_names_exists() -> None:
    named = set(re.findall(r"^/([a-z]+)", texts.HELP, flags=re.MULTILINE))
    named |= set(re.findall(r", /([a-z]+)", texts.HELP))
    assert named and named <= set(COMMANDS), named - set(COMMANDS)


# ----- configurations printed for a person to copy ------------------------------------------------
def test_what_loa_sandbox_prints_is_a_working_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    proc = subprocess.Popen(
        [str(LOA), "sandbox"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while not any(x.startswith("LOA_CHANNELS__ZALO__REFRESH_TOKEN=") for x in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            lines.append(proc.stdout.readline())
        printed = "".join(lines)
        toml = printed.split("Put this in config.toml:\n", 1)[1].split("and this in .env:\n", 1)[0]
        assert "[telegram]" in toml and "[channels.website]" in toml  # not eaten as markup
        (tmp_path / "config.toml").write_text(toml, "utf-8")
        (tmp_path / ".env").write_text(printed.split("and this in .env:\n", 1)[1], "utf-8")
        settings = load_settings(tmp_path / "config.toml")
        assert sorted(settings.parsed_channels) == ["facebook", "website", "zalo"]
        assert settings.telegram.chat_id == TelegramSandbox.CHAT_ID and settings.secret_key
        res = subprocess.run(
            [str(LOA), "-c", str(tmp_path / "config.toml"), "check"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        assert all(f"✓ {name}" in res.stdout for name in ("website", "facebook", "zalo"))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_what_loa_init_writes_loads_as_a_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    res = subprocess.run(
        [str(LOA), "init", str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    for line in res.stdout.splitlines():
        if line.startswith("đã tạo "):
            assert Path(line.removeprefix("đã tạo ")).exists()
    settings = load_settings(tmp_path / "ws" / "config.toml")
    assert settings.parsed_channels and settings.secret_key is not None
