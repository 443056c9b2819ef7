"""Vietnamese text as the index sees it: folded syllables, their bigrams, and stop words.

Folding lowercases, removes tone and vowel marks and maps đ/Đ to d, so "Hợp pháp hóa lãnh sự",
"hop phap hoa lanh su" and "HỢP PHÁP HOÁ LÃNH SỰ" are the same five syllables. Vietnamese words
are one or more syllables separated by spaces, so syllable unigrams plus adjacent bigrams stand in
for a word segmenter ("ho so" and "ho chieu" stay apart as bigrams although both start with "ho").
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["STOP_WORDS", "bigrams", "fold", "syllables", "terms"]


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x00C0, 0x2000):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii():
            table[cp] = base.lower()
    table[ord("đ")] = "d"
    table[ord("Đ")] = "d"
    table[ord("ð")] = "d"
    return table


_TABLE = _fold_table()
_SYLLABLE = re.compile(r"[a-z0-9]+")
_COMBINING = re.compile(r"[\u0300-\u036f]")


def fold(text: str) -> str:
    """Lowercase ASCII with marks removed and đ → d ("Đăng ký" → "dang ky")."""
    # Decomposed input (a combining mark after its letter) is composed first so the table sees
    # whole letters; marks left over (on letters outside Latin) are dropped.
    if _COMBINING.search(text):
        text = _COMBINING.sub("", unicodedata.normalize("NFC", text).translate(_TABLE))
    return text.translate(_TABLE).lower()


def syllables(text: str) -> list[str]:
    """The folded syllables (and numbers) of ``text``, in order."""
    return _SYLLABLE.findall(fold(text))


def bigrams(tokens: list[str]) -> list[str]:
    """Adjacent pairs as one term ("ho so")."""
    return [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def terms(tokens: list[str]) -> list[str]:
    """Unigrams and bigrams of a syllable sequence: what BM25 indexes."""
    return tokens + bigrams(tokens)


# Folded syllables that carry no topic: pronouns, particles, question words, "thủ tục" itself.
# They still form bigrams (so "o dau" and "bao lau" reach BM25) but count for nothing in the
# coverage figure and are never corrected as typos.
_STOP_TEXT = """
    a ad admin ah ai alo anh ba bac ban bao be bi biet boi cac cach cai cam can chao chi cho j
    chu chua co con cu cua da dang dau day dc de den deu di dieu do duoc em gi giup ha hay hello hen
    hi hix hom khi khong k ko kia la lam lau len luc ma may minh mot muon nao nay ne neu nha nhe nhi
    nhieu nhu nhung noi ntn o oi ok oke on phai qua ra rang roi rat sao se sau ta thi thu tien toi
    trong tu tuc u uh va vay ve vi voi xem xin
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
