"""A hostile corpus for ingestion, generated on the spot (no large binaries in git).

Each case is one entry an editor (or an attacker) could drop into the inbox, send to the bot or
pass to ``loa submit``, with the issue-14 item it covers and what must happen: a refusal code, or
``"ok"`` (the file is cleaned and taken). ``CORPUS_LIMITS`` are the bounds the expectations are
written for (small, so every bound is reached with small files). Used by tests/integration/test_hostile_files.py
and benchmarks/ingest.py.
"""

from __future__ import annotations

import io
import os
import random
import socket
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from PIL import Image

from content_queue.ingest import IngestLimits

__all__ = [
    "CORPUS_LIMITS",
    "SECRET",
    "Case",
    "build_corpus",
    "good_article",
    "linked_image_docx",
    "png_bytes",
]

MB = 1024 * 1024
SECRET = "LOA_TELEGRAM__TOKEN=123456:hostile-corpus-secret-never-published"
CORPUS_LIMITS = IngestLimits(
    max_body_chars=50_000,
    max_docx_xml_bytes=2 * MB,
    max_zip_entries=50,
    max_unzipped_bytes=20 * MB,
    max_images=5,
    worker_memory_bytes=512 * MB,
    worker_cpu_seconds=2,
    worker_timeout_seconds=10.0,
)


@dataclass(frozen=True)
class Case:
    """One dropped entry: ``expect`` is a refusal code or ``"ok"``; ``check`` looks further."""

    name: str
    item: int
    expect: str
    path: Path
    check: Callable[[object], None] | None = None


def png_bytes(size: tuple[int, int] = (8, 6), color: tuple[int, int, int] = (200, 0, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def good_article(path: Path, n: int) -> Path:
    """A well-formed Markdown article (distinct for each ``n``)."""
    path.write_text(
        f"---\ntitle: Bài tốt số {n}\ntopic: a\n---\nNội dung bài tốt số {n}: Sở "
        "Ngoại vụ đẩy mạnh cải cách hành chính.\n",
        "utf-8",
    )
    return path


def _docx_bytes(paragraphs: int = 3, image: bytes | None = None) -> bytes:
    doc = Document()
    doc.add_heading("Bài Word", level=1)
    for i in range(paragraphs):
        doc.add_paragraph(f"Đoạn {i}: cải cách hành chính.")
    if image is not None:
        doc.add_picture(io.BytesIO(image))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _rewrite_zip(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info)))
    return out.getvalue()


def linked_image_docx(target: str) -> bytes:
    """A .docx whose picture is *linked* to ``target`` (Insert → Picture → Link to File)."""

    def change(name: str, data: bytes) -> bytes:
        if not name.endswith((".xml", ".rels")):
            return data
        text = data.decode("utf-8")
        if name == "word/document.xml":
            start = text.index('r:embed="') + len('r:embed="')
            rid = text[start : text.index('"', start)]
            return text.replace(f'r:embed="{rid}"', 'r:link="rIdLoaLinked"').encode("utf-8")
        if name == "word/_rels/document.xml.rels":
            rel = (
                '<Relationship Id="rIdLoaLinked" Type="http://schemas.openxmlformats.org/'
                f'officeDocument/2006/relationships/image" Target="{target}" '
                'TargetMode="External"/>'
            )
            return text.replace("</Relationships>", rel + "</Relationships>").encode("utf-8")
        return data

    return _rewrite_zip(_docx_bytes(image=png_bytes()), change)


def _big_xml_docx(size: int) -> bytes:
    rnd = random.Random(14)
    filler = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(size))

    def change(name: str, data: bytes) -> bytes:
        if name == "word/document.xml":
            return data.replace(b"<w:body>", f"<w:body><!-- {filler} -->".encode(), 1)
        return data

    return _rewrite_zip(_docx_bytes(), change)


def _zip(path: Path, members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def _symlink_member(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


_MD_OK = "---\ntitle: Bài trong zip\ntopic: b\n---\nNội dung.\n".encode()
_ALIAS_BOMB = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
title: Bom
---
Nội dung.
"""


def _expect_links(article: object) -> None:
    body = article.body_html  # type: ignore[attr-defined]
    for bad in ("//evil.example", "javascript:", "ftp://", "tuong-doi.html", "file:"):
        assert bad not in body, bad
    assert "\x1b" not in body and "\x07" not in body
    for good in (
        'href="https://dvc.langson.gov.vn/"',
        'href="mailto:sngv@langson.gov.vn"',
        'href="tel:+842053812345"',
    ):
        assert good in body, good


def _expect_title(title: str) -> Callable[[object], None]:
    def check(article: object) -> None:
        assert article.title == title, article.title  # type: ignore[attr-defined]

    return check


def _expect_printable_source(article: object) -> None:
    name = article.source_name  # type: ignore[attr-defined]
    assert name.isprintable() and "\\xff" in name, name


def build_corpus(
    folder: Path,
    *,
    http_url: str = "http://127.0.0.1:9/anh.png",
    secret_file: Path | None = None,
    heavy: bool = True,
) -> list[Case]:
    """Writes every hostile entry into ``folder`` and returns the cases.

    ``http_url`` is where a linked .docx picture points (a test serves it to prove nothing is
    fetched); ``secret_file`` is what the symlink case points at; ``heavy`` adds the CPU- and
    memory-exhausting files (a few seconds each, bounded by the worker's limits).
    """
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def add(
        name: str, item: int, expect: str, path: Path, check: Callable[[object], None] | None = None
    ) -> None:
        cases.append(Case(name, item, expect, path, check))

    def write(name: str, data: bytes | str) -> Path:
        path = folder / name
        if isinstance(data, str):
            data = data.encode("utf-8")
        path.write_bytes(data)
        return path

    # 1. Parsing is linear: what took minutes with backtracking regexes is quick.
    add("repeated <title>", 1, "empty", write("nhieu-the-title.html", "<title>" * 60_000))
    add(
        "repeated <title> with body",
        1,
        "ok",
        write(
            "title-lap.html",
            "<title>Thẻ</title>"
            + "<title>" * 30_000
            + "</title><h1>Tiêu đề thật</h1><p>Nội dung.</p>",
        ),
        _expect_title("Tiêu đề thật"),
    )
    add(
        "150,000 metadata lines (2.7 MB)",
        1,
        "ok",
        write(
            "dong-chu-de.html",
            "<h1>Bài nhiều dòng chủ đề</h1>" + "<p>Chủ đề: a</p>\n" * 150_000 + "<p>Nội dung.</p>",
        ),
        _expect_title("Bài nhiều dòng chủ đề"),
    )
    add(
        "20,000 metadata lines in Markdown",
        1,
        "ok",
        write(
            "dong-chu-de.md",
            "# Bài nhiều dòng chủ đề\n\n" + "Chủ đề: a\n\n" * 20_000 + "Nội dung.\n",
        ),
        _expect_title("Bài nhiều dòng chủ đề"),
    )
    add(
        "unclosed tags",
        1,
        "ok",
        write("the-mo.html", "<h1>Tiêu đề</h1><p>Nội dung.</p>" + "<p><b>" * 50_000 + "x"),
    )
    add("'<' without end", 1, "ok", write("dau-nho-hon.html", "<h1>T</h1><p>a" + "<" * 40_000))

    # 2. Front matter: a safe subset of YAML, refusals name the key.
    add(
        "YAML alias bomb",
        2,
        "front_matter",
        write("bom-yaml.md", _ALIAS_BOMB),
        lambda e: _reason_has(e, "khóa “a”"),
    )
    add(
        "nested YAML list 5,000 deep",
        2,
        "front_matter",
        write(
            "yaml-long.md",
            "---\ntitle: x\nchannels: " + "[" * 5000 + "]" * 5000 + "\n---\nNội dung.\n",
        ),
        lambda e: _reason_has(e, "khóa “channels”"),
    )
    add(
        "YAML python tag",
        2,
        "front_matter",
        write("yaml-tag.md", "---\ntitle: !!python/object/apply:os.system ['true']\n---\nx\n"),
        lambda e: _reason_has(e, "khóa “title”"),
    )
    add(
        "YAML nested mapping",
        2,
        "front_matter",
        write("yaml-map.md", "---\ntitle:\n  vi: Tiêu đề\n---\nx\n"),
        lambda e: _reason_has(e, "khóa “title”"),
    )
    add(
        "front matter over 16 KB",
        2,
        "front_matter_too_large",
        write("yaml-dai.md", "---\ntitle: T\nsummary: " + "chữ " * 5000 + "\n---\nx\n"),
        lambda e: _reason_has(e, "16.384 byte"),
    )

    # 3. Isolation: CPU and memory are capped in the worker process.
    if heavy:
        add(
            "misnested formatting (CPU)",
            3,
            "processing_limits",
            write("dinh-dang-long.html", "<h1>T</h1>" + "<b><i><u><s>x</b>" * 60_000),
            lambda e: _reason_has(e, "tệp vượt giới hạn xử lý"),
        )
        add(
            "two million paragraphs (memory)",
            3,
            "processing_limits",
            write("hai-trieu-doan.html", "<h1>T</h1>" + "<p>x</p>" * 2_000_000),
            lambda e: _reason_has(e, "tệp vượt giới hạn xử lý"),
        )

    # 4. What raised out of the poller before.
    add(
        "zip holding x and x/bai.md",
        4,
        "ok",
        _zip(folder / "x-va-thu-muc-x.zip", [("x", b"x"), ("x/bai.md", _MD_OK)]),
    )
    add(
        "zip member named '.'",
        4,
        "zip_unsafe_path",
        _zip(folder / "cham.zip", [(".", b"x"), ("bai.md", _MD_OK)]),
    )
    add(
        "zip member './../x'",
        4,
        "zip_unsafe_path",
        _zip(folder / "cham-cham.zip", [("a/./../../x", b"x"), ("bai.md", _MD_OK)]),
    )
    bad_name = os.fsdecode(b"bai-\xff\xfe.md")
    add(
        "non-UTF-8 file name",
        4,
        "ok",
        good_article(folder / bad_name, 9001),
        _expect_printable_source,
    )
    loop = folder / "vong-lap.md"
    loop.symlink_to(loop.name)
    add("self-referencing symlink", 4, "not_regular_file", loop)

    # 5. Only regular files.
    target = secret_file or (folder.parent / ".env")
    if not target.exists():
        target.write_text(SECRET + "\n", "utf-8")
    (folder / "bi-mat.md").symlink_to(target)
    add(
        "symlink to .env",
        5,
        "not_regular_file",
        folder / "bi-mat.md",
        lambda e: _reason_lacks(e, "hostile-corpus-secret"),
    )
    os.mkfifo(folder / "ong-dan.md")
    add("FIFO named .md", 5, "not_regular_file", folder / "ong-dan.md")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "o-cam.md"))  # a socket file stays after its socket closes
    add("socket named .md", 5, "not_regular_file", folder / "o-cam.md")
    linked_folder = folder / "thu-muc-co-lien-ket"
    linked_folder.mkdir()
    (linked_folder / "bai.md").write_text("# T\n\n![x](anh.png)\n", "utf-8")
    (linked_folder / "anh.png").symlink_to(target)
    add("symlink inside a folder", 5, "not_regular_file", linked_folder)
    fifo_folder = folder / "thu-muc-co-fifo"
    fifo_folder.mkdir()
    (fifo_folder / "bai.md").write_text("# T\n\nx\n", "utf-8")
    os.mkfifo(fifo_folder / "anh.png")
    add("FIFO inside a folder", 5, "not_regular_file", fifo_folder)
    add(
        "symlink inside a zip",
        5,
        "not_regular_file",
        _zip(
            folder / "lien-ket.zip",
            [("bai.md", _MD_OK), (_symlink_member("anh.png", str(target)), str(target).encode())],
        ),
    )

    # 6. Bounds, each named with its value.
    add(
        "body over max_body_chars",
        6,
        "body_too_long",
        write("bai-dai.md", "# Bài dài\n\n" + ("Cải cách hành chính. " * 3000 + "\n\n") * 1),
        lambda e: _reason_has(e, "vượt giới hạn 50.000 ký tự"),
    )
    add(
        "document.xml over its bound",
        6,
        "docx_xml_too_large",
        write("xml-lon.docx", _big_xml_docx(3 * MB)),
        lambda e: _reason_has(e, "vượt giới hạn 2 MB"),
    )
    add(
        "zip with too many entries",
        6,
        "zip_entries",
        _zip(
            folder / "nhieu-muc.zip",
            [("bai.md", _MD_OK)] + [(f"r/{i}.txt", b"x") for i in range(60)],
        ),
        lambda e: _reason_has(e, "vượt giới hạn 50 mục"),
    )
    add(
        "zip over total uncompressed size",
        6,
        "zip_bomb",
        _zip(
            folder / "giai-nen-lon.zip",
            [("bai.md", _MD_OK)] + [(f"d/{i}.bin", bytes(6 * MB)) for i in range(4)],
        ),
        lambda e: _reason_has(e, "vượt giới hạn 20 MB"),
    )
    many = folder / "nhieu-anh"
    many.mkdir()
    lines = ["# Nhiều ảnh", ""]
    for i in range(7):
        (many / f"anh-{i}.png").write_bytes(png_bytes(color=(i * 30, 10, 10)))
        lines.append(f"![Ảnh {i}](anh-{i}.png)")
    (many / "bai.md").write_text("\n\n".join(lines) + "\n", "utf-8")
    add(
        "more images than max_images",
        6,
        "too_many_images",
        many,
        lambda e: _reason_has(e, "vượt giới hạn 5 ảnh"),
    )

    # 7. Nothing is fetched; links are only http(s), mailto and tel.
    add(
        "docx picture linked to http",
        7,
        "image_linked",
        write("anh-lien-ket-web.docx", linked_image_docx(http_url)),
    )
    add(
        "docx picture linked to file:///dev/zero",
        7,
        "image_linked",
        write("anh-lien-ket-tep.docx", linked_image_docx("file:///dev/zero")),
    )
    add(
        "<img> from the web",
        7,
        "image_remote",
        write("anh-web.html", '<h1>T</h1><p>x</p><img src="https://example.gov.vn/a.png">'),
    )
    add(
        "protocol-relative picture",
        7,
        "image_remote",
        write("anh-hai-gach.md", "# T\n\nx\n\n![x](//evil.example/a.png)\n"),
    )
    add(
        "links of every scheme",
        7,
        "ok",
        write(
            "lien-ket.html",
            (
                "<h1>Liên kết</h1><p><a href='//evil.example/x'>a</a> <a href='javascript:alert(1)'>b</a> "
                "<a href='ftp://evil.example/'>c</a> <a href='tuong-doi.html'>d</a> "
                "<a href='file:///etc/passwd'>e</a> <a href='https://dvc.langson.gov.vn/'>f</a> "
                "<a href='mailto:sngv@langson.gov.vn'>g</a> <a href='tel:+842053812345'>h</a>"
                "\x1b[2J\x07</p>"
            ),
        ),
        _expect_links,
    )

    # 8. Encodings and names.
    add(
        "UTF-16 LE with BOM",
        8,
        "ok",
        write("utf16.md", "\ufeff# Cải cách hành chính\n\nNội dung.\n".encode("utf-16-le")),
        _expect_title("Cải cách hành chính"),
    )
    add(
        "UTF-16 BE with BOM",
        8,
        "ok",
        write("utf16be.html", "\ufeff<h1>Đơn giản hóa thủ tục</h1><p>x</p>".encode("utf-16-be")),
        _expect_title("Đơn giản hóa thủ tục"),
    )
    add(
        "control characters in the name",
        8,
        "unsupported_type",
        write("bai\x1b[31m-do\x07\n.pdf", "x"),
        lambda e: _reason_lacks(e, "\x1b", "\x07", "\n"),
    )
    add("file name of 248 bytes", 8, "ok", good_article(folder / ("a" * 245 + ".md"), 9002))
    return cases


def _reason_has(refusal: object, text: str) -> None:
    reason = refusal.reason  # type: ignore[attr-defined]
    assert text in reason, reason


def _reason_lacks(refusal: object, *texts: str) -> None:
    shown = f"{refusal.reason} {refusal.hint}"  # type: ignore[attr-defined]
    for text in texts:
        assert text not in shown, (text, shown)
