"""Zalo OA broadcasts ("gửi tin truyền thông") and the default cover check: bodies and answers.

Platform facts (``../shared/contracts/zalo.md``, "Broadcast to followers"): ``POST
{api_url}/v2.0/oa/message`` with ``recipient.target`` (optional ``ages``, ``gender``,
``locations``/``cities``, ``platform``) and a ``media`` template of up to 5 articles
(``{"media_type": "article", "attachment_id": <article id>}``); the answer carries a
``message_id``. Unverified, hence configurable in :class:`channels.zalo_oa.ZaloOASettings`: the
path and version (``broadcast_path``), where the answer states the review (moderation) state
(``broadcast_state_field``), and the follower count's field in ``oa/getoa`` (``follower_field``).
What Loa chose: the state is recorded verbatim when Zalo gives one, else ``accepted``.
There is no look-up of a broadcast afterwards: an answer that was lost cannot be reconciled, so
the caller must never send again on its own (``may_have_posted``).

Images Zalo fetches must be public jpg/png of at most 1 MB: :func:`cover_problem` reads at most
that many bytes (plus one) of the default cover and names what is wrong, in Vietnamese.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

__all__ = [
    "BROADCAST_MAX_ARTICLES",
    "TARGET_KEYS",
    "BroadcastReceipt",
    "broadcast_body",
    "broadcast_receipt",
    "cover_problem",
]

BROADCAST_MAX_ARTICLES = 5
TARGET_KEYS = frozenset({"ages", "gender", "locations", "cities", "platform"})
IMAGE_MAX_BYTES = 1024 * 1024
_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class BroadcastReceipt:
    """What Zalo said about an accepted broadcast: its message id and review state."""

    message_id: str
    moderation_state: str


def broadcast_body(article_ids: Sequence[str], target: Mapping[str, str]) -> dict[str, Any]:
    """The ``oa/message`` body for up to 5 articles, to the followers ``target`` selects."""
    ids = [str(a) for a in article_ids]
    if not ids:
        raise ValueError("a broadcast needs at least one article")
    if len(ids) > BROADCAST_MAX_ARTICLES:
        raise ValueError(f"a broadcast carries at most {BROADCAST_MAX_ARTICLES} articles")
    if len(set(ids)) != len(ids):
        raise ValueError("an article appears twice in one broadcast")
    unknown = set(target) - TARGET_KEYS
    if unknown:
        raise ValueError(f"unknown broadcast target keys: {', '.join(sorted(unknown))}")
    return {
        "recipient": {"target": {k: str(v) for k, v in target.items() if str(v)}},
        "message": {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{"media_type": "article", "attachment_id": a} for a in ids],
                },
            }
        },
    }


def broadcast_receipt(answer: Mapping[str, Any], state_field: str) -> BroadcastReceipt | None:
    """The receipt in a successful answer, or None when it names no message id."""
    data = answer.get("data")
    if not isinstance(data, Mapping) or not data.get("message_id"):
        return None
    state = data.get(state_field)
    # Bounded: whatever Zalo sends is stored in columns of 200 and 60 characters.
    return BroadcastReceipt(str(data["message_id"])[:200], str(state)[:60] if state else "accepted")


def cover_problem(session: requests.Session, url: str, timeout: float) -> str | None:
    """Why Zalo would refuse ``url`` as a cover (download, type, size), or None if it is usable."""
    if not url.startswith(("https://", "http://")):
        return f"Địa chỉ ảnh bìa mặc định «{url}» không phải địa chỉ web (https://…)."
    deadline = time.monotonic() + 3 * timeout  # a server that trickles bytes cannot hold us
    try:
        with session.get(url, timeout=timeout, stream=True) as resp:
            if resp.status_code != 200:
                return (
                    f"Không tải được ảnh bìa mặc định {url} (HTTP {resp.status_code}); Zalo "
                    "cần tải được ảnh này."
                )
            data = b""
            for chunk in resp.iter_content(64 * 1024):
                data += chunk
                if time.monotonic() > deadline:
                    return f"Tải ảnh bìa mặc định {url} quá lâu; Zalo cần tải được ảnh này nhanh."
                if len(data) > IMAGE_MAX_BYTES:
                    return (
                        f"Ảnh bìa mặc định {url} nặng hơn 1 MB, Zalo không nhận; hãy dùng ảnh "
                        "JPG/PNG nhỏ hơn."
                    )
    except requests.RequestException as exc:
        return f"Không tải được ảnh bìa mặc định {url} ({type(exc).__name__})."
    if not data.startswith((_JPEG, _PNG)):
        return (
            f"Ảnh bìa mặc định {url} không phải ảnh JPG/PNG, Zalo không nhận; hãy dùng ảnh "
            "JPG hoặc PNG."
        )
    return None
