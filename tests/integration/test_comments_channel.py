"""The Facebook adapter's comment ability against the sandbox over real HTTP: batched reads,
and never twice on replies, hides, deletes and private replies under every fault class."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from conftest import serving

from channels.base import ChannelError
from channels.comments import CommentModerator
from channels.facebook_page import FacebookPageChannel, FacebookSettings
from channels.sandbox.facebook import FacebookSandbox

# Every fault class of the contract kit, and whether the write may have acted.
ACTED = ["after:http_500", "after:html_502", "after:truncated", "drop_after"]
NOT_ACTED = ["http_500", "html_502", "drop_before", "transient"]


@pytest.fixture
def sb() -> Iterator[FacebookSandbox]:
    with serving(FacebookSandbox()) as server:
        yield server


def channel(sb: FacebookSandbox) -> FacebookPageChannel:
    return FacebookPageChannel(
        "facebook",
        FacebookSettings(
            page_id=sb.PAGE_ID, graph_url=sb.url, page_token=sb.PAGE_TOKEN, timeout_seconds=3
        ),
    )


def calls(sb: FacebookSandbox) -> int:
    return len(sb.request_log)


def test_the_facebook_channel_declares_the_comment_ability(sb: FacebookSandbox) -> None:
    assert isinstance(channel(sb), CommentModerator)


def test_catch_up_read_of_200_posts_costs_one_call_per_50_posts(sb: FacebookSandbox) -> None:
    posts = [sb.add_post(f"Bài số {i}") for i in range(200)]
    for p in posts[::7]:
        cid = sb.comments.add(p, "Cho hỏi thủ tục cấp hộ chiếu?")
        sb.comments.add(p, "Trả lời của người khác", parent_id=cid)
    before = calls(sb)
    read = channel(sb).read_comments(posts, datetime.now(UTC) - timedelta(hours=3))
    assert calls(sb) - before == read.calls <= math.ceil(200 / 50)
    assert len(read.comments) == 2 * len(posts[::7]) and not read.unreadable
    assert {c.parent_id for c in read.comments if c.parent_id} <= {c.id for c in read.comments}


def test_a_busy_post_reads_its_further_pages_alone(sb: FacebookSandbox) -> None:
    post = sb.add_post("Bài có nhiều bình luận")
    for i in range(230):
        sb.comments.add(post, f"Bình luận {i}")
    read = channel(sb).read_comments([post], None)
    assert len({c.id for c in read.comments}) == 230 and read.calls == 3


def test_a_gone_post_does_not_stop_the_others(sb: FacebookSandbox) -> None:
    post = sb.add_post("Bài còn")
    sb.comments.add(post, "Xin chào")
    read = channel(sb).read_comments([post, f"{sb.PAGE_ID}_999"], None)
    assert len(read.comments) == 1 and read.unreadable == (f"{sb.PAGE_ID}_999",)


@pytest.mark.parametrize("fault", ACTED + NOT_ACTED)
def test_a_reply_whose_answer_was_lost_is_found_or_not_and_never_sent_twice(
    sb: FacebookSandbox, fault: str
) -> None:
    ch = channel(sb)
    cid = sb.comments.add(sb.add_post("Bài"), "Cho hỏi giờ làm việc?")
    sb.inject(fault, path=r"/comments$", method="POST")
    t0 = datetime.now(UTC) - timedelta(seconds=5)
    with pytest.raises(ChannelError) as info:
        ch.reply_comment(cid, "Bộ phận một cửa làm việc từ 7 giờ 30.")
    acted = fault in ACTED
    assert info.value.may_have_posted  # from Loa's side, each of these could have acted
    found = ch.find_reply(cid, "Bộ phận một cửa làm việc từ 7 giờ 30.", t0)
    assert (found is not None) == acted
    if found is None:  # only now may it be sent again
        ch.reply_comment(cid, "Bộ phận một cửa làm việc từ 7 giờ 30.")
    assert len(sb.records["comment_replies"]) == 1


@pytest.mark.parametrize("fault", ACTED + NOT_ACTED)
@pytest.mark.parametrize("what", ["hide", "delete"])
def test_hide_and_delete_are_retried_freely_and_end_once(
    sb: FacebookSandbox, fault: str, what: str
) -> None:
    ch = channel(sb)
    cid = sb.comments.add(sb.add_post("Bài"), "Quảng cáo vay tiền 0912345678")
    sb.inject(fault, path=r"_7\d+$", method="DELETE" if what == "delete" else "POST")
    for _ in range(3):  # what the service does: retry a known id until it is done
        try:
            ch.delete_comment(cid) if what == "delete" else ch.hide_comment(cid, True)
            break
        except ChannelError as exc:
            assert not exc.may_have_posted  # a known id: not a "maybe posted" write
    if what == "delete":
        assert cid not in sb.comments.items
        assert len(sb.records["comment_deletes"]) == 1
    else:
        assert sb.comments.items[cid]["is_hidden"] is True


def test_a_private_reply_whose_answer_was_lost_is_in_doubt_and_a_second_try_is_refused(
    sb: FacebookSandbox,
) -> None:
    ch = channel(sb)
    cid = sb.comments.add(sb.add_post("Bài"), "Tôi muốn phản ánh việc chậm trả kết quả")
    sb.inject("after:http_500", path=r"/messages$", method="POST")
    with pytest.raises(ChannelError) as info:
        ch.private_reply(cid, "Chúng tôi đã nhận phản ánh.")
    assert info.value.may_have_posted
    with pytest.raises(ChannelError) as again:
        ch.private_reply(cid, "Chúng tôi đã nhận phản ánh.")
    assert again.value.code == 10900 and not again.value.may_have_posted
    assert len(sb.records["private_replies"]) == 1


def test_the_snapshot_of_a_gone_comment_is_empty(sb: FacebookSandbox) -> None:
    ch = channel(sb)
    cid = sb.comments.add(sb.add_post("Bài"), "Nội dung cần gỡ")
    assert ch.comment_snapshot(cid)["message"] == "Nội dung cần gỡ"
    ch.delete_comment(cid)
    ch.delete_comment(cid)  # already gone: done
    assert ch.comment_snapshot(cid) == {}
