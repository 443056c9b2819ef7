"""``loa knowledge import|list`` and ``loa ask`` through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_assistant_questions import SAMPLE
from test_cli import loa


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("kcli") / "loa"
    res = loa("init", str(directory))
    assert res.returncode == 0, res.stderr
    res = loa("-c", str(directory / "config.toml"), "knowledge", "import", str(SAMPLE))
    assert res.returncode == 0, res.stderr
    assert "Đã nhập 20 thủ tục: 20 mới, 0 cập nhật, 0 không đổi." in res.stdout
    return str(directory / "config.toml")


def test_list_shows_the_catalogue(cfg: str) -> None:
    res = loa("-c", cfg, "knowledge", "list", "--json")
    assert res.returncode == 0, res.stderr
    procs = json.loads(res.stdout)
    assert len(procs) == 20 and procs[0]["ma"] == "9.999001"
    assert "(dữ liệu mẫu)" in procs[0]["phi"]
    res = loa("-c", cfg, "knowledge", "list")
    assert "20 thủ tục, 0 câu hỏi đáp đã lưu, 0 bài đã đăng trên website." in res.stdout


def test_ask_answers_with_the_source_and_the_scores(cfg: str) -> None:
    res = loa("-c", cfg, "ask", "ho chieu cong vu lam o dau?", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["kind"] == "answer"
    assert data["hits"][0]["ref"] == "9.999003"
    assert (
        "Nguồn: https://example.gov.vn/thu-tuc-hanh-chinh/9.999003 (cập nhật 01/11/2026)"
        in (data["text"])
    )
    assert data["best"] >= data["thresholds"]["min_score"]

    res = loa("-c", cfg, "ask", "Giá vàng hôm nay bao nhiêu?")
    assert res.returncode == 0, res.stderr
    assert "Chuyển cán bộ" in res.stdout and "điểm" in res.stdout and "ngưỡng" in res.stdout
    assert res.stderr == ""


def test_a_refused_catalogue_exits_1_with_the_row_and_reason(cfg: str, tmp_path: Path) -> None:
    bad = tmp_path / "xau.csv"
    bad.write_text("\ufeffma,ten,url\n1.1,A,https://x.gov.vn/1\n1.1,B,\n", "utf-8")
    res = loa("-c", cfg, "knowledge", "import", str(bad))
    assert res.returncode == 1
    assert "dòng 3: mã 1.1 trùng với dòng 2" in res.stderr
    assert "Không thủ tục nào được nhập." in res.stderr
    res = loa("-c", cfg, "knowledge", "list", "--json")
    assert all(p["ma"] != "1.1" for p in json.loads(res.stdout))
