"""The assistant: index build time, answer latency and memory on a big knowledge base.

    .venv/bin/python benchmarks/assistant.py [--articles 5000] [--procedures 200] [--rounds 5]

Seeds (straight into a fresh SQLite file) N published articles of CCHC-like Vietnamese text
(~2,500 characters, 5-7 paragraphs each, each with a sent website delivery) and M procedures (the
20 of the sample catalogue plus generated ones), then measures:

- index build: ``Assistant.refresh(force=True)`` (read knowledge + passages + BM25), median of 3;
- answer: every question of ``tests/data/assistant_questions.json`` asked ``--rounds`` times
  through ``Assistant.answer`` (the version check and the citable-article guard included);
  p50/p95/p99;
- memory: the process's peak RSS before the index, after its first build, and at the end
  (``ru_maxrss``; a rebuild keeps answering from the old index while the new one is built).

Targets (issue 23): answer p95 < 100 ms with 5,000 articles and 200 procedures; build < 5 s.
The webhook → 200 figure of the same issue is ``benchmarks/webhooks.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.assistant.answering import Assistant  # noqa: E402
from bot.settings import AssistantSettings  # noqa: E402
from content_queue.knowledge import read_catalogue  # noqa: E402
from content_queue.knowledge.catalogue import ProcedureRow  # noqa: E402
from content_queue.models import Actor  # noqa: E402
from content_queue.store import Store  # noqa: E402
from content_queue.tables import articles, deliveries  # noqa: E402

SAMPLE = ROOT / "bot" / "demo_articles" / "thu_tuc_mau.json"
QUESTIONS = ROOT / "tests" / "data" / "assistant_questions.json"

# Topics of the catalogue: an article names one in about one sentence out of twenty (the
# department writes about them, but not in every article).
TOPICS = (
    "hợp pháp hóa lãnh sự",
    "chứng nhận lãnh sự",
    "hộ chiếu công vụ",
    "thẻ ABTC",
    "viện trợ phi chính phủ nước ngoài",
    "hội nghị, hội thảo quốc tế",
    "đoàn khách nước ngoài",
)
PHRASES = (
    "cải cách hành chính",
    "thủ tục hành chính",
    "Bộ phận một cửa",
    "dịch vụ công trực tuyến",
    "người dân và doanh nghiệp",
    "hợp tác quốc tế",
    "chuyển đổi số",
    "xây dựng chính quyền điện tử",
    "phòng chống tham nhũng",
    "thi đua khen thưởng",
    "công tác cán bộ",
    "quy chế dân chủ cơ sở",
    "quản lý tài chính công",
    "hệ thống quản lý chất lượng ISO",
    "lưu trữ hồ sơ điện tử",
    "an toàn thông tin mạng",
    "chỉ số hài lòng",
    "thời hạn giải quyết",
    "hồ sơ trực tuyến",
    "Sở Ngoại vụ",
    "UBND tỉnh",
    "kế hoạch năm 2026",
    "kiểm soát thủ tục",
    "công chức tiếp nhận",
    "đối ngoại nhân dân",
    "kinh tế cửa khẩu",
    "thông tin đối ngoại",
    "tổ chức bộ máy",
    "văn bản quy phạm pháp luật",
)
VERBS = ("triển khai", "tăng cường", "hướng dẫn", "đánh giá", "kiểm tra", "tổng kết", "rà soát")
FILLER = (
    "nhằm nâng cao chất lượng phục vụ",
    "theo chỉ đạo của lãnh đạo",
    "trong quý vừa qua",
    "đạt kết quả tích cực",
    "bảo đảm đúng quy định",
    "với sự tham gia của các phòng chuyên môn",
)


def sentence(rnd: random.Random) -> str:
    topic = rnd.choice(TOPICS) if rnd.random() < 0.05 else rnd.choice(PHRASES)
    return (
        f"{rnd.choice(VERBS).capitalize()} {topic} và {rnd.choice(PHRASES)} "
        f"{rnd.choice(FILLER)}, {rnd.choice(VERBS)} {rnd.choice(PHRASES)}."
    )


def seed(store: Store, n_articles: int, n_procedures: int) -> None:
    rnd = random.Random(23)
    now = datetime.now(UTC)
    arts, dels = [], []
    for i in range(1, n_articles + 1):
        at = now - timedelta(hours=i)
        body = "\n\n".join(
            " ".join(sentence(rnd) for _ in range(rnd.randint(3, 5)))
            for _ in range(rnd.randint(5, 7))
        )
        arts.append(
            dict(
                id=i,
                title=f"{rnd.choice(VERBS).capitalize()} {rnd.choice(PHRASES)} ({i})",
                topic="a",
                state="published",
                submitted_at=at,
                approved_at=at,
                content_hash=f"h{i}",
                updated_at=at,
                images=[],
                channels=[],
                summary="",
                body_html="",
                body_text=body,
            )
        )
        dels.append(
            dict(
                id=i,
                article_id=i,
                channel="website",
                state="sent",
                idempotency_key=f"k{i}",
                remote_id=str(i),
                url=f"https://example.gov.vn/tin-tuc/{i}/",
                sent_at=at,
                updated_at=at,
            )
        )
    with store.engine.begin() as conn:
        for k in range(0, len(arts), 2000):
            conn.execute(articles.insert(), arts[k : k + 2000])
            conn.execute(deliveries.insert(), dels[k : k + 2000])
    rows = read_catalogue(SAMPLE)
    for j in range(n_procedures - len(rows)):
        base = rows[j % 20]
        rows.append(
            ProcedureRow(
                ma=f"8.{j:06d}",
                ten=f"{rnd.choice(VERBS).capitalize()} {rnd.choice(PHRASES)} về "
                f"{rnd.choice(PHRASES)} ({j})",
                co_quan=base.co_quan,
                ho_so=base.ho_so + "; " + sentence(rnd),
                thoi_han=base.thoi_han,
                phi=base.phi,
                trinh_tu=" ".join(sentence(rnd) for _ in range(3)),
                url=f"https://example.gov.vn/thu-tuc/{j}",
            )
        )
    store.knowledge.import_procedures(rows, Actor("benchmark", "cli"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mb() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1048576


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=5000)
    ap.add_argument("--procedures", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--verbose", action="store_true", help="print the set's misses")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="loa-bench-assistant-"))
    store = Store.open(f"sqlite:///{work / 'loa.db'}")
    t0 = time.perf_counter()
    seed(store, args.articles, args.procedures)
    print(
        f"seeded {args.articles} articles and {args.procedures} procedures "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    rss_before = peak_rss_mb()
    assistant = Assistant(store, AssistantSettings(), agency="Sở Ngoại vụ tỉnh Mẫu")
    builds, cpu = [], []
    for run in range(3):
        t, c = time.perf_counter(), time.process_time()
        assistant.refresh(force=True)
        builds.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if run == 0:
            rss_first, resident_first = peak_rss_mb(), resident_mb()
    index = assistant._index
    assert index is not None
    print(
        f"index build: median {statistics.median(builds):.2f} s (runs: "
        + ", ".join(f"{b:.2f}" for b in builds)
        + f"; CPU median {statistics.median(cpu):.2f} s); {index.size} passages, "
        f"{len(index.sources)} sources, {len(index.vocab)} terms"
    )
    t = time.perf_counter()
    assistant.refresh()
    print(f"refresh with nothing changed: {1000 * (time.perf_counter() - t):.1f} ms")

    labelled = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    times: list[float] = []
    kinds: dict[str, int] = {}
    right = {"in": 0, "out": 0}
    for r in range(args.rounds):
        for item in labelled:
            t = time.perf_counter()
            a = assistant.answer(item["q"])
            times.append(1000 * (time.perf_counter() - t))
            kinds[a.kind] = kinds.get(a.kind, 0) + 1
            if r == 0:
                got = (
                    f"{a.hits[0].source.kind}:{a.hits[0].source.ref}" if a.kind == "answer" else ""
                )
                if item["expect"].startswith("procedure:"):
                    right["in"] += got == item["expect"]
                    if args.verbose and got != item["expect"]:
                        print(
                            f"  {item['q']}: {a.kind} {got} best {a.best:.1f} "
                            f"coverage {a.coverage:.2f} margin {a.margin:.2f}"
                        )
                elif item["expect"] == "abstain":
                    right["out"] += a.kind == "abstain"
                    if args.verbose and a.kind != "abstain":
                        print(
                            f"  {item['q']}: {a.kind} {got} best {a.best:.1f} "
                            f"coverage {a.coverage:.2f} margin {a.margin:.2f}"
                        )
    print(
        f"answer: {len(times)} questions, p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms,"
        f" p99 {pct(times, 99):.1f} ms, max {max(times):.1f} ms ({kinds})"
    )
    n_in = sum(i["expect"].startswith("procedure:") for i in labelled)
    n_out = sum(i["expect"] == "abstain" for i in labelled)
    print(
        f"question set among {args.articles} unrelated articles (default thresholds): procedure "
        f"questions right {right['in']}/{n_in}, out-of-scope abstained {right['out']}/{n_out}"
    )
    print(
        f"memory: peak RSS {rss_before:.0f} MB after seeding, {rss_first:.0f} MB during the first "
        f"build, {peak_rss_mb():.0f} MB after rebuilds and answers (a rebuild holds the old "
        f"index until the new one is ready); resident {resident_first:.0f} MB after the first "
        f"build, {resident_mb():.0f} MB at the end"
    )
    store.engine.dispose()


if __name__ == "__main__":
    main()
