"""The local fake platforms together: start them, write a config for them, show what they got."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bot.cli.workspace import ensure_secret_key, write_workspace
from channels.sandbox.citizens import ZaloInbox
from channels.sandbox.facebook import FacebookSandbox
from channels.sandbox.telegram import TelegramSandbox
from channels.sandbox.wordpress import WordPressSandbox
from channels.sandbox.zalo import ZaloSandbox
from content_queue.credential_cipher import ENV_VAR, generate_key

__all__ = ["Sandboxes", "serve_sandboxes", "write_sandbox_workspace"]


@dataclass
class Sandboxes:
    website: WordPressSandbox
    facebook: FacebookSandbox
    zalo: ZaloSandbox
    telegram: TelegramSandbox
    # A fresh LOA_SECRET_KEY for the workspace using these sandboxes.
    secret_key: str = field(default_factory=generate_key)

    ADMIN_ID = 111111111
    EDITOR_ID = 222222222

    @classmethod
    def start(cls, port_base: int = 0) -> Sandboxes:
        ports = tuple(port_base + i for i in range(4)) if port_base else (0, 0, 0, 0)
        boxes = cls(
            WordPressSandbox(port=ports[0]),
            FacebookSandbox(port=ports[1]),
            ZaloSandbox(port=ports[2]),
            TelegramSandbox(port=ports[3]),
        )
        for b in boxes.all():
            b.start()
        return boxes

    def all(self) -> tuple[WordPressSandbox, FacebookSandbox, ZaloSandbox, TelegramSandbox]:
        return (self.website, self.facebook, self.zalo, self.telegram)

    def stop(self) -> None:
        for b in self.all():
            b.stop()

    def channels_toml(self) -> str:
        """``[telegram]`` and ``[channels.*]`` sections pointing at these servers."""
        return f"""
[telegram]
api_url = "{self.telegram.url}"
admins = [{self.ADMIN_ID}]
editors = [{self.EDITOR_ID}]
chat_id = {TelegramSandbox.CHAT_ID}
[channels.website]
type = "wordpress"
url = "{self.website.api_url}"
username = "{WordPressSandbox.USERNAME}"

[channels.facebook]
type = "facebook_page"
page_id = "{FacebookSandbox.PAGE_ID}"
graph_url = "{self.facebook.url}"
api_version = "v25.0"
after = "website"
hashtags = ["CCHC", "LangSon"]
timeout_seconds = 5

[channels.zalo]
type = "zalo_oa"
api_url = "{self.zalo.url}"
oauth_url = "{self.zalo.url}"
app_id = "{ZaloSandbox.APP_ID}"
after = "website"
verify_interval_seconds = 0.2
timeout_seconds = 5
"""

    VERIFY_TOKEN = "sandbox-verify-token"  # Meta's webhook handshake (citizens' messages)

    def env_text(self, *, with_key: bool = True) -> str:
        """The ``.env`` with the sandboxes' credentials (and a fresh key unless ``with_key`` is
        False: a workspace keeps the key it has)."""
        return (
            (f"{ENV_VAR}={self.secret_key}\n" if with_key else "")
            + f"LOA_TELEGRAM__TOKEN={TelegramSandbox.TOKEN}\n"
            f"LOA_CHANNELS__WEBSITE__APP_PASSWORD={WordPressSandbox.APP_PASSWORD}\n"
            f"LOA_CHANNELS__FACEBOOK__PAGE_TOKEN={FacebookSandbox.PAGE_TOKEN}\n"
            f"LOA_CHANNELS__ZALO__APP_SECRET={ZaloSandbox.APP_SECRET}\n"
            f"LOA_CHANNELS__ZALO__REFRESH_TOKEN={ZaloSandbox.INITIAL_REFRESH_TOKEN}\n"
            f"LOA_CHANNELS__ZALO__OA_SECRET_KEY={ZaloInbox.OA_SECRET_KEY}\n"
            f"LOA_CHANNELS__FACEBOOK__APP_SECRET={FacebookSandbox.APP_SECRET}\n"
            f"LOA_CHANNELS__FACEBOOK__VERIFY_TOKEN={self.VERIFY_TOKEN}\n"
        )

    def received(self) -> dict[str, int]:
        return {
            "website": len(self.website.records.get("posts", [])),
            "facebook": len(self.facebook.records.get("posts", [])),
            "zalo": len(self.zalo.records.get("articles", [])),
        }


_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")


def _without_sections(text: str, drop: tuple[str, ...]) -> str:
    """``text`` (TOML) without the tables named in ``drop`` or under them (``channels`` drops
    every ``[channels.NAME]``), and their commented-out lines."""
    out, skipping = [], False
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            name = header.group(1).strip()
            skipping = any(name == d or name.startswith(d + ".") for d in drop)
        if not skipping:
            out.append(line)
    return "\n".join(out).rstrip() + "\n"


def write_sandbox_workspace(boxes: Sandboxes, directory: Path) -> list[Path]:
    """Make ``directory`` a working workspace for these sandboxes: ``loa init``'s files, with
    its ``[telegram]`` and ``[channels.*]`` sections replaced by the sandboxes' (no section
    twice), and the sandboxes' credentials in ``.env`` beside the one ``LOA_SECRET_KEY`` it
    keeps (0600). Safe to run again: the sections and credentials are rewritten in place."""
    write_workspace(directory)
    config = directory / "config.toml"
    kept = _without_sections(config.read_text("utf-8"), ("telegram", "channels"))
    config.write_text(kept + boxes.channels_toml(), "utf-8")
    env = directory / ".env"
    ensure_secret_key(env)
    fresh = boxes.env_text(with_key=False)
    keys = {line.split("=", 1)[0] for line in fresh.splitlines()}
    lines = [
        line
        for line in env.read_text("utf-8").splitlines()
        if line.split("=", 1)[0].strip() not in keys
    ]
    fd = os.open(env, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines).rstrip() + "\n" + fresh)
    return [config, env]


def serve_sandboxes(
    console: Console, port_base: int = 0, workdir: Path | None = None, workspace: Path | None = None
) -> None:
    """Serve until Ctrl-C, printing the config to use and each platform's records URL.

    The configuration is printed verbatim (no console markup: ``[telegram]`` is a TOML header,
    not a style), so what a newcomer copies is a working ``config.toml`` and ``.env``.
    """
    boxes = Sandboxes.start(port_base)
    console.print(
        "[bold]Loa sandbox[/] — fake WordPress, Facebook Page, Zalo OA and Telegram Bot API on 127.0.0.1"
    )
    for name, b in (
        ("website", boxes.website),
        ("facebook", boxes.facebook),
        ("zalo", boxes.zalo),
        ("telegram", boxes.telegram),
    ):
        console.print(
            f"  {name}: {b.url}  (what it received: {b.url}/_sandbox/records)",
            markup=False,
            highlight=False,
        )
    if workspace is not None:
        config, env = write_sandbox_workspace(boxes, workspace)
        console.print(
            f"\nWrote {config} and {env} for these sandboxes (your LOA_SECRET_KEY is kept).\n"
            f"In another terminal: loa -c {config} check, then loa -c {config} run",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    else:
        for text in (
            "\n(It replaces the [telegram] and [channels.*] sections of a config.toml; "
            "`loa sandbox --workspace DIR` writes both files for you.)\nPut this in config.toml:",
            boxes.channels_toml(),
            "and this in .env:",
            boxes.env_text(),
        ):
            console.print(text, markup=False, highlight=False, soft_wrap=True, emoji=False)
    console.file.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        boxes.stop()
