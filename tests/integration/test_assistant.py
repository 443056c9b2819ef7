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
