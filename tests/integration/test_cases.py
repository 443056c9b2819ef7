"""Cases on SQLite and PostgreSQL: numbering per year, petitions from comments (the citizen is
told), takedowns with clock, evidence and action, reminders that fire once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from conftest import Workspace
from test_comments_service import ADMIN, OTHER, change, make_loa, seed_post

from bot.cases import (
    act_on_takedown,
    case_reminders,
    classify_petition,
    move_petition,
    open_petition,
    open_takedown,
    parse_deadline,
    zalo_weekly_reminder,
)
from bot.comments import handle_feed_change
from bot.context import Loa
from content_queue.cases import NewCase
from content_queue.store import Store


def _new(at: datetime, kind: str = "petition", prefix: str = "PA") -> NewCase:
    return NewCase(
        kind, prefix, "Đường vào bộ phận một cửa xuống cấp", "web", at, at + timedelta(days=14)
    )


def test_cases_are_numbered_per_kind_and_year(store: Store) -> None:
    t = datetime(2026, 12, 30, tzinfo=UTC)
    a = store.cases.open(_new(t), ADMIN)
    b = store.cases.open(_new(t), ADMIN)
    c = store.cases.open(_new(t, "takedown", "YCG"), ADMIN)
    d = store.cases.open(_new(datetime(2027, 1, 2, tzinfo=UTC)), ADMIN)
    assert [a.number, b.number, c.number, d.number] == [
        "PA-2026-0001",
        "PA-2026-0002",
        "YCG-2026-0001",
        "PA-2027-0001",
    ]


def test_two_services_number_cases_without_a_gap_or_a_duplicate(pg_url: str) -> None:
    stores = [Store.open(pg_url), Store.open(pg_url)]
    got: list[str] = []
    lock = threading.Lock()

    def work(s: Store) -> None:
        for _ in range(15):
            n = s.cases.open(_new(datetime(2026, 6, 1, tzinfo=UTC)), ADMIN).number
            with lock:
                got.append(n)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(got) == [f"PA-2026-{i:04d}" for i in range(1, 31)]
    for s in stores:
        s.engine.dispose()


def test_reminders_fire_once_each(workspace: Workspace) -> None:
    loa = make_loa(workspace)
    t0 = datetime(2026, 12, 7, 2, tzinfo=UTC)  # Monday 09:00 local
    case = open_petition(loa, "Phản ánh chậm trả kết quả", ADMIN, source_kind="web", now=t0)
    assert case.number == "PA-2026-0001" and case.due_at > t0
    fired: list[tuple[str, str]] = []
    t = t0
    while t < case.due_at + timedelta(days=2):
        fired += case_reminders(loa, t)
        t += timedelta(hours=3)
    assert fired == [
        ("PA-2026-0001", "half"),
        ("PA-2026-0001", "last"),
        ("PA-2026-0001", "overdue"),
    ]
    assert case_reminders(loa, t + timedelta(days=30)) == []
    keys = [a["key"] for a in loa.store.alerts.open_alerts()]
    assert sum(k.startswith("case:PA-2026-0001") for k in keys) == 3


def test_a_comment_becomes_a_petition_the_citizen_is_told_privately_and_it_is_answered(
    workspace: Workspace,
) -> None:
    loa = make_loa(workspace)
    fb = workspace.fb
    cid = fb.comments.add(seed_post(loa, fb, "Bài"), "Tôi phản ánh hồ sơ bị trễ hẹn 2 tuần")
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None
    case = open_petition(
        loa, c.message, ADMIN, source_kind="comment", channel="facebook", comment_id=c.id
    )
    (told,) = fb.records["private_replies"]
    assert case.number in told["text"] and "Thời hạn trả lời dự kiến" in told["text"]
    assert loa.store.comments.get(c.id).case_id == case.id  # type: ignore[union-attr]
    ok, _ = move_petition(loa, case.id, "in_progress", ADMIN)
    assert ok
    ok, msg = move_petition(loa, case.id, "answered", ADMIN, answer="Hồ sơ đã trả ngày 10/12.")
    assert ok, msg
    ok, msg = move_petition(loa, case.id, "answered", OTHER, answer="Lần hai")
    assert not ok and "đã trả lời" in msg
    done = loa.store.cases.get(case.id)
    assert done is not None and done.state == "answered" and done.answer
    (public,) = fb.records["comment_replies"]  # the answer: the Page's reply (one private only)
    assert "Hồ sơ đã trả ngày 10/12." in public["message"]
    actions = [e["action"] for e in loa.store.cases.timeline(case_id=case.id)]
    assert actions[0] == "case_opened" and "case_answered" in actions


def test_a_takedown_keeps_evidence_and_closes_when_the_comment_is_hidden(
    workspace: Workspace,
) -> None:
    loa = make_loa(workspace)
    fb = workspace.fb
    cid = fb.comments.add(seed_post(loa, fb, "Bài"), "Thông tin sai sự thật về lãnh đạo")
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None
    now = datetime.now(UTC)
    case = open_takedown(loa, cid, "Sở Khoa học và Công nghệ", ADMIN, now=now)
    assert case.requester_kind == "authority" and case.due_at == now + timedelta(hours=24)
    assert case.evidence["comment"]["message"] == "Thông tin sai sự thật về lãnh đạo"
    assert case.evidence["api_snapshot"]["id"] == cid and case.evidence_at == now
    citizen = open_takedown(loa, "https://example.com/x", "Người dân", ADMIN, now=now)
    assert citizen.due_at == now + timedelta(hours=48)
    ok, msg = act_on_takedown(loa, case.id, "hide", ADMIN)
    assert ok, msg
    assert fb.comments.items[cid]["is_hidden"]
    again, _ = act_on_takedown(loa, case.id, "delete", OTHER)
    assert not again
    closed = loa.store.cases.get(case.id)
    assert closed is not None and closed.state == "done" and closed.action_taken == "hidden"


def test_petitions_are_recognised_by_keywords_or_the_command(workspace: Workspace) -> None:
    loa: Loa = make_loa(workspace)
    assert classify_petition(loa, "Tôi xin phản ánh việc hồ sơ của tôi bị chậm trễ")
    assert classify_petition(loa, "gửi phản ánh")
    assert not classify_petition(loa, "Cho hỏi giờ làm việc của bộ phận một cửa?")
    assert parse_deadline("24h") == 24 and parse_deadline("2d") == 48


def test_the_weekly_zalo_card_lists_the_weeks_articles_once(workspace: Workspace) -> None:
    loa = make_loa(workspace)
    monday = datetime(2026, 12, 7, 3, tzinfo=UTC)  # 10:00 local
    assert zalo_weekly_reminder(loa, monday - timedelta(hours=2)) is None  # before 09:00
    text = zalo_weekly_reminder(loa, monday)
    assert text is not None and "không đọc được bình luận" in text
    assert zalo_weekly_reminder(loa, monday + timedelta(hours=1)) is None


def test_loa_takedown_add_registers_the_clock_and_check_names_what_loa_cannot_do_on_zalo(
    workspace: Workspace,
) -> None:
    from typer.testing import CliRunner

    from bot.cli.main import app

    loa = make_loa(workspace)
    fb = workspace.fb
    post = seed_post(loa, fb, "Bài cần gỡ")
    url = f"https://www.facebook.com/{post}"
    runner = CliRunner()
    cfg = ["--config", str(workspace.config)]
    res = runner.invoke(
        app, [*cfg, "takedown", "add", url, "--from", "Công an tỉnh", "--deadline", "24h"]
    )
    assert res.exit_code == 0, res.output
    assert "YCG-2026-0001" in res.output
    case = loa.store.cases.listed(kind="takedown")[0]
    assert case.evidence["article"]["title"] == "Bài cần gỡ"
    res = runner.invoke(app, [*cfg, "takedown", "act", case.number, "retract"])
    assert res.exit_code == 0, res.output
    assert post not in fb.posts
    res = runner.invoke(app, [*cfg, "check"])
    said = " ".join(res.output.split())
    assert "Zalo không có API để Loa đọc hay kiểm duyệt bình luận" in said
    assert loa.store.cases.get(case.id).action_taken == "retracted"  # type: ignore[union-attr]


def test_the_report_counts_comments_petitions_and_takedowns_without_names(
    workspace: Workspace,
) -> None:
    from bot.reports.files import kpis_for, write_report

    loa = make_loa(workspace)
    fb = workspace.fb
    cid = fb.comments.add(seed_post(loa, fb, "Bài"), "Xin hỏi lệ phí")
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None
    from bot.comments import comment_action

    assert comment_action(loa, c.id, "reply", ADMIN, text="Miễn phí.").ok
    t0 = datetime.now(UTC) - timedelta(hours=5)
    p = open_petition(loa, "Phản ánh", ADMIN, source_kind="web", citizen_name="Trần Văn B", now=t0)
    move_petition(loa, p.id, "answered", ADMIN, answer="Đã xử lý.")
    year = str(datetime.now(UTC).year)
    k = kpis_for(loa, year)
    assert k.intake is not None
    assert (k.intake.comments.received, k.intake.comments.answered) == (1, 1)
    assert (k.intake.petitions.received, k.intake.petitions.on_time) == (1, 1)
    assert k.intake.petitions.median_hours is not None
    _, text = write_report(loa, year, "md")
    assert text is not None and "Ý kiến người dân" in text and "Trần Văn B" not in text


def test_the_migrated_schema_matches_the_register_tables(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from content_queue.tables import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    names = ("'comments'", "comment_actions", "'cases'", "case_events", "intake_marks")
    assert [d for d in diff if any(n in repr(d) for n in names)] == []


def test_a_citizen_forgotten_on_request_leaves_no_name_on_comments_or_cases(
    workspace: Workspace,
) -> None:
    from bot.citizens import forget_citizen

    loa = make_loa(workspace)
    fb = workspace.fb
    cid = fb.comments.add(seed_post(loa, fb, "Bài"), "Phản ánh", author=("42", "Ngô Văn C"))
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None
    case = open_petition(
        loa, c.message, ADMIN, source_kind="comment", citizen_ref="42", comment_id=c.id, tell=False
    )
    forget_citizen(loa, "42", ADMIN)
    after = loa.store.comments.get(c.id)
    assert after is not None and after.author_id is None and after.author_name is None
    assert loa.store.cases.get(case.id).citizen_ref is None  # type: ignore[union-attr]
