"""The search index over the assistant's knowledge: passages, BM25 (bm25s) and what a question
matched.

Passages: every source has a title passage (a procedure's name, an article's title, a saved
question) followed by its body: a procedure is one passage (its name, then every field under its
label, so that "hồ sơ", "lệ phí" or "nơi nộp" in a question meet the field they name); an article
is split into paragraph-sized passages, each carrying the title; a saved answer is its question and
answer. BM25 scores passages on folded syllable unigrams and bigrams; a source scores its title
passage plus its best body passage.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import re
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

import bm25s
import numpy as np

from bot.assistant.folding import STOP_WORDS, bigrams, fold, syllables
from bot.assistant.synonyms import Synonyms
from content_queue.knowledge import CitableArticle, Procedure, SavedAnswer

__all__ = [
    "FIELD_LABELS",
    "KnowledgeIndex",
    "Match",
    "Passage",
    "Query",
    "Source",
    "build_index",
]

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
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")  # dates in answers are Vietnamese calendar days
BM25_K1, BM25_B = 1.5, 0.75
TITLE_WEIGHT = 0.4  # tuned on the question set: 0.3-0.6 gave the same accuracy, 0.3 less
BIGRAM_WEIGHT = 1.0  # a bigram of the question counts in coverage as much as a syllable
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
_SYLLABLE = re.compile(r"[a-z0-9]+")
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
class Query:
    """A question as the index searches it."""

    tokens: list[str]  # folded syllables, typos corrected
    minor: tuple[bool, ...]  # per syllable: carries no topic (stop word, question phrase)
    found: list[tuple[int, int, int]]  # synonym phrases: (start, end, group)
    base: list[str]  # BM25 terms outside synonym phrases
    groups: list[list[list[str]]]  # per synonym group named: each phrase's BM25 terms


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
    starts: np.ndarray  # each source's first passage (its title); its others follow it
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
        ("phap" for "phapp", "su" for "xu" in "lanh xu"): the candidate that makes a known
        bigram with its neighbours first, then the most common."""
        out = list(tokens)
        for i, t in enumerate(tokens):
            if t in STOP_WORDS or len(t) < 2 or t.isdigit() or t in self.vocab:
                continue
            candidates: set[str] = set()
            for key in (t, *_deletes(t)):
                candidates.update(self._typo_keys.get(key, ()))
            if not candidates:
                continue
            prev = out[i - 1] if i > 0 else ""
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""

            def rank(c: str, prev: str = prev, nxt: str = nxt) -> tuple[int, int, str]:
                context = (f"{prev} {c}" in self.vocab) + (f"{c} {nxt}" in self.vocab)
                return (context, self.doc_freq(c), c)

            best = max(candidates, key=rank)
            if rank(best)[0]:  # only a guess a neighbour supports: "tre em" stays unknown
                out[i] = best
        return out

    def parse(self, tokens: list[str]) -> Query:
        """The question's BM25 terms: content unigrams and bigrams holding a content syllable
        outside synonym phrases, and for each synonym group it names, every phrase's terms."""
        found = self.synonyms.find(tokens)
        minor = _minor_mask(tokens)
        in_phrase = {i for start, end, _ in found for i in range(start, end)}
        phrase_of = {i: start for start, end, _ in found for i in range(start, end)}
        base = [t for i, t in enumerate(tokens) if not minor[i] and i not in in_phrase]
        for i in range(len(tokens) - 1):
            if minor[i] and minor[i + 1]:
                continue
            if i in phrase_of and phrase_of.get(i + 1) == phrase_of[i]:
                continue  # inside one synonym phrase: its group scores it
            base.append(f"{tokens[i]} {tokens[i + 1]}")
        groups: list[list[list[str]]] = []
        for _, _, g in found:
            variants = []
            for phrase in self.synonyms.groups[g]:
                ph = list(phrase)
                terms = [t for t in ph if t not in STOP_WORDS] + bigrams(ph)
                terms = [t for t in dict.fromkeys(terms) if t in self.vocab]
                if terms:
                    variants.append(terms)
            if variants:
                groups.append(variants)
        base = [t for t in dict.fromkeys(base) if t in self.vocab]
        return Query(tokens, tuple(minor), found, base, groups)

    # ----- search --------------------------------------------------------------------------------
    def scores(self, query: Query) -> np.ndarray:
        """Every passage's BM25 score: the base terms', plus for each synonym group the score
        of its best phrase (so a passage naming one phrase of a group scores as one naming all)."""
        assert self.retriever is not None
        total = np.zeros(self.size, dtype=np.float64)
        if query.base:
            total += self.retriever.get_scores(query.base)
        for variants in query.groups:
            best = np.zeros(self.size, dtype=np.float64)
            for terms in variants:
                np.maximum(best, self.retriever.get_scores(terms), out=best)
            total += best
        return total

    def search(self, query: Query, limit: int = 5) -> list[Match]:
        """The best ``limit`` sources for ``query``, best first, each with its best passage.

        A source's score is its title passage's plus its best other passage's (a BM25F-like
        sum: words of a procedure's name or an article's title count twice)."""
        if self.retriever is None or not (query.base or query.groups):
            return []
        scores = self.scores(query)
        titles = scores[self.starts]
        body = scores.copy()
        body[self.starts] = 0.0
        totals = titles + np.maximum.reduceat(body, self.starts)
        k = min(limit, len(totals))
        top = np.argpartition(-totals, k - 1)[:k]
        top = top[np.argsort(-totals[top], kind="stable")]
        out: list[Match] = []
        for src in top:
            total = float(totals[src])
            if total <= 0.0:
                break
            lo = int(self.starts[src])
            hi = int(self.starts[src + 1]) if src + 1 < len(self.starts) else len(scores)
            best = lo + 1 + int(np.argmax(body[lo + 1 : hi])) if hi > lo + 1 else lo
            out.append(Match(int(src), best, total))
        return out

    def title_recall(self, query: Query, match: Match) -> float:
        """The IDF-weighted share of the source's title that the question names (a synonym
        counts): of two procedures matching "hộ chiếu công vụ", the one whose name says no more
        than that (not "... do bị mất hoặc hư hỏng") is the one asked about."""
        named = set(query.tokens)
        for _, _, g in query.found:
            for phrase in self.synonyms.groups[g]:
                named.update(phrase)
        title = syllables(self.sources[match.source].title)
        weights = [(self.idf(t), t in named) for t in set(title) if t not in STOP_WORDS]
        total = sum(w for w, _ in weights)
        return sum(w for w, hit in weights if hit) / total if total else 0.0

    def rerank(self, query: Query, matches: list[Match]) -> list[Match]:
        """Matches re-scored by how much of their title the question names (``TITLE_WEIGHT`` of
        the score follows the title recall, the rest stands)."""
        rescored = [
            Match(
                m.source,
                m.passage,
                m.score * (1.0 - TITLE_WEIGHT + TITLE_WEIGHT * self.title_recall(query, m)),
            )
            for m in matches
        ]
        return sorted(rescored, key=lambda m: -m.score)

    def coverage(self, query: Query, text_tokens: list[str]) -> float:
        """The IDF-weighted share of the question's content (syllables, bigrams of content
        syllables, synonym groups) present in ``text_tokens``."""
        tokens, found, minor = query.tokens, query.found, query.minor
        have_uni = set(text_tokens)
        have_bi = set(bigrams(text_tokens))
        in_phrase: set[int] = set()
        total = covered = 0.0
        for start, end, g in found:
            in_phrase.update(range(start, end))
            weight = max(
                (self.idf(t) for t in tokens[start:end] if t not in STOP_WORDS), default=0.0
            )
            if not weight:
                continue
            total += weight
            if any(_phrase_in(p, have_uni, have_bi) for p in self.synonyms.groups[g]):
                covered += weight
        for i, t in enumerate(tokens):
            if i in in_phrase or minor[i]:
                continue
            w = self.idf(t)
            total += w
            covered += w if t in have_uni else 0.0
        for i in range(len(tokens) - 1):
            a, b = tokens[i], tokens[i + 1]
            if i in in_phrase or i + 1 in in_phrase or minor[i] or minor[i + 1]:
                continue
            bi = f"{a} {b}"
            w = BIGRAM_WEIGHT * self.idf(bi)
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


# Two-syllable question phrases that carry no topic although a syllable of them may ("thế nào":
# "the" is also "thẻ", a card).
QUESTION_PHRASES = frozenset({"the nao", "nhu the", "bao nhieu", "khi nao", "ra sao", "o dau"})


def _minor_mask(tokens: list[str]) -> list[bool]:
    """Which syllables carry no topic: stop words, single letters, question phrases."""
    minor = [t in STOP_WORDS or len(t) < 2 for t in tokens]
    for i in range(len(tokens) - 1):
        if f"{tokens[i]} {tokens[i + 1]}" in QUESTION_PHRASES:
            minor[i] = minor[i + 1] = True
    return minor


def _phrase_in(phrase: tuple[str, ...], uni: set[str], bi: set[str]) -> bool:
    if len(phrase) == 1:
        return phrase[0] in uni
    return all(f"{a} {b}" in bi for a, b in zip(phrase, phrase[1:], strict=False))


def _deletes(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def procedure_text(p: Procedure) -> str:
    """What the index reads of a procedure: its name, then each field under its label."""
    parts = [p.ten]
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
    """An index over the given knowledge (the work of a refresh; about two seconds for 5,000
    articles, see benchmarks/assistant.py)."""
    sources: list[Source] = []
    passages: list[Passage] = []
    corpus: list[list[str]] = []  # per passage, its lines
    starts: list[int] = []

    def _add(text: str, lines: list[str]) -> None:
        """A passage of the last source; its first passage is its title."""
        if len(starts) < len(sources):
            starts.append(len(passages))
        passages.append(Passage(len(sources) - 1, text))
        corpus.append(lines)

    for p in procedures:
        sources.append(Source("procedure", p.ma, p.ten, p.url, p.cap_nhat))
        _add(p.ten, [p.ten])
        _add(p.ten, procedure_text(p).split("\n"))
    for a in articles:
        day = a.published_at.astimezone(LOCAL).date() if a.published_at else None
        sources.append(Source("article", str(a.id), a.title, a.url, day))
        _add(a.title, [a.title])
        for text in article_passages(a):
            _add(text, [text])
    for s in saved:
        sources.append(
            Source(
                "saved",
                str(s.id),
                s.question[:200],
                s.source_url or "",
                s.saved_at.astimezone(LOCAL).date(),
            )
        )
        _add(s.question, s.question.split("\n"))
        _add(s.answer, f"{s.question}\n{s.answer}".split("\n"))
    retriever: bm25s.BM25 | None = None
    vocab: dict[str, int] = {}
    df = np.zeros(0, dtype=np.int64)
    if corpus:
        token_ids, vocab = _encode(corpus)
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        retriever.index((token_ids, vocab), show_progress=False)
        df = np.diff(np.asarray(retriever.scores["indptr"]))
    _return_freed_memory()
    typo_keys: dict[str, list[str]] = {}
    for term, i in vocab.items():
        if " " in term or len(term) < 2 or term.isdigit() or term in STOP_WORDS or not df[i]:
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
        starts=np.asarray(starts, dtype=np.int64),
        vocab=vocab,
        df=df,
        _typo_keys=typo_keys,
    )


def _return_freed_memory() -> None:
    """Give the heap the build freed back to the system: glibc keeps it otherwise (about 150 MB
    resident for 5,000 articles, see benchmarks/assistant.py). Best effort, Linux only."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


class _Numbering(dict[str, int]):
    """Numbers keys in the order they are first looked up (no Python frame for a known key)."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


def _encode(corpus: list[list[str]]) -> tuple[list[list[int]], dict[str, int]]:
    """Each passage's BM25 terms as ids, and the vocabulary (term → id); ``corpus`` holds each
    passage's lines.

    Terms: syllables that carry a topic (no stop word, no single letter) and bigrams of adjacent
    syllables of one line of which at least one carries a topic — the terms a question can ask
    for. Syllables become ids as they are read and bigrams are formed with numpy on those ids,
    so only distinct bigrams ever become strings, and every id in the returned lists is one
    shared int object (the lists hold pointers only)."""
    syllable_id = _Numbering()
    flat = array("q")
    lengths = array("q")
    find, number = _SYLLABLE.findall, syllable_id.__getitem__
    for lines in corpus:
        n = len(flat)
        for line in lines:
            flat.extend(map(number, find(fold(line))))
            flat.append(-1)  # no bigram across lines or passages
        lengths.append(len(flat) - n)
    names = list(syllable_id)
    n_syl = len(names)
    minor = np.fromiter((t in STOP_WORDS or len(t) < 2 for t in names), dtype=bool, count=n_syl)
    ids = np.frombuffer(flat, dtype=np.int64)
    owner = np.repeat(np.arange(len(corpus), dtype=np.int32), np.frombuffer(lengths, np.int64))
    known = ids >= 0
    safe = np.where(known, ids, 0)
    del flat
    uni = known & ~minor[safe]
    left, right = safe[:-1], safe[1:]
    bi = known[:-1] & known[1:] & ~(minor[left] & minor[right])
    distinct, inverse = np.unique(left[bi] * n_syl + right[bi], return_inverse=True)
    # Each passage's terms: its syllables, then its bigrams (both already in passage order, so
    # each finds its place by counting, without a sort).
    uni_ids, uni_owner = ids[uni], owner[uni]
    bi_ids, bi_owner = n_syl + inverse.reshape(-1), owner[:-1][bi]
    del ids, owner, known, safe, uni, bi, left, right, inverse
    n = len(corpus)
    uni_count = np.bincount(uni_owner, minlength=n)
    bi_count = np.bincount(bi_owner, minlength=n)
    ends = np.cumsum(uni_count + bi_count)
    starts = ends - uni_count - bi_count
    uni_first = np.cumsum(uni_count) - uni_count
    bi_first = np.cumsum(bi_count) - bi_count
    terms = np.empty(int(ends[-1]) if n else 0, dtype=np.int64)
    terms[starts[uni_owner] + np.arange(len(uni_ids)) - uni_first[uni_owner]] = uni_ids
    terms[starts[bi_owner] + uni_count[bi_owner] + np.arange(len(bi_ids)) - bi_first[bi_owner]] = (
        bi_ids
    )
    shared = np.arange(n_syl + len(distinct)).astype(object)  # one int object per id
    terms = shared[terms]
    bounds = np.concatenate(([0], ends)).tolist()
    per_passage = [terms[lo:hi].tolist() for lo, hi in zip(bounds, bounds[1:], strict=False)]
    vocab = dict(zip(names, range(n_syl), strict=True))
    for j, key in enumerate(distinct.tolist()):
        vocab[f"{names[key // n_syl]} {names[key % n_syl]}"] = n_syl + j
    return per_passage, vocab
