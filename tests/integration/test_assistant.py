"""The assistant over a real store: the sample catalogue imported, questions answered with their
source, out-of-scope questions handed to a person (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot
from bot.assistant.answering import Assistant
from bot.settings import AssistantSettings
from content_queue.knowledge import read_catalogue
from content_queue.models import Actor
from content_queue.store import Store

SAMPLE = Path(bot.__file__).parent / "demo_articles" / "thu_tuc_mau.json"


@pytest.fixture
def assistant(store: Store) -> Assistant:
    store.knowledge.import_procedures(read_catalogue(SAMPLE), Actor("test"))
    return Assistant(store, AssistantSettings(), agency="Sở Ngoại vụ tỉnh Mẫu")


def test_an_unaccented_question_gets_the_procedures_documents_and_link(
    assistant: Assistant,
) -> None:
    a = assistant.answer("thu tuc hop phap hoa lanh su can giay to gi?")
    assert a.kind == "answer"
    assert a.hits[0].source.ref == "9.999002"
    assert "Tờ khai hợp pháp hóa lãnh sự" in a.text
    assert "Nguồn: https://example.gov.vn/thu-tuc-hanh-chinh/9.999002 (cập nhật 01/11/2026)" in (
        a.text
    )


def test_an_out_of_scope_question_is_handed_over(assistant: Assistant) -> None:
    a = assistant.answer("Giá vàng hôm nay bao nhiêu?")
    assert a.kind == "abstain"
    assert "cán bộ" in a.text


def test_with_no_knowledge_at_all_every_question_is_handed_over(store: Store) -> None:
    a = Assistant(store, AssistantSettings()).answer("hộ chiếu công vụ làm ở đâu?")
    assert a.kind == "abstain" and a.hits == () and a.best == 0.0


def test_an_asked_field_the_catalogue_lacks_is_said_missing_and_the_main_ones_shown(
    assistant: Assistant,
) -> None:
    a = assistant.answer("Xin visa cho khách nước ngoài như thế nào?")  # trình tự: not in 9.999013
    assert a.kind == "answer" and a.hits[0].source.ref == "9.999013"
    assert "- Trình tự thực hiện: danh mục thủ tục chưa ghi thông tin này." in a.text
    assert "- Thành phần hồ sơ, giấy tờ: Văn bản đề nghị cấp thị thực" in a.text
