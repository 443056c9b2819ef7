"""The assistant's answer to one citizen's question: a sourced passage, a greeting, or "a person
will answer" (abstain) — never a fee, deadline or document it did not copy from its source.

Interface agreed with the intake/replies side (branch ``citizens``): :class:`Source`, :class:`Hit`,
:class:`Answer` and :class:`Assistant` (``answer``, ``refresh``). The decision figures:

- ``best``: BM25 score of the best source's best passage;
- ``coverage``: IDF-weighted share of the question's content (syllables, their bigrams, synonym
  groups) found in that source;
- ``margin``: how far the best source is ahead of the second, ``1 - second / best``.

It answers when all three reach ``[assistant] min_score``, ``min_coverage`` and ``min_margin``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from bot.assistant.folding import STOP_WORDS, fold, syllables
from bot.assistant.index import (
    FIELD_LABELS,
    PASSAGE_CHARS,
    KnowledgeIndex,
    Match,
    Source,
    build_index,
)
from bot.assistant.synonyms import Synonyms, load_synonyms
from bot.settings import AssistantSettings, Settings
from content_queue.knowledge import Procedure
from content_queue.store import Store

__all__ = ["MISSING", "Answer", "Assistant", "Hit", "Source", "asked_fields"]

log = logging.getLogger(__name__)

# How often `answer` looks whether the knowledge changed (a few aggregate reads). An article
# retracted meanwhile is still never cited: every answer re-checks the articles it would name.
REFRESH_SECONDS = 2.0
_HITS = 3
CATALOGUE_BONUS = 0.25
MISSING = "danh mục thủ tục chưa ghi thông tin này."


@dataclass(frozen=True)
class Hit:
    source: Source
    score: float
    passage: str  # the best passage (plain text, <= ~600 chars)


@dataclass(frozen=True)
class Answer:
    kind: Literal["answer", "greeting", "abstain"]
    text: str  # ready to send (source link and date included); for "abstain", a person answers
    hits: tuple[Hit, ...]  # best guesses, best first (hand-over cards show them)
    best: float
    coverage: float
    margin: float


# Words of a question → the procedure fields it asks for (folded phrases, matched on syllables).
_ASKS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        (
            "ho so",
            "giay to",
            "tai lieu",
            "can gi",
            "can nhung gi",
            "mang theo",
            "chuan bi",
            "thanh phan",
        ),
        ("ho_so",),
    ),
    (
        (
            "thoi han",
            "bao lau",
            "may ngay",
            "bao nhieu ngay",
            "thoi gian",
            "khi nao co",
            "bao gio co",
            "mat bao lau",
            "lau khong",
        ),
        ("thoi_han",),
    ),
    (
        (
            "phi",
            "le phi",
            "bao nhieu tien",
            "chi phi",
            "mat tien",
            "het bao nhieu",
            "tien",
            "mien phi",
            "gia bao nhieu",  # not "gia" alone: "gia hạn" is an extension, not a price
            "gia tien",
        ),
        ("phi",),
    ),
    (
        (
            "noi nop",
            "o dau",
            "nop dau",
            "nop o",
            "co quan nao",
            "dia chi",
            "lam o",
            "den dau",
            "cho nao",
            "nop truc tuyen",
            "online",
            "buu chinh",
            "cach nop",
            "nop the nao",
            "nop nhu the nao",
            "nop ho so o",
        ),
        ("co_quan", "cach_thuc"),
    ),
    (
        (
            "trinh tu",
            "cac buoc",
            "quy trinh",
            "lam the nao",
            "lam nhu the nao",
            "the nao",
            "nhu the nao",
            "cach lam",
            "ntn",
        ),
        ("trinh_tu",),
    ),
    (("doi tuong", "ai duoc", "ai co the", "ai phai", "dieu kien"), ("doi_tuong",)),
    (("can cu", "quy dinh nao", "nghi dinh", "thong tu", "van ban nao", "luat"), ("can_cu",)),
)
_DEFAULT_FIELDS = ("co_quan", "ho_so", "thoi_han", "phi")
_GREETING_TEXT = (
    "xin chao alo hello hi helo chao ad admin oi a em anh chi ban shop ak ah nhe buoi sang "
    "chieu toi tot lanh cam on thank thanks ok oke vang da"
)
_GREETINGS = frozenset(_GREETING_TEXT.split())
_THANKS = ("cam on", "thank")


def asked_fields(question: str) -> tuple[str, ...]:
    """The procedure fields a question asks for, in the order answers show them."""
    padded = " " + " ".join(syllables(question)) + " "
    padded = padded.replace(" phi chinh phu ", " ngo ")  # "phi" here is "phi", not "phí"
    wanted: list[str] = []
    for phrases, fields in _ASKS:
        if any(f" {p} " in padded for p in phrases):
            wanted += [f for f in fields if f not in wanted]
    order = ("doi_tuong", "co_quan", "cach_thuc", "ho_so", "trinh_tu", "thoi_han", "phi", "can_cu")
    return tuple(f for f in order if f in wanted)


def _vn_date(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


class Assistant:
    """Answers questions from the store's knowledge; thread-safe, no network.

    ``Assistant(store, settings.assistant)`` works alone; :meth:`for_settings` also passes the
    agency's name (the first-contact disclosure) and the website channels (the article links).
    """

    def __init__(
        self,
        store: Store,
        settings: AssistantSettings,
        *,
        agency: str = "",
        website_channels: tuple[str, ...] | list[str] = ("website",),
        synonyms_path: Path | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.agency = agency or "cơ quan"
        self.website_channels = tuple(website_channels)
        if synonyms_path is None and settings.synonyms_file:
            synonyms_path = Path(settings.synonyms_file)
        self.synonyms: Synonyms = load_synonyms(synonyms_path)
        self._lock = threading.Lock()
        self._index: KnowledgeIndex | None = None
        self._version: tuple[object, ...] | None = None
        self._checked_at = 0.0

    @classmethod
    def for_settings(cls, store: Store, settings: Settings) -> Assistant:
        """The assistant of a configuration (synonyms file taken beside config.toml)."""
        a = settings.assistant
        return cls(
            store,
            a,
            agency=settings.agency.name,
            website_channels=settings.plan.website_channels,
            synonyms_path=settings.path(a.synonyms_file) if a.synonyms_file else None,
        )

    # ----- the index ----------------------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> None:
        """Rebuild the index when the knowledge changed (a few aggregate reads otherwise)."""
        with self._lock:
            self._refresh_locked(force)

    def _refresh_locked(self, force: bool) -> None:
        # The version is read before the data: a change after it is seen at the next check.
        k = self.store.knowledge
        version = k.version(self.website_channels)
        self._checked_at = time.monotonic()
        if not force and self._index is not None and version == self._version:
            return
        index = build_index(
            k.procedures(),
            k.citable_articles(self.website_channels),
            k.saved_qas(),
            self.synonyms,
        )
        self._index, self._version = index, version

    def _current(self) -> KnowledgeIndex:
        """The index; when a check is due, a background thread looks for changes and rebuilds,
        and answers keep using the previous index meanwhile (only the first build waits)."""
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._refresh_locked(False)
        elif time.monotonic() - self._checked_at > REFRESH_SECONDS and self._lock.acquire(
            blocking=False
        ):
            self._checked_at = time.monotonic()  # one check at a time
            threading.Thread(
                target=self._refresh_in_background, name="loa-assistant-index", daemon=True
            ).start()
        assert self._index is not None
        return self._index

    def _refresh_in_background(self) -> None:
        try:
            self._refresh_locked(False)
        except Exception:  # the previous index keeps answering; the next check tries again
            log.warning("assistant: the knowledge index could not be refreshed", exc_info=True)
        finally:
            self._lock.release()

    # ----- answering ----------------------------------------------------------------------------
    def answer(self, question: str, *, first_contact: bool = False) -> Answer:
        """The reply to ``question``: sourced answer, greeting, or abstain (a person answers)."""
        question = question[:2000]
        tokens = syllables(question)[:120]
        prefix = (
            f"Đây là trợ lý tự động của {self.agency}; câu trả lời được lấy từ các bài viết và "
            "danh mục thủ tục hành chính đã công bố.\n"
            if first_contact
            else ""
        )
        if _is_greeting(tokens):
            text = (
                "Cảm ơn anh/chị. Nếu cần hỏi thêm về thủ tục hành chính, anh/chị cứ nhắn tin."
                if any(t in " ".join(tokens) for t in _THANKS)
                else f"Xin chào anh/chị! Anh/chị cần hỏi về thủ tục hành chính nào của "
                f"{self.agency}? Ví dụ: “Hợp pháp hóa lãnh sự cần giấy tờ gì?”"
            )
            return Answer("greeting", prefix + text, (), 0.0, 0.0, 0.0)
        index = self._current()
        query = index.parse(index.correct(tokens))
        matches = self._still_citable(index, index.search(query, limit=8))
        matches = _prefer_catalogue(index, index.rerank(query, matches), question)
        hits = tuple(self._hit(index, m, question) for m in matches[:_HITS])
        best = matches[0].score if matches else 0.0
        second = matches[1].score if len(matches) > 1 else 0.0
        margin = 1.0 - second / best if best > 0 else 0.0
        coverage = index.coverage(query, index.source_tokens(matches[0])) if matches else 0.0
        s = self.settings
        if (
            matches
            and best >= s.min_score
            and coverage >= s.min_coverage
            and margin >= s.min_margin
        ):
            body = self._compose(index, matches[0], question, prefix)
            return Answer("answer", body, hits, best, coverage, margin)
        text = (
            "Cảm ơn anh/chị đã hỏi. Câu hỏi đã được chuyển tới cán bộ của "
            f"{self.agency}; cán bộ sẽ trả lời anh/chị trong thời gian sớm nhất."
        )
        return Answer("abstain", prefix + text, hits, best, coverage, margin)

    def _still_citable(self, index: KnowledgeIndex, matches: list[Match]) -> list[Match]:
        """Matches without an article retracted since the index was built (one read)."""
        ids = [
            int(index.sources[m.source].ref)
            for m in matches
            if index.sources[m.source].kind == "article"
        ]
        if not ids:
            return matches
        live = self.store.knowledge.citable_ids(ids, self.website_channels)
        return [
            m
            for m in matches
            if index.sources[m.source].kind != "article" or int(index.sources[m.source].ref) in live
        ]

    def _hit(self, index: KnowledgeIndex, m: Match, question: str) -> Hit:
        src = index.sources[m.source]
        if src.kind == "procedure":
            passage = _procedure_fields(index.procedures[src.ref], asked_fields(question))
        else:
            passage = index.passages[m.passage].text
        return Hit(src, round(m.score, 3), _cut(passage, PASSAGE_CHARS))

    def _compose(self, index: KnowledgeIndex, m: Match, question: str, prefix: str) -> str:
        """The answer: ``prefix``, the copied fields or passage (cut to fit
        ``max_answer_chars``), and always the whole source line."""
        src = index.sources[m.source]
        if src.kind == "procedure":
            proc = index.procedures[src.ref]
            body = f"Thủ tục “{proc.ten}”:\n" + _procedure_fields(proc, asked_fields(question))
        elif src.kind == "saved":
            body = index.saved[src.ref].answer
        else:
            body = f"Theo bài “{src.title}”: " + _cut(index.passages[m.passage].text, PASSAGE_CHARS)
        source = _source_line(src)
        budget = self.settings.max_answer_chars - len(prefix) - len(source) - 1
        return prefix + _cut(body, max(budget, 80)) + "\n" + source


def _prefer_catalogue(index: KnowledgeIndex, matches: list[Match], question: str) -> list[Match]:
    """A question asking for a procedure's documents, deadline, fee or place is the
    catalogue's to answer: procedures' scores count ``CATALOGUE_BONUS`` more then."""
    if not asked_fields(question):
        return matches
    rescored = [
        Match(m.source, m.passage, m.score * (1.0 + CATALOGUE_BONUS))
        if index.sources[m.source].kind == "procedure"
        else m
        for m in matches
    ]
    return sorted(rescored, key=lambda m: -m.score)


def _procedure_fields(proc: Procedure, wanted: tuple[str, ...]) -> str:
    """The asked fields copied from the catalogue (a missing one is said to be missing); when
    none of them is filled, the main fields that are."""
    lines = []
    for key in wanted:
        value = getattr(proc, key).strip()
        lines.append(f"- {FIELD_LABELS[key]}: {_cut(value, 700) if value else MISSING}")
    if not any(getattr(proc, key).strip() for key in wanted):
        lines += [
            f"- {FIELD_LABELS[key]}: {_cut(getattr(proc, key).strip(), 700)}"
            for key in _DEFAULT_FIELDS
            if key not in wanted and getattr(proc, key).strip()
        ]
    return "\n".join(lines) or "- Danh mục chưa ghi chi tiết của thủ tục này."


def _source_line(src: Source) -> str:
    """``Nguồn: URL (cập nhật dd/mm/yyyy)``: a procedure's check date, an article's publication
    date, the day an admin's answer was saved."""
    label = {"procedure": "cập nhật", "article": "đăng ngày", "saved": "trả lời ngày"}[src.kind]
    when = f" ({label} {_vn_date(src.date)})" if src.date else ""
    if src.url:
        return f"Nguồn: {src.url}{when}"
    if src.kind == "procedure":
        return f"Nguồn: danh mục thủ tục hành chính, mã {src.ref}{when}"
    return f"Nguồn: câu trả lời của cán bộ{when}"


def _is_greeting(tokens: list[str]) -> bool:
    """Only greeting or thanks words ("chào ad", "cảm ơn ạ"), nothing else asked."""
    if not tokens or len(tokens) > 8:
        return False
    joined = " ".join(tokens)
    has_greeting = "chao" in tokens or any(
        w in joined for w in ("hello", "alo", "xin chao", "cam on", "thank", "hi")
    )
    return has_greeting and all(t in _GREETINGS or t in STOP_WORDS for t in tokens)


def folded(text: str) -> str:
    """The question as the index reads it (for `loa ask --json`)."""
    return fold(text)
