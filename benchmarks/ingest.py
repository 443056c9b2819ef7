"""Time and peak memory of ingestion, each file in its worker process (as the service does it).

1. a realistic 15 MB .docx: a long article with tables and 12 photos (random-noise JPEGs, so
   they do not compress), with the production defaults (``IngestLimits()``);
2. the hostile corpus of tests/helpers/hostile_corpus.py, with its small limits (the CPU- and
   memory-exhausting files run until the worker's limits stop them).

Prints per-file wall time, worker CPU and worker peak RSS, and the totals. Targets for (1): under
5 s and under 400 MB RSS on 2 cores. Run: ``.venv/bin/python benchmarks/ingest.py``.
"""

from __future__ import annotations

import io
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document
from docx.shared import Cm
from PIL import Image

from content_queue.ingest import IngestLimits, IngestRefusal, parse_isolated
from content_queue.ingest.worker import WorkerUsage
from content_queue.topics import default_topics

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers.hostile_corpus import CORPUS_LIMITS, build_corpus  # noqa: E402

MB = 1024 * 1024
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SENTENCE = (
    "Sở Ngoại vụ tỉnh Lạng Sơn tiếp tục đẩy mạnh cải cách hành chính, nâng cao chất lượng "
    "dịch vụ công trực tuyến toàn trình và mức độ hài lòng của người dân, doanh nghiệp. "
)


def noise_jpeg(rnd: random.Random, size: tuple[int, int]) -> bytes:
    """A photo-sized JPEG of random noise: it barely compresses, like a real photo's size."""
    img = Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def realistic_docx(path: Path, photos: int = 12, target_bytes: int = 15 * MB) -> Path:
    """A long Word article with headings, tables and ``photos`` noise photos, about 15 MB."""
    rnd = random.Random(2026)
    doc = Document()
    doc.add_heading("Sở Ngoại vụ tổng kết công tác cải cách hành chính năm 2026", level=0)
    doc.add_paragraph("Chủ đề: a")
    per_photo = target_bytes // photos
    side = 1200
    while len(noise_jpeg(rnd, (side, side * 3 // 4))) < per_photo * 0.95 and side < 4000:
        side += 100
    for i in range(photos):
        doc.add_heading(f"Phần {i + 1}. Kết quả nổi bật", level=2)
        for _ in range(10):
            doc.add_paragraph(SENTENCE * rnd.randint(2, 5))
        table = doc.add_table(rows=6, cols=4)
        for r in range(6):
            for c in range(4):
                table.cell(r, c).text = f"Chỉ tiêu {r}.{c}: {rnd.randint(50, 100)}%"
        doc.add_picture(io.BytesIO(noise_jpeg(rnd, (side, side * 3 // 4))), width=Cm(15))
    doc.save(str(path))
    return path


def run(path: Path, limits: IngestLimits, media: Path) -> tuple[str, WorkerUsage | None, float]:
    usage: list[WorkerUsage] = []
    started = time.monotonic()
    try:
        article = parse_isolated(
            path,
            known_channels=("website", "facebook", "zalo"),
            topics=default_topics(),
            limits=limits,
            now=datetime.now(UTC),
            tz=TZ,
            media_dir=media,
            on_usage=usage.append,
        )
        outcome = f"ok ({len(article.images)} images, {len(article.body_text):,} chars)"
    except IngestRefusal as refusal:
        outcome = refusal.code
    return outcome, (usage[0] if usage else None), time.monotonic() - started


def line(name: str, outcome: str, usage: WorkerUsage | None, wall: float) -> str:
    rss = f"{usage.max_rss_bytes / MB:7.1f} MB" if usage else "      ?   "
    cpu = f"{usage.cpu_seconds:6.2f} s" if usage else "     ?  "
    return f"  {name[:44]:44} {wall:6.2f} s  cpu {cpu}  rss {rss}  {outcome}"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="loa-bench-ingest-"))
    big = realistic_docx(work / "tong-ket-cchc-2026.docx")
    print(f"realistic .docx: {big.stat().st_size / MB:.1f} MB, 12 photos (production limits)")
    warm = work / "khoi-dong.md"
    warm.write_text("# Khởi động\n\nNội dung.\n", "utf-8")
    run(warm, IngestLimits(), work / "media")  # starts the fork server
    outcome, usage, wall = run(big, IngestLimits(), work / "media")
    print(line(big.name, outcome, usage, wall))
    cases = build_corpus(work / "corpus")
    print(
        f"hostile corpus: {len(cases)} entries (corpus limits: "
        f"{CORPUS_LIMITS.worker_cpu_seconds} s CPU, {CORPUS_LIMITS.worker_memory_bytes // MB} MB)"
    )
    total, peak, cpu = 0.0, 0, 0.0
    light_total = 0.0
    for case in cases:
        outcome, usage, wall = run(case.path, CORPUS_LIMITS, work / "media")
        total += wall
        cpu += usage.cpu_seconds if usage else 0.0
        if case.expect != "processing_limits":
            light_total += wall
            peak = max(peak, usage.max_rss_bytes if usage else 0)
        print(line(case.name, outcome, usage, wall))
    print(
        f"corpus total: {total:.2f} s wall, {cpu:.2f} s worker CPU; without the {sum(c.expect == 'processing_limits' for c in cases)} "
        f"files stopped by the limits: {light_total:.2f} s, worker peak RSS {peak / MB:.1f} MB"
    )
    print(
        f"service process peak RSS: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB"
    )


if __name__ == "__main__":
    main()
