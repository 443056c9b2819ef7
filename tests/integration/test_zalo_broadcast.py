"""Zalo broadcasts: the adapter against the sandbox, and the plan over a simulated month.

Time is compressed: the planner is given each day's instant and the sandbox clock is moved to it,
so a month of proposals, approvals and sends runs in a second over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import Workspace, serving

from bot.broadcasts import broadcast_tick, decide_broadcast, plan_broadcast, quota_status
from bot.context import Loa
from channels.base import ChannelError, MemoryTokenStore, RateLimited, RejectedError
from channels.sandbox.zalo import ZaloSandbox
from channels.zalo_oa import ZaloOAChannel, ZaloOASettings
from content_queue.models import Actor
from content_queue.tables import articles, broadcast_articles, deliveries, reach_samples

ADMIN = Actor("tg:111", "telegram")


def december(day: int, hour_utc: int = 3) -> datetime:
    """A December 2026 instant (03:00 UTC is 10:00 in Hà Nội)."""
    return datetime(2026, 12, day, hour_utc, tzinfo=UTC)


def at(sb: ZaloSandbox, when: datetime) -> datetime:
    """Move the sandbox's broadcast clock to ``when`` and return it."""
    with sb.lock:
        sb.clock_offset = when.timestamp() - time.time()
    return when


# ----- the adapter -----------------------------------------------------------------------------
@pytest.fixture
def sb() -> Iterator[ZaloSandbox]:
    with serving(ZaloSandbox(followers=40)) as server:
        yield server


def channel(sb: ZaloSandbox, tokens: MemoryTokenStore | None = None, **kw: object) -> ZaloOAChannel:
    raw = {
        "type": "zalo_oa",
        "api_url": sb.url,
        "oauth_url": sb.url,
        "app_id": sb.APP_ID,
        "app_secret": sb.APP_SECRET,
        "refresh_token": sb.INITIAL_REFRESH_TOKEN,
        "timeout_seconds": 5,
        **kw,
    }
    return ZaloOAChannel(
        "zalo", ZaloOASettings.model_validate(raw), token_store=tokens or MemoryTokenStore()
    )


def test_broadcast_sends_up_to_five_articles_and_records_the_review_state(sb: ZaloSandbox) -> None:
    ids = [sb.add_article(f"Bài {i}") for i in range(5)]
    receipt = channel(sb).broadcast(ids)
    (sent,) = sb.records["broadcasts"]
    assert sent["articles"] == ids and sent["recipients"] == 40
    assert receipt.message_id == sent["message_id"] and receipt.moderation_state == "reviewing"
    assert sb.broadcast_state(receipt.message_id) == "reviewing"
    sb.advance(sb.review_seconds)
    assert sb.broadcast_state(receipt.message_id) == "sent"


def test_six_articles_or_a_repeated_one_are_refused_before_any_call(sb: ZaloSandbox) -> None:
    ids = [sb.add_article(f"Bài {i}") for i in range(6)]
    ch = channel(sb)
    with pytest.raises(ValueError, match="at most 5"):
        ch.broadcast(ids)
    with pytest.raises(ValueError, match="twice"):
        ch.broadcast([ids[0], ids[0]])
    assert sb.records["broadcasts"] == [] and sb.request_log == []


def test_target_filters_reach_only_the_selected_followers(sb: ZaloSandbox) -> None:
    article = sb.add_article("Bài")
    channel(sb, broadcast_target={"gender": "1"}).broadcast([article])
    assert sb.records["broadcasts"][0]["recipients"] == 20
    assert sb.records["broadcasts"][0]["target"] == {"gender": "1"}
    with pytest.raises(ValueError, match="unknown target filter"):
        channel(sb, broadcast_target={"age": "1"})


def test_sandbox_holds_each_follower_to_the_monthly_and_daily_quota(sb: ZaloSandbox) -> None:
    ch = channel(sb)
    at(sb, december(1))
    ch.broadcast([sb.add_article("Bài 1")])
    with pytest.raises(RejectedError) as same_day:  # one a day per follower
        ch.broadcast([sb.add_article("Bài 2")])
    assert same_day.value.code == -211 and not same_day.value.may_have_posted
    assert "đã nhận đủ số tin truyền thông" in same_day.value.message
    for day in (2, 3, 4):
        at(sb, december(day))
        ch.broadcast([sb.add_article(f"Bài ngày {day}")])
    at(sb, december(5))
    with pytest.raises(RejectedError):  # four this month already
        ch.broadcast([sb.add_article("Bài 5")])
    at(sb, datetime(2027, 1, 1, 3, tzinfo=UTC))
    ch.broadcast([sb.add_article("Bài tháng sau")])
    assert len(sb.records["broadcasts"]) == 5
    sb.inject("throttle", path=r"^/v2.0/oa/message$")
    with pytest.raises(RateLimited):  # -32, too many calls: a platform throttle, not the quota
        ch.broadcast([sb.add_article("Bài 6")])


def test_unknown_or_hidden_article_is_refused_as_a_bad_parameter(sb: ZaloSandbox) -> None:
    hidden = sb.add_article("Bài ẩn", status="hide")
    with pytest.raises(RejectedError) as err:
        channel(sb).broadcast([hidden])
    assert err.value.code == -201 and not err.value.may_have_posted


@pytest.mark.parametrize(
    "fault", ["drop_after", "http_500", "http_502", "html_error", "timeout_after"]
)
def test_a_lost_or_unclear_answer_may_have_reached_followers(sb: ZaloSandbox, fault: str) -> None:
    ch = channel(sb, timeout_seconds=1)
    article = sb.add_article("Bài")
    ch.access_token()
    sb.inject(fault, path=r"^/v2.0/oa/message$", seconds=2)
    with pytest.raises(ChannelError) as err:
        ch.broadcast([article])
    assert err.value.may_have_posted
    assert len([r for r in sb.request_log if r[2] == "/v2.0/oa/message"]) == 1  # never retried


def test_an_expired_token_is_refreshed_and_the_broadcast_sent_once(sb: ZaloSandbox) -> None:
    ch = channel(sb)
    article = sb.add_article("Bài")
    ch.access_token()
    sb.expire_access_tokens()
    ch.broadcast([article])
    assert len(sb.records["broadcasts"]) == 1


def test_broadcast_path_is_configurable(sb: ZaloSandbox) -> None:
    with pytest.raises(ChannelError) as err:
        channel(sb, broadcast_path="v3.0/oa/message").broadcast([sb.add_article("Bài")])
    assert ("POST", "/v3.0/oa/message") in {(m, p) for _, m, p in sb.request_log}
    assert not err.value.may_have_posted  # the sandbox's 404 is a Zalo error object


def test_follower_count_reads_the_configured_field(sb: ZaloSandbox) -> None:
    tokens = MemoryTokenStore()  # Zalo's refresh tokens are single-use: one store for the three
    assert channel(sb, tokens).follower_count() == {"followers": 40}
    sb.set_followers(1500)
    assert channel(sb, tokens).follower_count() == {"followers": 1500}
    assert channel(sb, tokens, follower_field="followers").follower_count() == {"followers": None}


# ----- the plan over a month -------------------------------------------------------------------
def configure(ws: Workspace, **zalo: object) -> Loa:
    lines = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in zalo.items())
    ws.config.write_text(ws.config.read_text("utf-8") + "\n" + lines + "\n", "utf-8")
    return ws.loa()


def publish(
    loa: Loa, sb: ZaloSandbox, title: str, sent_at: datetime, views: int | None = None
) -> int:
    """An article posted on the OA at ``sent_at`` (seeded: the dispatcher is tested elsewhere)."""
    remote = sb.add_article(title, create_date=sent_at.timestamp())
    with loa.store.engine.begin() as conn:
        aid = conn.execute(
            articles.insert().values(
                title=title,
                topic="a",
                state="published",
                submitted_at=sent_at,
                content_hash=uuid.uuid4().hex,
                updated_at=sent_at,
                images=[],
                channels=[],
            )
        ).inserted_primary_key[0]
        did = conn.execute(
            deliveries.insert().values(
                article_id=aid,
                channel="zalo",
                state="sent",
                idempotency_key=f"{aid}-zalo",
                remote_id=remote,
                sent_at=sent_at,
                updated_at=sent_at,
            )
        ).inserted_primary_key[0]
        if views is not None:
            conn.execute(
                reach_samples.insert().values(
                    delivery_id=did, collected_at=sent_at, metric="views", value=views
                )
            )
    return int(aid)


def broadcast_rows(loa: Loa) -> list[tuple[int, int]]:
    with loa.store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(broadcast_articles.c.broadcast_id, broadcast_articles.c.article_id)
            )
        ]


def test_each_mode_never_exceeds_the_quota_over_a_month_and_spreads_it(
    workspace: Workspace,
) -> None:
    loa = configure(workspace, broadcast="each", broadcast_quota_per_month=4)
    sb = workspace.zalo
    sent_days = []
    for day in range(1, 32):
        now = at(sb, december(day))
        publish(loa, sb, f"Bài ngày {day}", now - timedelta(hours=1))
        for proposal in broadcast_tick(loa, now):
            won, b = decide_broadcast(loa, proposal.id, ADMIN, approve=True, now=now)
            assert won and b is not None and b.state == "sent", b
            sent_days.append(day)
        broadcast_tick(loa, now + timedelta(hours=6))  # a later run the same day adds nothing
    assert sent_days == [1, 8, 16, 24]  # ceil(4 × day / 31): about one a week
    assert len(sb.records["broadcasts"]) == 4
    rows = broadcast_rows(loa)
    assert len({a for _, a in rows}) == len(rows)  # no article twice
    assert all(1 <= len(b["articles"]) <= 5 for b in sb.records["broadcasts"])
    assert quota_status(loa, "zalo", december(31)).remaining == 0
    # a new month opens a new quota
    now = at(sb, datetime(2027, 1, 1, 3, tzinfo=UTC))
    newest = publish(loa, sb, "Bài đầu năm", now - timedelta(hours=1))
    (proposal,) = broadcast_tick(loa, now)
    assert proposal.month == "2027-01" and proposal.article_ids[0] == newest
    assert len(proposal.article_ids) == 5 and not set(proposal.article_ids) & {a for _, a in rows}


def test_digest_sends_the_weeks_most_viewed_articles_on_its_day(workspace: Workspace) -> None:
    loa = configure(workspace, broadcast="digest", digest_weekday=5, digest_time="09:00")
    sb = workspace.zalo
    views = {1: 900, 2: 10, 3: 500, 4: 20}  # December 1–4; the 4th (a Friday) is the digest day
    ids = {d: publish(loa, sb, f"Bài ngày {d}", december(d, 1), views.get(d)) for d in (1, 2, 3)}
    for day in (1, 2, 3):
        assert broadcast_tick(loa, at(sb, december(day))) == []  # not the digest day
    ids[4] = publish(loa, sb, "Bài ngày 4", december(4, 0), views[4])
    extra = [
        publish(loa, sb, f"Bài thêm {i}", december(4, 0) - timedelta(minutes=i), 50) for i in (1, 2)
    ]
    assert broadcast_tick(loa, at(sb, december(4, 1))) == []  # 08:00 local: before digest_time
    (proposal,) = broadcast_tick(loa, at(sb, december(4, 3)))
    assert proposal.kind == "digest"
    # the five most viewed of the week (the 2nd, with 10 views, stays out), most recent first
    assert list(proposal.article_ids) == [ids[4], extra[0], extra[1], ids[3], ids[1]]
    sent_at = [loa.store.articles.get(a).deliveries[0].sent_at for a in proposal.article_ids]
    assert sent_at == sorted(sent_at, reverse=True)


def test_a_lost_answer_is_in_doubt_and_never_sent_again(workspace: Workspace) -> None:
    loa = configure(workspace, broadcast="each", broadcast_quota_per_month=4)
    sb = workspace.zalo
    now = at(sb, december(1))
    first = publish(loa, sb, "Bài 1", now - timedelta(hours=1))
    (proposal,) = broadcast_tick(loa, now)
    loa.channel("zalo").access_token()  # type: ignore[attr-defined]
    sb.inject("drop_after", path=r"^/v2.0/oa/message$")
    won, b = decide_broadcast(loa, proposal.id, ADMIN, approve=True, now=now)
    assert won and b is not None and b.state == "in_doubt" and b.last_error
    assert len(sb.records["broadcasts"]) == 1  # Zalo did act on it
    alerts = [a["key"] for a in loa.notifier.open_alerts()]
    assert f"broadcast_in_doubt:{b.id}" in alerts
    # the service's job runs many times: the broadcast in doubt is never sent again
    for day in range(1, 10):
        for p in broadcast_tick(loa, at(sb, december(day, 5))):
            assert first not in p.article_ids
    assert [r["articles"] for r in sb.records["broadcasts"]].count([b.remote_ids[0]]) == 1
    assert decide_broadcast(loa, b.id, ADMIN, approve=True, now=now)[0] is False
    # it counts against the quota: it may have gone out
    assert quota_status(loa, "zalo", december(1)).used == 1
    # an admin checks the OA manager and says it did not go out: the article may go again
    broadcasts = loa.store.broadcasts
    assert broadcasts.resolve_in_doubt(b.id, ADMIN, sent=False, now=december(10))
    assert not broadcasts.resolve_in_doubt(
        b.id, ADMIN, sent=True, now=december(10)
    )  # one answer wins
    assert first in [
        c.article_id for c in broadcasts.candidates("zalo", december(1) - timedelta(days=1))
    ]


def test_a_refused_broadcast_fails_and_frees_its_articles(workspace: Workspace) -> None:
    loa = configure(workspace, broadcast="each")
    sb = workspace.zalo
    now = at(sb, december(1))
    aid = publish(loa, sb, "Bài 1", now - timedelta(hours=1))
    (proposal,) = broadcast_tick(loa, now)
    sb.inject("error:-201", path=r"^/v2.0/oa/message$")
    won, b = decide_broadcast(loa, proposal.id, ADMIN, approve=True, now=now)
    assert won and b is not None and b.state == "failed" and "-201" in (b.last_error or "")
    assert quota_status(loa, "zalo", now).used == 0 and broadcast_rows(loa) == []
    (again,) = broadcast_tick(loa, at(sb, december(2)))
    assert again.article_ids == (aid,)


def test_one_decision_wins_and_a_rejected_article_is_not_proposed_again(
    workspace: Workspace,
) -> None:
    loa = configure(workspace, broadcast="each")
    sb = workspace.zalo
    now = at(sb, december(1))
    aid = publish(loa, sb, "Bài 1", now - timedelta(hours=1))
    (proposal,) = broadcast_tick(loa, now)
    assert plan_broadcast(loa, "zalo", now) is None  # one open proposal at a time
    won, _ = decide_broadcast(loa, proposal.id, ADMIN, approve=False, now=now)
    lost, b = decide_broadcast(loa, proposal.id, Actor("tg:333", "telegram"), approve=True, now=now)
    assert won and not lost and b is not None and b.state == "rejected"
    assert sb.records["broadcasts"] == []
    for day in range(2, 9):
        for p in broadcast_tick(loa, at(sb, december(day))):
            assert aid not in p.article_ids


def test_a_send_whose_worker_died_becomes_in_doubt(workspace: Workspace) -> None:
    loa = configure(workspace, broadcast="each")
    sb = workspace.zalo
    now = at(sb, december(1))
    publish(loa, sb, "Bài 1", now - timedelta(hours=1))
    (proposal,) = broadcast_tick(loa, now)
    broadcasts = loa.store.broadcasts
    assert broadcasts.decide(proposal.id, ADMIN, approve=True, now=now)
    assert broadcasts.begin_send(proposal.id, now)  # ... and the process dies here
    broadcast_tick(loa, now + timedelta(minutes=1))
    assert broadcasts.get(proposal.id).state == "sending"  # type: ignore[union-attr]
    broadcast_tick(loa, now + timedelta(minutes=11))
    assert broadcasts.get(proposal.id).state == "in_doubt"  # type: ignore[union-attr]
    assert sb.records["broadcasts"] == []  # and nothing was sent by the recovery


def test_whatever_zalo_answers_is_stored_bounded() -> None:
    from channels.zalo_broadcast import broadcast_receipt

    long = broadcast_receipt({"data": {"message_id": "m" * 5000, "status": "x" * 5000}}, "status")
    assert long is not None and len(long.message_id) == 200 and len(long.moderation_state) == 60
    assert (
        broadcast_receipt({"data": {"message_id": "m1"}}, "status").moderation_state == "accepted"
    )  # type: ignore[union-attr]
    assert broadcast_receipt({"data": []}, "status") is None


def test_headless_admins_decide_and_confirm_from_the_command_line(workspace: Workspace) -> None:
    from typer.testing import CliRunner

    from bot.cli.main import app

    loa = configure(workspace, broadcast="each")
    sb = workspace.zalo
    now = datetime.now(UTC)
    publish(loa, sb, "Bài 1", now - timedelta(hours=1))
    (first,) = broadcast_tick(loa, now)
    cli = CliRunner()
    listed = cli.invoke(app, ["-c", str(workspace.config), "broadcasts"])
    assert listed.exit_code == 0 and "chờ duyệt" in listed.output and "còn lại" in listed.output
    sent = cli.invoke(
        app,
        ["-c", str(workspace.config), "broadcasts", "approve", str(first.id), "--by", "lanh-dao"],
    )
    assert sent.exit_code == 0 and "đã gửi" in sent.output and "reviewing" in sent.output
    again = cli.invoke(app, ["-c", str(workspace.config), "broadcasts", "approve", str(first.id)])
    assert isinstance(again.exception, ValueError) and "đã được xử lý" in str(again.exception)
    assert len(sb.records["broadcasts"]) == 1

    later = at(sb, now + timedelta(days=8))
    publish(loa, sb, "Bài 2", later - timedelta(hours=1))
    (second,) = broadcast_tick(loa, later)
    loa.channel("zalo").access_token()  # type: ignore[attr-defined]
    sb.inject("http_502", path=r"^/v2.0/oa/message$")
    doubt = cli.invoke(app, ["-c", str(workspace.config), "broadcasts", "approve", str(second.id)])
    assert doubt.exit_code == 0 and "không rõ đã gửi" in doubt.output
    done = cli.invoke(app, ["-c", str(workspace.config), "broadcasts", "confirm", str(second.id)])
    assert done.exit_code == 0 and "đã được gửi" in done.output
    b = loa.store.broadcasts.get(second.id)
    assert b is not None and b.state == "sent" and b.decided_by
    as_json = cli.invoke(app, ["-c", str(workspace.config), "broadcasts", "--json"])
    assert [x["state"] for x in json.loads(as_json.output)["broadcasts"]] == ["sent", "sent"]


def test_a_proposal_left_undecided_lapses_with_its_month_and_frees_its_articles(
    workspace: Workspace,
) -> None:
    loa = configure(workspace, broadcast="each")
    sb = workspace.zalo
    now = at(sb, december(30))
    aid = publish(loa, sb, "Bài cuối năm", now - timedelta(hours=1))
    (old,) = broadcast_tick(loa, now)
    assert old.month == "2026-12"
    (new,) = broadcast_tick(loa, at(sb, datetime(2027, 1, 2, 3, tzinfo=UTC)))
    assert loa.store.broadcasts.get(old.id).state == "expired"  # type: ignore[union-attr]
    assert new.month == "2027-01" and new.article_ids == (aid,)
    assert not decide_broadcast(loa, old.id, ADMIN, approve=True, now=december(30))[0]
    assert sb.records["broadcasts"] == []
