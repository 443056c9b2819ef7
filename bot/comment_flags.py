"""Flags on comments: words admins edit (insults, spam links, phone-number scams).

Loa only flags; a person decides. The words come from ``[comments] flags_file`` (a TOML file
beside ``config.toml`` that admins edit; re-read when it changes), else from the built-in lists
below. File format::

    insult = ["ngu", "mất dạy"]
    spam = ["bit.ly", "t.me/"]
    scam = ["vay tiền", "lãi suất thấp"]

Matching is on the NFC-lowercased text, whole words for words and substrings for link parts; a
phone number (9–11 digits, Vietnamese prefixes) together with a scam word is a ``scam`` flag,
and any link that is not to a configured safe host is a ``spam`` flag. Bounded: only the first
``MAX_SCAN`` characters are looked at.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["FLAG_VI", "FlagWords", "flags_of"]

log = logging.getLogger(__name__)

MAX_SCAN = 4000
FLAG_VI = {"insult": "lời lẽ xúc phạm", "spam": "liên kết quảng cáo/lạ", "scam": "nghi lừa đảo"}
BUILT_IN: dict[str, list[str]] = {
    "insult": [
        "ngu",
        "óc chó",
        "đồ chó",
        "mất dạy",
        "khốn nạn",
        "súc vật",
        "đm",
        "vcl",
        "vl",
        "đéo",
        "cút",
        "lũ ăn hại",
    ],
    "spam": ["bit.ly", "tinyurl", "t.me/", "shorturl", "kiếm tiền online", "việc nhẹ lương cao"],
    "scam": [
        "vay tiền",
        "vay nhanh",
        "lãi suất",
        "giải ngân",
        "trúng thưởng",
        "nạp tiền",
        "chuyển khoản",
        "kết bạn zalo",
        "liên hệ sđt",
        "hỗ trợ lấy lại tiền",
    ],
}
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_LINK = re.compile(r"(?:https?://|www\.)[^\s]+", re.IGNORECASE)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text[:MAX_SCAN]).lower()


class FlagWords:
    """The word lists, from the admins' file when there is one (re-read when it changes)."""

    def __init__(self, path: Path | None = None, safe_hosts: tuple[str, ...] = ()):
        self.path = path
        self.safe_hosts = safe_hosts
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._words = BUILT_IN

    def words(self) -> dict[str, list[str]]:
        if self.path is None:
            return BUILT_IN
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return BUILT_IN
        with self._lock:
            if mtime != self._mtime:
                try:
                    data = tomllib.loads(self.path.read_text("utf-8"))
                    self._words = {
                        k: [_norm(str(w)) for w in data.get(k, BUILT_IN[k]) if str(w).strip()]
                        for k in BUILT_IN
                    }
                except (OSError, ValueError, TypeError) as exc:
                    log.warning(
                        "flags file %s unreadable (%s); built-in words used", self.path, exc
                    )
                    self._words = BUILT_IN
                self._mtime = mtime
            return self._words


def _has_word(text: str, word: str) -> bool:
    if not word:
        return False
    if not word[0].isalnum() or not word[-1].isalnum() or "." in word or "/" in word:
        return word in text
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def _safe(link: str, safe_hosts: tuple[str, ...]) -> bool:
    host = (urlsplit(link if "://" in link else f"http://{link}").hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in safe_hosts)


def flags_of(text: str, words: dict[str, list[str]], safe_hosts: tuple[str, ...] = ()) -> list[str]:
    """The flags of a comment (``insult``, ``spam``, ``scam``), in that order, each once."""
    t = _norm(text)
    out = []
    if any(_has_word(t, w) for w in words.get("insult", ())):
        out.append("insult")
    links = [m.group(0) for m in _LINK.finditer(t)]
    foreign = [x for x in links if not _safe(x, safe_hosts)]
    if foreign or any(_has_word(t, w) for w in words.get("spam", ())):
        out.append("spam")
    scam_word = any(_has_word(t, w) for w in words.get("scam", ()))
    if scam_word and (_PHONE.search(t) or links or "zalo" in t):
        out.append("scam")
    return out
