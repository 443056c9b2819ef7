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


# Characters outside Latin letters and combining marks (no-break spaces, dashes, quotes, CJK...)
# separate syllables; everything else is decomposed and its marks dropped.
_OUTSIDE_LATIN = re.compile(r"[^\x00-\x9f\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff]+")
_SYLLABLE = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase ASCII with marks removed and đ → d ("Đăng ký" → "dang ky")."""
    text = _OUTSIDE_LATIN.sub(" ", text)
    if "đ" in text or "Đ" in text or "ð" in text:
        text = text.replace("đ", "d").replace("Đ", "d").replace("ð", "d")
    # NFD splits every Vietnamese letter into its base and marks; ASCII keeps the base only.
    return unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode("ascii").lower()


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
