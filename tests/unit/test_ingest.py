"""Ingestion of real .docx/.md/.html/folder/.zip files into ParsedArticle, and every refusal."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from PIL import Image

from content_queue.ingest import IngestLimits, IngestRefusal, parse_file
from content_queue.topics import default_topics

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
CHANNELS = ("website", "facebook", "zalo")
DVC_TEXT = (
    "Năm 2026, tỉnh đẩy mạnh dịch vụ công trực tuyến toàn trình. Người dân nộp hồ sơ trên cổng "
    "dịch vụ công, tỷ lệ hồ sơ dịch vụ công trực tuyến tăng mạnh."
)


def png_bytes(size: tuple[int, int] = (8, 6), color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def parse(path: Path, tmp_path: Path, limits: IngestLimits | None = None):
    return parse_file(
        path,
        known_channels=CHANNELS,
        topics=default_topics(),
        limits=limits or IngestLimits(),
        now=NOW,
        tz=TZ,
        media_dir=tmp_path / "media",
    )


def refusal(path: Path, tmp_path: Path, limits: IngestLimits | None = None) -> IngestRefusal:
    with pytest.raises(IngestRefusal) as info:
        parse(path, tmp_path, limits)
    assert info.value.reason and info.value.hint
    return info.value


def make_docx(
    path: Path,
    *,
    meta: tuple[str, ...] = ("Chủ đề: đ",),
    title: str | None = "Tiêu đề bài",
    image: bytes | None = None,
    body: str = DVC_TEXT,
) -> Path:
    doc = Document()
    if title is not None:
        doc.add_heading(title, level=1)
    for line in meta:
        doc.add_paragraph(line)
    para = doc.add_paragraph("Đoạn mở đầu ")
    para.add_run("in đậm").bold = True
    doc.add_heading("Mục nhỏ", level=2)
    doc.add_paragraph(body)
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Chỉ tiêu"
    table.cell(1, 0).text = "Tỷ lệ"
    if image is not None:
        doc.add_picture(io.BytesIO(image))
    doc.save(path)
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_docx_with_heading_table_bold_image_and_metadata(tmp_path: Path) -> None:
    src = make_docx(
        tmp_path / "bai.docx",
        image=png_bytes(),
        meta=("Chủ đề: đ", "Kênh: website, facebook", "Đăng lúc: 2026-12-01 08:30"),
    )
    art = parse(src, tmp_path)
    assert art.title == "Tiêu đề bài"
    assert art.topic == "đ" and not art.topic_suggested
    assert art.channels == ("website", "facebook")
    assert art.publish_at == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert "Chủ đề" not in art.body_html and "Kênh" not in art.body_text
    assert "<strong>in đậm</strong>" in art.body_html
    assert "<h2>Mục nhỏ</h2>" in art.body_html and "<table>" in art.body_html
    assert "<h1>" not in art.body_html
    assert len(art.images) == 1 and art.cover == art.images[0]
    image = Path(art.images[0].path)
    assert image.is_absolute() and image.is_file()
    assert image.parent == tmp_path / "media" / art.content_hash[:12]
    assert art.images[0].mime_type == "image/png" and art.images[0].width == 8
    assert f'src="{image}"' in art.body_html
    assert art.summary.startswith("Đoạn mở đầu in đậm")
    assert art.source_name == "bai.docx" and len(art.content_hash) == 64


def test_docx_title_style_and_first_paragraph_fallback(tmp_path: Path) -> None:
    doc = Document()
    doc.add_heading("Tiêu đề kiểu Title", level=0)
    doc.add_paragraph("Nội dung bài.")
    doc.save(tmp_path / "a.docx")
    assert parse(tmp_path / "a.docx", tmp_path).title == "Tiêu đề kiểu Title"
    doc = Document()
    doc.add_paragraph("Dòng đầu làm tiêu đề")
    doc.add_paragraph("Nội dung bài.")
    doc.save(tmp_path / "b.docx")
    art = parse(tmp_path / "b.docx", tmp_path)
    assert art.title == "Dòng đầu làm tiêu đề" and art.body_text == "Nội dung bài."


def test_markdown_front_matter(tmp_path: Path) -> None:
    (tmp_path / "bai").mkdir()
    (tmp_path / "bai" / "anh.png").write_bytes(png_bytes())
    (tmp_path / "bai" / "bia.png").write_bytes(png_bytes(color="blue"))
    write(
        tmp_path / "bai" / "bai.md",
        (
            "---\ntitle: Bài Markdown\ntopic: dd\nsummary: Tóm tắt riêng.\nchannels: [website, zalo]\n"
            "publish_at: 2026-07-01 09:00\ncover: bia.png\nid: CCHC-7\n---\n"
            "# Tiêu đề phụ\n\nĐoạn **một**.\n\n![Ảnh](anh.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
        ),
    )
    art = parse(tmp_path / "bai", tmp_path)
    assert (art.title, art.topic, art.summary, art.external_id) == (
        "Bài Markdown",
        "đ",
        "Tóm tắt riêng.",
        "CCHC-7",
    )
    assert art.channels == ("website", "zalo")
    assert art.publish_at == datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    assert "<h2>Tiêu đề phụ</h2>" in art.body_html and "<table>" in art.body_html
    assert len(art.images) == 2 and art.cover is not None and art.cover.path.endswith(".png")
    assert art.cover != art.images[0]  # the front-matter cover, not the first image


def test_html_title_from_h1_or_title_tag(tmp_path: Path) -> None:
    art = parse(
        write(
            tmp_path / "a.html",
            "<html><head><title>Thẻ title</title></head><body>"
            "<h1>Tiêu đề H1</h1><p>Nội dung.</p></body></html>",
        ),
        tmp_path,
    )
    assert art.title == "Tiêu đề H1"
    art = parse(
        write(
            tmp_path / "b.html",
            "<html><head><title>Thẻ title</title></head><body><p>Nội dung.</p></body></html>",
        ),
        tmp_path,
    )
    assert art.title == "Thẻ title" and art.body_text == "Nội dung."


def test_zip_with_article_and_image_hashes_members(tmp_path: Path) -> None:
    md = "---\ntitle: Bài trong zip\ntopic: a)\n---\nNội dung ![x](img/anh.png)\n".encode()
    img = png_bytes()
    with zipfile.ZipFile(tmp_path / "bai.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bai/bai.md", md)
        zf.writestr("bai/img/anh.png", img)
    art = parse(tmp_path / "bai.zip", tmp_path)
    assert art.title == "Bài trong zip" and art.topic == "a" and len(art.images) == 1
    import hashlib

    assert art.content_hash == hashlib.sha256(md + img).hexdigest()


def test_nfd_input_becomes_nfc(tmp_path: Path) -> None:
    text = "---\ntitle: Cải cách hành chính\ntopic: e\n---\nĐơn giản hóa thủ tục.\n"
    art = parse(write(tmp_path / "a.md", unicodedata.normalize("NFD", text)), tmp_path)
    assert art.title == unicodedata.normalize("NFC", "Cải cách hành chính")
    assert unicodedata.is_normalized("NFC", art.body_html + art.summary)


def test_dangerous_html_removed(tmp_path: Path) -> None:
    art = parse(
        write(
            tmp_path / "a.html",
            (
                '<h1>Tiêu đề</h1><p onclick="steal()">An toàn <a href="javascript:alert(1)">x</a> '
                '<a href="https://dvc.gov.vn">cổng</a></p><script>alert(1)</script>'
                '<iframe src="https://evil.example"></iframe><p style="color:red">Hết.</p>'
            ),
        ),
        tmp_path,
    )
    body = art.body_html.lower()
    for bad in ("<script", "alert(1)", "onclick", "<iframe", "javascript:", "style="):
        assert bad not in body
    assert '<a href="https://dvc.gov.vn">cổng</a>' in art.body_html


def test_topic_suggested_from_keywords(tmp_path: Path) -> None:
    art = parse(write(tmp_path / "a.md", f"# Người dân hài lòng\n\n{DVC_TEXT}\n"), tmp_path)
    assert art.topic == "đ" and art.topic_suggested
    assert art.topic_reason.startswith("Gợi ý theo từ khóa: “dịch vụ công trực tuyến” (2 lần)")
    assert "“toàn trình”" in art.topic_reason


def test_no_keyword_falls_back_to_i_and_says_so(tmp_path: Path) -> None:
    art = parse(write(tmp_path / "a.md", "# Tin vắn\n\nHôm nay trời đẹp.\n"), tmp_path)
    assert art.topic == "i" and art.topic_suggested
    assert "Không thấy từ khóa" in art.topic_reason


@pytest.mark.parametrize(
    ("given", "key"), [("d", "d"), ("đ", "đ"), ("Đ", "đ"), ("dd", "đ"), ("a)", "a"), ("(h)", "h")]
)
def test_topic_forms(tmp_path: Path, given: str, key: str) -> None:
    art = parse(
        write(tmp_path / "a.md", f"---\ntitle: T\ntopic: '{given}'\n---\nNội dung.\n"), tmp_path
    )
    assert art.topic == key


def md(tmp_path: Path, front: str, body: str = "Nội dung.") -> Path:
    return write(tmp_path / "bai.md", f"---\n{front}\n---\n{body}\n")


@pytest.mark.parametrize(
    ("front", "code", "needle"),
    [
        ("topic: k", "unknown_topic", "Chủ đề “k” không có"),
        ("channels: website, tiktok", "unknown_channel", "tiktok"),
        ("publish_at: 2026-01-01 08:00", "publish_at_past", "đã qua"),
        ("publish_at: ngày mai", "publish_at_format", "ngày mai"),
        (f"summary: {'chữ ' * 100}", "summary_too_long", "vượt giới hạn 300"),
    ],
)
def test_metadata_refusals(tmp_path: Path, front: str, code: str, needle: str) -> None:
    err = refusal(md(tmp_path, "title: Tiêu đề\n" + front), tmp_path)
    assert err.code == code and needle in err.reason
    if code == "unknown_channel":
        assert "facebook, website, zalo" in err.hint
    if code.startswith("publish_at"):
        assert "YYYY-MM-DD HH:MM" in err.hint
    if code == "unknown_topic":
        assert "“d” và “đ” là hai chủ đề khác nhau" in err.hint


def test_title_too_long_names_zalo(tmp_path: Path) -> None:
    err = refusal(md(tmp_path, f"title: {'Dài ' * 60}"), tmp_path)
    assert err.code == "title_too_long" and "150 ký tự của Zalo OA" in err.reason


def test_empty_and_titleless(tmp_path: Path) -> None:
    assert refusal(write(tmp_path / "e.md", "   \n"), tmp_path).code == "empty"
    doc = Document()
    doc.add_paragraph("")
    doc.save(tmp_path / "e.docx")
    assert refusal(tmp_path / "e.docx", tmp_path).code == "empty"
    err = refusal(write(tmp_path / "t.html", "<ul><li>Chỉ có danh sách</li></ul>"), tmp_path)
    assert err.code == "no_title" and "tiêu đề" in err.reason


def test_file_over_size_limit(tmp_path: Path) -> None:
    err = refusal(
        write(tmp_path / "big.md", "# T\n\n" + "x" * 5000),
        tmp_path,
        IngestLimits(max_file_bytes=1024),
    )
    assert err.code == "file_too_large" and "vượt giới hạn" in err.reason


def test_corrupt_docx(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "good.docx").read_bytes()
    (tmp_path / "bad.docx").write_bytes(good[:200] + b"\x00" * 50 + good[250:])
    err = refusal(tmp_path / "bad.docx", tmp_path)
    assert err.code == "docx_corrupt" and "không phải tệp Word (.docx) hợp lệ" in err.reason
    (tmp_path / "text.docx").write_bytes(b"not a zip at all")
    assert refusal(tmp_path / "text.docx", tmp_path).code == "docx_corrupt"


@pytest.mark.parametrize("suffix", [".docx", ".zip"])
def test_zip_bomb_refused(tmp_path: Path, suffix: str) -> None:
    with zipfile.ZipFile(tmp_path / f"bomb{suffix}", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"\0" * (8 * 1024 * 1024))
    err = refusal(
        tmp_path / f"bomb{suffix}", tmp_path, IngestLimits(max_unzipped_bytes=4 * 1024 * 1024)
    )
    assert err.code == "zip_bomb" and "bom nén" in err.reason
    # Under the total limit the compression ratio alone gives it away.
    assert refusal(tmp_path / f"bomb{suffix}", tmp_path).code == "zip_bomb"


def test_zip_path_traversal_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("bai.md", "# T\n\nx\n")
        zf.writestr("../../thoat.txt", "x")
    err = refusal(tmp_path / "evil.zip", tmp_path)
    assert err.code == "zip_unsafe_path" and "../../thoat.txt" in err.reason
    assert not (tmp_path.parent / "thoat.txt").exists()


def test_image_that_is_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "anh.png").write_bytes(b"<html>not a picture</html>")
    write(tmp_path / "d" / "bai.md", "# T\n\n![x](anh.png)\n")
    err = refusal(tmp_path / "d", tmp_path)
    assert err.code == "not_image" and "anh.png" in err.reason


def test_image_size_and_pixel_limits(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "anh.png").write_bytes(png_bytes((300, 300)))
    write(tmp_path / "d" / "bai.md", "# T\n\n![x](anh.png)\n")
    assert refusal(tmp_path / "d", tmp_path, IngestLimits(max_image_pixels=10_000)).code == (
        "image_too_many_pixels"
    )
    assert refusal(tmp_path / "d", tmp_path, IngestLimits(max_image_bytes=100)).code == (
        "image_too_large"
    )


def test_missing_image_and_escape_refused(tmp_path: Path) -> None:
    write(tmp_path / "bai.md", "# T\n\n![x](../secret.png)\n")
    assert refusal(tmp_path / "bai.md", tmp_path).code == "image_missing"


def test_windows_1258_text(tmp_path: Path) -> None:
    text = unicodedata.normalize("NFD", "# Cải cách hành chính\n\nNhanh gọn.\n")
    (tmp_path / "a.md").write_bytes(text.encode("cp1258"))
    err = refusal(tmp_path / "a.md", tmp_path)
    assert err.code == "not_utf8"
    assert "tệp có vẻ dùng bảng mã Windows-1258 (hoặc TCVN3); hãy lưu lại dưới dạng UTF-8" in (
        err.hint[0].lower() + err.hint[1:]
    )


def test_tcvn3_text_detected(tmp_path: Path) -> None:
    # "Cải cách" in TCVN3 (ABC): ả = 0xB6, á = 0xB8; no Windows-1258 tone-mark bytes.
    (tmp_path / "a.md").write_bytes(b"# C\xb6i c\xb8ch\n\nN\xe9i dung.\n")
    err = refusal(tmp_path / "a.md", tmp_path)
    assert err.code == "not_utf8" and "TCVN3" in err.reason.split(":")[1].split("(")[0]


def test_unsupported_extension_and_folder_without_article(tmp_path: Path) -> None:
    assert refusal(write(tmp_path / "bai.pdf", "x"), tmp_path).code == "unsupported_type"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "anh.png").write_bytes(png_bytes())
    assert refusal(tmp_path / "d", tmp_path).code == "folder_article_count"


@pytest.mark.parametrize(
    ("front", "title"),
    [
        ('"<b>Tin</b> mới <script>alert(1)</script>về CCHC"', "Tin mới về CCHC"),
        ('"&lt;b&gt;Tin&lt;/b&gt; mới"', "Tin mới"),
        ('"Tỷ lệ 5 < 10 & tăng"', "Tỷ lệ 5 < 10 & tăng"),
    ],
)
def test_a_title_is_text_markup_is_stripped(tmp_path: Path, front: str, title: str) -> None:
    md = f"---\ntitle: {front}\ntopic: a)\n---\nNội dung bài.\n"
    assert parse(write(tmp_path / "a.md", md), tmp_path).title == title


def test_a_title_that_is_only_markup_is_refused(tmp_path: Path) -> None:
    html_page = "<html><head><title>&lt;script&gt;x()&lt;/script&gt;</title></head><body>"
    got = refusal(
        write(tmp_path / "a.html", html_page + "<p>Nội dung.</p></body></html>"), tmp_path
    )
    assert got.code == "title_markup_only" and "chỉ có thẻ định dạng" in got.reason


def test_html_that_outgrows_its_text_is_refused_naming_the_bound(tmp_path: Path) -> None:
    # 600 characters of text, 1.3 MB of page: every word a link with a 2,000-character address.
    link = "https://dichvucong.gov.vn/" + "a" * 1970
    body = "".join(f'<p><a href="{link}?{n}">Mục {n}</a></p>' for n in range(600))
    page = write(tmp_path / "a.html", f"<h1>Tiêu đề</h1>{body}")
    got = refusal(page, tmp_path, IngestLimits(max_body_html_bytes=512 * 1024))
    assert got.code == "body_html_too_large"
    assert "Mã trang (HTML)" in got.reason and "vượt giới hạn 0,5 MB" in got.reason
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.*"))


def test_a_link_too_long_is_refused_and_a_long_description_cut(tmp_path: Path) -> None:
    link = "https://example.vn/" + "x" * 5000
    got = refusal(
        write(tmp_path / "a.html", f'<h1>T</h1><p><a href="{link}">đây</a></p>'), tmp_path
    )
    assert got.code == "link_too_long" and "5.019 ký tự" in got.reason and "2.048" in got.reason
    md = "---\ntitle: Ảnh\ntopic: a)\n---\n![" + "mô tả " * 200 + "](anh.png)\n\nNội dung.\n"
    folder = tmp_path / "bai"
    folder.mkdir()
    (folder / "bai.md").write_text(md, "utf-8")
    (folder / "anh.png").write_bytes(png_bytes())
    art = parse(folder, tmp_path)
    assert len(art.images[0].caption) <= 300


def test_table_spans_are_bounded(tmp_path: Path) -> None:
    page = (
        '<h1>Bảng</h1><table><tr><td colspan="2">a</td><td colspan="99999999">b</td>'
        '<td rowspan="' + "9" * 5000 + '">c</td></tr></table><p>Nội dung.</p>'
    )
    art = parse(write(tmp_path / "a.html", page), tmp_path)
    assert 'colspan="2"' in art.body_html and "99999999" not in art.body_html
    assert "rowspan" not in art.body_html
