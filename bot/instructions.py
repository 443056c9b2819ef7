"""Every command Loa tells a person to type, built in one place so no help text can lie.

A delivery is named the same way everywhere: ``ARTICLE [CHANNEL]`` (``loa retry 12 facebook``,
``/retry 12 facebook``). Alerts, cards, hand-off packages and error answers build their
instructions with :func:`instruction` (one surface) or :func:`either` (the command line and the
chat), and ``tests/integration/test_instructions.py`` runs each one and checks it acts on the
intended delivery.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "ACTIONS",
    "URL_PLACEHOLDER",
    "Action",
    "Surface",
    "confirm_instructions",
    "either",
    "instruction",
]

Surface = Literal["cli", "telegram"]
Action = Literal["retry", "confirm", "notposted", "withdraw", "pause", "resume", "connect"]
# What the person replaces with the public address of the post they made by hand.
URL_PLACEHOLDER = "URL"

# action -> (what it names, command line form, chat form or None when the chat has none)
ACTIONS: dict[str, tuple[str, str, str | None]] = {
    "retry": ("delivery", "loa retry", "/retry"),
    "confirm": ("delivery", "loa confirm", "/confirm"),
    "notposted": ("delivery", "loa notposted", "/notposted"),
    "withdraw": ("article", "loa withdraw", "/withdraw"),
    "pause": ("channel", "loa channels pause", "/pause"),
    "resume": ("channel", "loa channels resume", "/resume"),
    "connect": ("channel", "loa channels connect", None),
}
_WORD = re.compile(r"[A-Za-z0-9_.-]+")


def instruction(
    action: Action | str,
    article_id: int | str | None = None,
    channel: str | None = None,
    *,
    url: str | None = None,
    surface: Surface = "cli",
) -> str:
    """The exact text to type on ``surface`` to apply ``action``.

    Delivery actions name ``article_id`` and, when given, ``channel`` (omit it only when the
    article has one delivery the action fits); ``url`` is only for ``confirm``. Raises
    ``ValueError`` for an action the surface does not offer or a name that cannot be typed.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    names, cli, chat = ACTIONS[action]
    command = cli if surface == "cli" else chat
    if command is None:
        raise ValueError(f"{action!r} has no {surface} command")
    words = [command]
    if names in ("delivery", "article"):
        if article_id is None:
            raise ValueError(f"{action!r} needs an article id")
        words.append(str(int(article_id)) if str(article_id).isdigit() else _typed(str(article_id)))
    if names == "channel" and channel is None:
        raise ValueError(f"{action!r} needs a channel")
    if names in ("delivery", "channel") and channel is not None:
        words.append(_typed(channel))
    if url is not None:
        if action != "confirm":
            raise ValueError("only confirm takes a URL")
        words.append(_typed(url, allow=r"\S+"))
    return " ".join(words)


def either(
    action: Action | str,
    article_id: int | str | None = None,
    channel: str | None = None,
    *,
    url: str | None = None,
) -> str:
    """The command line form and, when the chat has one, the chat form (Vietnamese glue)."""
    cli = f"`{instruction(action, article_id, channel, url=url, surface='cli')}`"
    if ACTIONS.get(action, ("", "", None))[2] is None:
        return cli
    return f"{cli} (trong Telegram: {instruction(action, article_id, channel, url=url, surface='telegram')})"


def confirm_instructions(article_id: str, channel: str) -> list[str]:
    """Lines telling a webmaster how to record the URL of a post made by hand (hand-off)."""
    return [
        f"trên máy chủ: {instruction('confirm', article_id, channel, url=URL_PLACEHOLDER)}",
        "trong nhóm Telegram: "
        + instruction("confirm", article_id, channel, url=URL_PLACEHOLDER, surface="telegram"),
    ]


def _typed(value: str, allow: str | None = None) -> str:
    if not re.fullmatch(allow or _WORD.pattern, value):
        raise ValueError(f"{value!r} cannot be typed as one word of a command")
    return value
