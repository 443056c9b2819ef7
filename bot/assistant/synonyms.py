"""Words citizens use for the same thing ("visa" for "thị thực"), as groups of equivalents.

A question that contains any phrase of a group is searched with every phrase of the group, and the
group counts once in the coverage figure, found when any of its phrases is in the passage. The
built-in table covers a foreign-affairs department; admins add their own in a TOML file
(``[assistant] synonyms_file``)::

    [synonyms]
    "visa" = ["thị thực"]
    "ABTC" = ["thẻ đi lại doanh nhân APEC", "thẻ APEC"]

Each key and its list form one group (merged with a built-in group that shares a phrase).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

from bot.assistant.folding import syllables

__all__ = ["BUILT_IN", "SynonymError", "Synonyms", "load_synonyms"]

BUILT_IN: tuple[tuple[str, ...], ...] = (
    ("visa", "thị thực", "thi thuc"),
    ("ABTC", "thẻ đi lại doanh nhân APEC", "thẻ APEC", "thẻ doanh nhân APEC", "APEC card"),
    ("hộ chiếu", "passport", "hc"),
    ("hộ chiếu công vụ", "hộ chiếu CV", "official passport"),
    ("hộ chiếu ngoại giao", "hộ chiếu NG", "diplomatic passport"),
    ("hợp pháp hóa lãnh sự", "hợp pháp hoá", "HPHLS", "legalization", "legalisation"),
    ("chứng nhận lãnh sự", "CNLS", "consular certification", "xác nhận lãnh sự"),
    ("giấy tờ", "hồ sơ", "tài liệu", "văn bản"),
    ("lệ phí", "phí", "chi phí", "bao nhiêu tiền", "mất bao nhiêu tiền", "hết bao nhiêu tiền"),
    (
        "thời hạn",
        "bao lâu",
        "mất bao lâu",
        "mấy ngày",
        "mất mấy ngày",
        "bao nhiêu ngày",
        "mất bao nhiêu ngày",
        "thời gian giải quyết",
        "bao giờ có kết quả",
    ),
    ("NGO", "phi chính phủ nước ngoài", "tổ chức phi chính phủ"),
    ("viện trợ", "tài trợ", "viện trợ phi chính phủ"),
    ("hội nghị", "hội thảo", "hội nghị hội thảo quốc tế"),
    ("người nước ngoài", "người ngoại quốc", "foreigner"),
    ("Việt kiều", "người Việt Nam ở nước ngoài", "kiều bào"),
    ("đi nước ngoài", "xuất cảnh", "ra nước ngoài", "đi công tác nước ngoài"),
    ("nộp trực tuyến", "nộp online", "dịch vụ công trực tuyến", "online"),
    ("UBND", "ủy ban nhân dân"),
)


class SynonymError(ValueError):
    """A synonyms file that cannot be used (one Vietnamese line)."""


class Synonyms:
    """Groups of equivalent phrases, each phrase as folded syllables."""

    def __init__(self, groups: Iterable[Iterable[str]]):
        merged: list[set[tuple[str, ...]]] = []
        for group in groups:
            phrases: set[tuple[str, ...]] = {tuple(syllables(p)) for p in group} - {()}
            hits = [g for g in merged if g & phrases]
            for g in hits:
                phrases |= g
                merged.remove(g)
            if len(phrases) > 1:
                merged.append(phrases)
        self.groups: tuple[tuple[tuple[str, ...], ...], ...] = tuple(
            tuple(sorted(g, key=lambda p: (-len(p), p))) for g in merged
        )
        # first syllable → (phrase, group index), longest phrases first
        self._by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for i, grp in enumerate(self.groups):
            for phrase in grp:
                self._by_first.setdefault(phrase[0], []).append((phrase, i))
        for lst in self._by_first.values():
            lst.sort(key=lambda pi: -len(pi[0]))

    def find(self, tokens: list[str]) -> list[tuple[int, int, int]]:
        """Phrases of ``tokens`` that belong to a group: (start, end, group), longest first,
        not overlapping."""
        out = []
        i = 0
        while i < len(tokens):
            for phrase, g in self._by_first.get(tokens[i], ()):
                if tuple(tokens[i : i + len(phrase)]) == phrase:
                    out.append((i, i + len(phrase), g))
                    i += len(phrase)
                    break
            else:
                i += 1
        return out


def load_synonyms(path: Path | None) -> Synonyms:
    """The built-in groups plus those of the TOML file at ``path`` (if given)."""
    groups: list[Iterable[str]] = list(BUILT_IN)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SynonymError(
                f"Không đọc được tệp từ đồng nghĩa {path}: {exc.strerror or exc}"
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SynonymError(f"Tệp từ đồng nghĩa {path} không đúng TOML: {exc}") from None
        table = data.get("synonyms", data)
        if not isinstance(table, dict):
            raise SynonymError(f'Tệp {path}: cần bảng [synonyms] dạng "từ" = ["từ khác"]')
        for key, values in table.items():
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise SynonymError(
                    f'Tệp {path}: "{key}" phải là một danh sách chữ, ví dụ ["thị thực"]'
                )
            groups.append([key, *values])
    return Synonyms(groups)
