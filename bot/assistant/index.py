"""The search index over the assistant's knowledge: passages, BM25 (bm25s) and what a question
matched.

Passages: a procedure is one passage (its name twice, then every field with its label, so that
"hồ sơ", "lệ phí" or "nơi nộp" in a question meet the field they name); an article is split into
paragraph-sized passages, each carrying the article's title; a saved answer is one passage (its
question twice, then the answer). BM25 scores passages on folded syllable unigrams and bigrams; a
source's score is that of its best passage.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import bm25s
import numpy as np

from bot.assistant.folding import STOP_WORDS, bigrams, syllables
from bot.assistant.synonyms import Synonyms
from content_queue.knowledge import CitableArticle, Procedure, SavedAnswer

__all__ = ["FIELD_LABELS", "KnowledgeIndex", "Match", "Passage", "Source", "build_index"]

# How answers and the index name each field of a procedure.
FIELD_LABELS: dict[str, str] = {
    "linh_vuc": "Lĩnh vực",
    "doi_tuong": "Đối tượng thực hiện",
    "co_quan": "Cơ quan thực hiện, nơi nộp hồ sơ",
    "cach_thuc": "Cách thức nộp hồ sơ",
    "trinh_tu": "Trình tự thực hiện",
    "ho_so": "Thành phần hồ sơ, giấy tờ",
    "thoi_han": "Thời hạn giải quyết",
    "phi": "Phí, lệ phí",
    "can_cu": "Căn cứ pháp lý",
}
PASSAGE_CHARS = 600
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
_TOP_PASSAGES = 64
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class Source:
    """Where an answer comes from; ``url`` is the link the answer names."""

    kind: Literal["article", "procedure", "saved"]
    ref: str  # article id, procedure `ma`, or saved-answer id
    title: str
    url: str
    date: date | None


@dataclass(frozen=True)
class Passage:
    source: int  # index in KnowledgeIndex.sources
    text: str  # shown to people (articles, saved answers); the procedure's name for procedures


@dataclass(frozen=True)
class Match:
    """One source a question found: its best passage and score, and for the best source the
    share of the question's content it covers."""

    source: int
    passage: int
    score: float


@dataclass
class KnowledgeIndex:
    sources: list[Source]
    passages: list[Passage]
    procedures: dict[str, Procedure]
    saved: dict[str, SavedAnswer]
    synonyms: Synonyms
    retriever: bm25s.BM25 | None
    passage_source: np.ndarray
    vocab: dict[str, int]
    df: np.ndarray
    _typo_keys: dict[str, list[str]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.passages)

    # ----- the question's terms ----------------------------------------------------------------
    def doc_freq(self, term: str) -> int:
        i = self.vocab.get(term)
        return int(self.df[i]) if i is not None else 0

    def idf(self, term: str) -> float:
        n = max(self.size, 1)
        d = self.doc_freq(term)
        return math.log(1.0 + (n - d + 0.5) / (d + 0.5))

    def correct(self, tokens: list[str]) -> list[str]:
        """Content syllables the index does not know replaced by a known one at one edit
        ("phap" for "phapp", "chieu" for "chiu"), the most common when several fit."""
        out = []
        for t in tokens:
            if t in STOP_WORDS or len(t) < 3 or t.isdigit() or t in self.vocab:
                out.append(t)
                continue
            candidates: set[str] = set()
            for key in (t, *_deletes(t)):
                candidates.update(self._typo_keys.get(key, ()))
            best = max(candidates, key=lambda c: (self.doc_freq(c), c), default=t)
            out.append(best)
        return out

    def query_terms(self, tokens: list[str]) -> tuple[list[str], list[tuple[int, int, int]]]:
        """BM25 terms of a question (content unigrams, bigrams holding a content syllable, and
        the phrases of every synonym group it names) and the synonym phrases found."""
        found = self.synonyms.find(tokens)
        terms = [t for t in tokens if t not in STOP_WORDS]
        terms += [b for b in bigrams(tokens) if any(s not in STOP_WORDS for s in b.split(" "))]
        for _, _, g in found:
            for phrase in self.synonyms.groups[g]:
                ph = list(phrase)
                terms += [t for t in ph if t not in STOP_WORDS] + bigrams(ph)
        seen: set[str] = set()
        unique = [t for t in terms if not (t in seen or seen.add(t))]  # type: ignore[func-returns-value]
        return [t for t in unique if t in self.vocab], found

    # ----- search --------------------------------------------------------------------------------
    def search(self, terms: Sequence[str], limit: int = 5) -> list[Match]:
        """The best ``limit`` sources for ``terms``, best first, each with its best passage."""
        if self.retriever is None or not terms:
            return []
        scores = self.retriever.get_scores(list(terms))
        k = min(_TOP_PASSAGES, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        out: list[Match] = []
        seen: set[int] = set()
        for p in top:
            score = float(scores[p])
            if score <= 0.0:
                break
            s = int(self.passage_source[p])
            if s in seen:
                continue
            seen.add(s)
            out.append(Match(s, int(p), score))
            if len(out) >= limit:
                break
        return out

    def coverage(
        self, tokens: list[str], found: list[tuple[int, int, int]], text_tokens: list[str]
    ) -> float:
        """The IDF-weighted share of the question's content (syllables, bigrams of content
        syllables, synonym groups) present in ``text_tokens``."""
        have_uni = set(text_tokens)
        have_bi = set(bigrams(text_tokens))
        in_phrase: set[int] = set()
        total = covered = 0.0
        for start, end, g in found:
            in_phrase.update(range(start, end))
            weight = max((self.idf(t) for t in tokens[start:end] if t not in STOP_WORDS), default=0)
            if not weight:
                continue
            total += weight
            if any(_phrase_in(p, have_uni, have_bi) for p in self.synonyms.groups[g]):
                covered += weight
        for i, t in enumerate(tokens):
            if i in in_phrase or t in STOP_WORDS:
                continue
            w = self.idf(t)
            total += w
            covered += w if t in have_uni else 0.0
        for i in range(len(tokens) - 1):
            a, b = tokens[i], tokens[i + 1]
            if i in in_phrase or i + 1 in in_phrase or a in STOP_WORDS or b in STOP_WORDS:
                continue
            bi = f"{a} {b}"
            w = 0.5 * self.idf(bi)
            total += w
            covered += w if bi in have_bi else 0.0
        return covered / total if total else 0.0

    def source_tokens(self, match: Match) -> list[str]:
        """The syllables a match's coverage is measured on: the procedure or saved answer whole,
        an article's passage with its title."""
        src = self.sources[match.source]
        if src.kind == "procedure":
            return syllables(procedure_text(self.procedures[src.ref]))
        return syllables(self.passages[match.passage].text) + syllables(src.title)


def _phrase_in(phrase: tuple[str, ...], uni: set[str], bi: set[str]) -> bool:
    if len(phrase) == 1:
        return phrase[0] in uni
    return all(f"{a} {b}" in bi for a, b in zip(phrase, phrase[1:], strict=False))


def _deletes(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def procedure_text(p: Procedure) -> str:
    """What the index reads of a procedure: its name twice, then each field under its label."""
    parts = [p.ten, p.ten]
    for key, label in FIELD_LABELS.items():
        value = getattr(p, key)
        if value:
            parts.append(f"{label}: {value}")
    return "\n".join(parts)


def article_passages(article: CitableArticle, limit: int = PASSAGE_CHARS) -> list[str]:
    """Paragraph-sized passages of an article's text: short paragraphs joined, long ones cut at a
    sentence (then at a space) so that each holds at most ``limit`` characters."""
    pieces: list[str] = []
    for para in _PARAGRAPH.split(article.body_text or ""):
        para = " ".join(para.split())
        if not para:
            continue
        if len(para) <= limit:
            pieces.append(para)
            continue
        for sentence in _SENTENCE.split(para):
            while len(sentence) > limit:
                cut = sentence.rfind(" ", 0, limit)
                cut = cut if cut > limit // 2 else limit
                pieces.append(sentence[:cut])
                sentence = sentence[cut:].strip()
            if sentence:
                pieces.append(sentence)
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 1 + len(piece) <= limit and len(out[-1]) < limit // 2:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    summary = " ".join((article.summary or "").split())
    if summary and summary not in out:
        out.insert(0, summary[:limit])
    return out or [article.title]


def build_index(
    procedures: Sequence[Procedure],
    articles: Sequence[CitableArticle],
    saved: Sequence[SavedAnswer],
    synonyms: Synonyms,
) -> KnowledgeIndex:
    """An index over the given knowledge (the work of a refresh; a second or so for 5,000
    articles)."""
    sources: list[Source] = []
    passages: list[Passage] = []
    corpus: list[list[str]] = []
    for p in procedures:
        sources.append(Source("procedure", p.ma, p.ten, p.url, p.cap_nhat))
        passages.append(Passage(len(sources) - 1, p.ten))
        corpus.append(_terms(procedure_text(p)))
    for a in articles:
        sources.append(
            Source(
                "article",
                str(a.id),
                a.title,
                a.url,
                a.published_at.date() if a.published_at else None,
            )
        )
        title = syllables(a.title)
        for text in article_passages(a):
            passages.append(Passage(len(sources) - 1, text))
            corpus.append(_with_bigrams(title + syllables(text)))
    for s in saved:
        sources.append(
            Source("saved", str(s.id), s.question[:200], s.source_url or "", s.saved_at.date())
        )
        passages.append(Passage(len(sources) - 1, s.answer))
        corpus.append(_terms(f"{s.question}\n{s.question}\n{s.answer}"))
    retriever: bm25s.BM25 | None = None
    vocab: dict[str, int] = {}
    df = np.zeros(0, dtype=np.int64)
    if corpus:
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        vocab = dict(retriever.vocab_dict)
        df = np.diff(np.asarray(retriever.scores["indptr"]))
    typo_keys: dict[str, list[str]] = {}
    for term in vocab:
        if " " in term or len(term) < 3 or term.isdigit():
            continue
        for key in (term, *_deletes(term)):
            typo_keys.setdefault(key, []).append(term)
    return KnowledgeIndex(
        sources=sources,
        passages=passages,
        procedures={p.ma: p for p in procedures},
        saved={str(s.id): s for s in saved},
        synonyms=synonyms,
        retriever=retriever,
        passage_source=np.asarray([p.source for p in passages], dtype=np.int64),
        vocab=vocab,
        df=df,
        _typo_keys=typo_keys,
    )


def _with_bigrams(tokens: list[str]) -> list[str]:
    return tokens + bigrams(tokens)


def _terms(text: str) -> list[str]:
    # Each line on its own, so that no bigram joins the end of one field to the next.
    out: list[str] = []
    for line in text.split("\n"):
        out += _with_bigrams(syllables(line))
    return out
