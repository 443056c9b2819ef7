"""The assistant's knowledge in the database (SQLite and PostgreSQL): catalogue imports (all or
nothing, re-import by code), saved answers, citable articles, and an index that follows them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_assistant_questions import ADMIN, SAMPLE, publish, retract

from bot.assistant.answering import Assistant
from bot.settings import AssistantSettings
from content_queue.knowledge import CatalogueError, parse_catalogue, read_catalogue
from content_queue.store import Store

WEBSITE = ("website",)


def _write(path: Path, rows: object) -> Path:
    path.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    return path


def test_import_then_re_import_updates_by_code_and_keeps_the_others(
    store: Store, tmp_path: Path
) -> None:
    k = store.knowledge
    first = k.import_procedures(read_catalogue(SAMPLE), ADMIN)
    assert len(first.added) == 20 and not first.updated
    again = k.import_procedures(read_catalogue(SAMPLE), ADMIN)
    assert len(again.unchanged) == 20 and not again.added and not again.updated

    changed = _write(
        tmp_path / "moi.json",
        {
            "thu_tuc": [
                {"ma": "9.999001", "ten": "Chứng nhận lãnh sự (sửa)", "phi": "Miễn phí (mẫu)"},
                {"ma": "9.999100", "ten": "Thủ tục mới", "khac": "giữ lại"},
            ]
        },
    )
    result = k.import_procedures(read_catalogue(changed), ADMIN)
    assert result.added == ("9.999100",) and result.updated == ("9.999001",)
    assert "2 thủ tục: 1 mới, 1 cập nhật" in result.summary_vi()
    procs = {p.ma: p for p in k.procedures()}
    assert len(procs) == 21
    assert procs["9.999001"].ten == "Chứng nhận lãnh sự (sửa)"
    assert procs["9.999001"].ho_so == ""  # replaced whole, not merged
    assert procs["9.999100"].extra == {"khac": "giữ lại"}
    assert procs["9.999002"].cap_nhat is not None  # not in the file: kept
    assert [e["action"] for e in store.audit.audit_entries()].count("knowledge_import") == 3


def test_a_refused_file_imports_nothing(store: Store, tmp_path: Path) -> None:
    store.knowledge.import_procedures(read_catalogue(SAMPLE), ADMIN)
    bad = _write(
        tmp_path / "xau.json",
        [
            {"ma": "9.999001", "ten": "Đổi tên"},
            {"ma": "9.999200", "ten": "X", "url": "file:///etc"},
        ],
    )
    with pytest.raises(CatalogueError, match="mục 2: đường dẫn 'file:///etc'"):
        store.knowledge.import_procedures(read_catalogue(bad), ADMIN)
    procs = {p.ma: p for p in store.knowledge.procedures()}
    assert "9.999200" not in procs and procs["9.999001"].ten.startswith("Chứng nhận lãnh sự")


def test_a_file_over_the_size_bound_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "lon.json"
    big.write_bytes(b"[" + b" " * 3000 + b"]")
    with pytest.raises(CatalogueError, match="quá giới hạn"):
        read_catalogue(big, max_bytes=2000)


def test_saved_answers_are_kept_and_answer_the_same_question(store: Store) -> None:
    k = store.knowledge
    k.import_procedures(read_catalogue(SAMPLE), ADMIN)
    with pytest.raises(ValueError, match="không được để trống"):
        k.save_qa("  ", "x", ADMIN)
    qa = k.save_qa(
        "Sở có dịch thuật công chứng giấy tờ không?",
        "Sở Ngoại vụ không dịch thuật; anh/chị liên hệ phòng công chứng hoặc Sở Tư pháp.",
        ADMIN,
        "https://example.gov.vn/hoi-dap/1",
    )
    (saved,) = k.saved_qas()
    assert saved.id == qa and saved.saved_by == "quantri"
    a = Assistant(store, AssistantSettings()).answer("so co dich thuat cong chung giay to khong")
    assert a.kind == "answer" and a.hits[0].source.kind == "saved"
    assert "Sở Tư pháp" in a.text and "Nguồn: https://example.gov.vn/hoi-dap/1" in a.text
    assert k.delete_qa(qa, ADMIN) and not k.saved_qas()


def test_the_index_follows_publication_and_retraction(store: Store) -> None:
    store.knowledge.import_procedures(read_catalogue(SAMPLE), ADMIN)
    assistant = Assistant(store, AssistantSettings(), agency="Sở Ngoại vụ tỉnh Mẫu")
    question = "Bộ phận một cửa có làm việc sáng thứ Bảy không?"
    assert assistant.answer(question).kind == "abstain"  # nothing published yet
    v0 = store.knowledge.version(WEBSITE)

    art = publish(
        store,
        "Bộ phận một cửa làm việc sáng thứ Bảy",
        "Bộ phận một cửa của Sở làm việc cả sáng thứ Bảy hằng tuần, từ 7 giờ 30 đến 11 giờ 30.",
        "https://example.gov.vn/tin-tuc/thu-bay/",
    )
    assert store.knowledge.version(WEBSITE) != v0
    assistant.refresh()
    a = assistant.answer(question)
    assert (
        a.kind == "answer"
        and "Nguồn: https://example.gov.vn/tin-tuc/thu-bay/ (đăng ngày " in a.text
    )
    assert [c.id for c in store.knowledge.citable_articles(WEBSITE)] == [art]

    retract(store, art)
    # Before any refresh the answer already refuses to name it; after one it is gone.
    a = assistant.answer(question)
    assert a.kind == "abstain" and all(h.source.kind != "article" for h in a.hits)
    assistant.refresh()
    assert assistant.answer(question).kind == "abstain"
    assert store.knowledge.citable_articles(WEBSITE) == []


def test_first_contact_says_it_is_an_automatic_assistant(store: Store) -> None:
    store.knowledge.import_procedures(read_catalogue(SAMPLE), ADMIN)
    assistant = Assistant(store, AssistantSettings(), agency="Sở Ngoại vụ tỉnh Mẫu")
    for question in ("Xin chào", "phi hop phap hoa lanh su", "giá vàng hôm nay"):
        a = assistant.answer(question, first_contact=True)
        assert a.text.startswith("Đây là trợ lý tự động của Sở Ngoại vụ tỉnh Mẫu"), a.text
        assert not assistant.answer(question).text.startswith("Đây là trợ lý")


def test_an_answer_is_bounded(store: Store) -> None:
    store.knowledge.import_procedures(read_catalogue(SAMPLE), ADMIN)
    assistant = Assistant(store, AssistantSettings(max_answer_chars=300))
    a = assistant.answer("Chứng nhận lãnh sự cần hồ sơ gì, mất bao lâu, phí bao nhiêu, nộp ở đâu?")
    assert a.kind == "answer" and len(a.text) <= 300
    assert a.text.endswith(
        "Nguồn: https://example.gov.vn/thu-tuc-hanh-chinh/9.999001 (cập nhật 01/11/2026)"
    )
    first = assistant.answer("Chứng nhận lãnh sự cần hồ sơ gì?", first_contact=True)
    assert len(first.text) <= 300 and first.text.endswith("(cập nhật 01/11/2026)")
    hostile = assistant.answer("visa " * 50_000)
    assert hostile.kind in ("answer", "abstain")


def test_answers_follow_an_import_without_waiting_for_the_rebuild(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.assistant import answering

    monkeypatch.setattr(answering, "REFRESH_SECONDS", 0.0)  # check at every answer
    store.knowledge.import_procedures(read_catalogue(SAMPLE), ADMIN)
    assistant = Assistant(store, AssistantSettings())
    question = "Cấp giấy chứng nhận xuất xứ hàng hóa cần hồ sơ gì?"
    assert assistant.answer(question).kind == "abstain"
    store.knowledge.import_procedures(
        parse_catalogue(
            json.dumps(
                [
                    {
                        "ma": "9.999300",
                        "ten": "Cấp giấy chứng nhận xuất xứ hàng hóa",
                        "ho_so": "Đơn đề nghị (mẫu); hóa đơn thương mại",
                    }
                ]
            ).encode(),
            ".json",
        ),
        ADMIN,
    )
    deadline = time.monotonic() + 10
    while (a := assistant.answer(question)).kind != "answer" and time.monotonic() < deadline:
        time.sleep(0.05)  # the rebuild runs beside; answers meanwhile come from the old index
    assert a.kind == "answer" and a.hits[0].source.ref == "9.999300"
    assert "hóa đơn thương mại" in a.text
