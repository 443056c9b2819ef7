"""What the assistant reads: folding (đ too), syllables, synonyms files, the fields a question
asks for, and the catalogue file's checks (pure; no database)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from bot.assistant.answering import asked_fields
from bot.assistant.folding import fold, syllables, terms
from bot.assistant.synonyms import SynonymError, load_synonyms
from content_queue.knowledge import CatalogueError, parse_catalogue


def test_folding_removes_marks_and_folds_d_with_stroke() -> None:
    assert fold("Hợp pháp HOÁ lãnh sự, Đăng ký đơn") == "hop phap hoa lanh su, dang ky don"
    decomposed = unicodedata.normalize("NFD", "Hộ chiếu công vụ Đ")
    assert fold(decomposed) == "ho chieu cong vu d"
    assert syllables("Thủ tục ABTC: 03 ngày!") == ["thu", "tuc", "abtc", "03", "ngay"]


def test_terms_are_syllables_and_their_bigrams() -> None:
    assert terms(["ho", "so", "gi"]) == ["ho", "so", "gi", "ho so", "so gi"]


@pytest.mark.parametrize(
    ("question", "fields"),
    [
        ("Hợp pháp hóa lãnh sự cần giấy tờ gì?", ("ho_so",)),
        ("chung nhan lanh su mat bao lau", ("thoi_han",)),
        ("Lệ phí bao nhiêu tiền?", ("phi",)),
        ("hộ chiếu công vụ làm ở đâu", ("co_quan", "cach_thuc")),
        ("Thẻ ABTC", ()),
        ("Gia hạn hộ chiếu công vụ cần giấy tờ gì?", ("ho_so",)),
        ("vien tro phi chinh phu can ho so gi", ("ho_so",)),
    ],
)
def test_the_fields_a_question_asks_for(question: str, fields: tuple[str, ...]) -> None:
    assert asked_fields(question) == fields


def test_a_synonyms_file_adds_groups_to_the_built_in_ones(tmp_path: Path) -> None:
    f = tmp_path / "synonyms.toml"
    f.write_text('[synonyms]\n"sổ hộ chiếu" = ["hộ chiếu"]\n"NGO" = "INGO"\n', "utf-8")
    syn = load_synonyms(f)
    tokens = syllables("visa và INGO")
    found = {syn.groups[g] for _, _, g in syn.find(tokens)}
    assert any(("thi", "thuc") in g for g in found)  # built-in: visa → thị thực
    assert any(("phi", "chinh", "phu", "nuoc", "ngoai") in g for g in found)  # INGO joins NGO


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[synonyms\n", "không đúng TOML"),
        ('[synonyms]\n"visa" = 3\n', "phải là một danh sách chữ"),
    ],
)
def test_a_bad_synonyms_file_is_one_vietnamese_line(tmp_path: Path, text: str, reason: str) -> None:
    f = tmp_path / "synonyms.toml"
    f.write_text(text, "utf-8")
    with pytest.raises(SynonymError, match=reason):
        load_synonyms(f)


def _json(rows: object) -> bytes:
    return json.dumps(rows, ensure_ascii=False).encode()


GOOD = {"ma": "1.0001", "ten": "Chứng nhận lãnh sự", "url": "https://example.gov.vn/1"}


@pytest.mark.parametrize(
    ("data", "suffix", "reason"),
    [
        (_json([GOOD, {"ten": "Không mã"}]), ".json", "mục 2: thiếu mã thủ tục ('ma')"),
        (_json([{"ma": "1.2"}]), ".json", "mục 1: thủ tục 1.2 thiếu tên ('ten')"),
        (_json([GOOD, GOOD]), ".json", "mục 2: mã 1.0001 trùng với mục 1"),
        (
            _json([{**GOOD, "url": "javascript:alert(1)"}]),
            ".json",
            "mục 1: đường dẫn 'javascript:alert(1)' của thủ tục 1.0001 không phải http(s)",
        ),
        (_json([{**GOOD, "url": "ftp://x/y"}]), ".json", "không phải http(s)"),
        (_json([{**GOOD, "cap_nhat": "01/11/2026"}]), ".json", "không theo dạng YYYY-MM-DD"),
        (_json([{**GOOD, "phi": {"a": 1}}]), ".json", "trường 'phi' phải là chữ"),
        (_json({"items": []}), ".json", "phải là một danh sách thủ tục"),
        (b"[{", ".json", "JSON không hợp lệ"),
        (b"\xff\xfe\x00", ".json", "không phải UTF-8"),
        (_json([]), ".json", "không có thủ tục nào"),
        (b"ma,ten\n1.1,A\n,B\n", ".csv", "dòng 3: thiếu mã thủ tục"),
        (b"ma,ten\n1.1,A\n1.1,B\n", ".csv", "dòng 3: mã 1.1 trùng với dòng 2"),
        (b"ten,phi\nA,1\n", ".csv", "dòng 1: dòng tiêu đề CSV phải có cột 'ma' và 'ten'"),
        ("ma,ten\n1.1,A,thừa\n".encode(), ".csv", "dòng 2: có 3 ô nhưng tiêu đề chỉ có 2 cột"),
    ],
)
def test_a_refused_catalogue_names_the_row_and_the_reason(
    data: bytes, suffix: str, reason: str
) -> None:
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(data, suffix)
    assert reason in str(exc.value)
    assert "không dòng nào được nhập" in str(exc.value)


def test_a_file_over_the_bound_is_refused_before_it_is_read() -> None:
    with pytest.raises(CatalogueError, match="quá giới hạn"):
        parse_catalogue(b"[" + b" " * 2000 + b"]", ".json", max_bytes=1000)


def test_every_problem_of_a_file_is_listed() -> None:
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue(_json([{"ten": "A"}, {"ma": "2"}, GOOD, GOOD]), ".json")
    assert len(exc.value.problems) == 3


def test_csv_with_bom_and_multi_line_fields() -> None:
    data = (
        "\ufeffma,ten,ho_so,cap_nhat,ghi_chu\n"
        '1.1,Hợp pháp hóa lãnh sự,"Tờ khai;\nBản chụp hộ chiếu",2026-11-01,mẫu\n'
        "\n"
        "1.2,Chứng nhận lãnh sự,,,\n"
    ).encode()
    rows = parse_catalogue(data, ".csv")
    assert [r.ma for r in rows] == ["1.1", "1.2"]
    assert rows[0].ho_so == "Tờ khai;\nBản chụp hộ chiếu"
    assert rows[0].cap_nhat is not None and rows[0].cap_nhat.isoformat() == "2026-11-01"
    assert rows[0].extra == {"ghi_chu": "mẫu"}


def test_json_accepts_a_list_or_an_object_with_thu_tuc() -> None:
    assert parse_catalogue(_json([GOOD]), ".json")[0].ten == "Chứng nhận lãnh sự"
    rows = parse_catalogue(_json({"thu_tuc": [{**GOOD, "ma": 1.5, "ho_so": ["A", "B"]}]}))
    assert rows[0].ma == "1.5" and rows[0].ho_so == "A\nB"


def test_index_terms_are_content_syllables_then_bigrams_within_a_line() -> None:
    from bot.assistant.index import _encode

    corpus = [["Hợp pháp hóa lãnh sự", "cần giấy tờ gì"], [""], ["visa và thị thực"]]
    ids, vocab = _encode(corpus)
    name = {v: k for k, v in vocab.items()}
    assert [[name[i] for i in p] for p in ids] == [
        # "can" and "gi" are stop words: no unigram, and no bigram of two of them; no "su can"
        ["hop", "phap", "hoa", "lanh", "su", "giay", "to"]
        + ["hop phap", "phap hoa", "hoa lanh", "lanh su", "can giay", "giay to", "to gi"],
        [],
        ["visa", "thuc", "visa va", "thi thuc"],  # "va thi": two stop words ("và", "thì")
    ]
