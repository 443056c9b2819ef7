"""A third party adds a channel type through the `loa.channels` entry point, without touching Loa."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import parsed_article, serving

from bot.context import Loa
from bot.run import build_dispatcher
from bot.settings import ConfigError, load_settings
from channels.base import ArticleView
from channels.registry import channel_types
from channels.sandbox.base import Request, Response, SandboxServer
from channels.testing import ContractSubject, Fault, Operation, all_cases, check, http_faults
from content_queue.models import Actor

PLUGIN = '''
"""A notice-board channel over HTTP: settings, render, publish and find_existing, nothing else.

Built on channels.base.BaseChannel, it inherits Loa's rule for ambiguous answers (channels.http):
it only declares how its platform says "refused".
"""
from __future__ import annotations
from channels.base import BaseChannel, ChannelSettings, Draft, RateLimited, Receipt, RejectedError
from channels.http import Answers


class BulletinSettings(ChannelSettings):
    url: str


def _answer(resp, body):
    if 200 <= resp.status_code < 300:
        return body
    if resp.status_code == 429:
        raise RateLimited("Bảng tin yêu cầu chậm lại.", retry_after=30, code=429)
    raise RejectedError(f"Bảng tin từ chối: {body.get('error')}", code=body.get("code"))


class BulletinChannel(BaseChannel):
    Settings = BulletinSettings
    label = "bảng tin"
    ANSWERS = Answers(label="Bảng tin", mapper=_answer)

    def render(self, article, links):
        return Draft(self.name, article.title, f"{article.title} {links.get('website', '')}".strip(),
                     link=links.get("website"))

    def publish(self, draft, idempotency_key):
        made = self.call("POST", self.settings.url + "/notices", self.ANSWERS, write=True,
                         json={"key": idempotency_key, "title": draft.title, "text": draft.text})
        return Receipt(str(made["id"]), made["url"])

    def find_existing(self, draft, idempotency_key, since):
        items = self.call("GET", self.settings.url + "/notices", self.ANSWERS,
                          params={"key": idempotency_key})
        return next((Receipt(str(n["id"]), n["url"]) for n in items), None)
'''


class NoticeBoard(SandboxServer):
    """The notice board's API, as the plugin's authors would test against it."""

    name = "notices"

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[dict[str, Any]] = []
        self.route("POST", r"/notices", self._create)
        self.route("GET", r"/notices", self._list)

    def _create(self, req: Request) -> Response:
        body = req.json() or {}
        if not body.get("key") or not body.get("text"):
            return Response(400, {"error": "missing key or text", "code": "invalid"})
        with self.lock:
            notice = {
                "id": len(self.notices) + 1,
                "key": body["key"],
                "text": body["text"],
                "url": f"{self.url}/n/{len(self.notices) + 1}",
            }
            self.notices.append(notice)
        return Response(201, notice)

    def _list(self, req: Request) -> Response:
        with self.lock:
            return Response(200, [n for n in self.notices if n["key"] == req.query.get("key")])

    def platform_fault(self, kind: str, req: Request) -> Response:
        if kind == "refused":
            return Response(400, {"error": "text refused", "code": "refused"})
        if kind == "throttle":
            return Response(429, {"error": "slow down", "code": "throttled"})
        if kind.startswith("http_"):
            return Response(int(kind[5:]), {"error": "internal error", "code": "internal"})
        return super().platform_fault(kind, req)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the plugin the way pip lays it out: a module plus its dist-info with entry points."""
    site = tmp_path / "site"
    (site / "loa_bulletin").mkdir(parents=True)
    (site / "loa_bulletin" / "__init__.py").write_text(PLUGIN, "utf-8")
    info = site / "loa_bulletin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: loa-bulletin\nVersion: 0.1\n", "utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[loa.channels]\nbulletin = loa_bulletin:BulletinChannel\n", "utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    channel_types.cache_clear()
    yield tmp_path
    channel_types.cache_clear()


@pytest.fixture
def board() -> Iterator[NoticeBoard]:
    with serving(NoticeBoard()) as server:
        yield server


def test_a_channel_installed_through_the_entry_point_publishes(
    plugin: Path, board: NoticeBoard
) -> None:
    (plugin / "config.toml").write_text(
        textwrap.dedent(f"""
        [channels.bulletin]
        type = "bulletin"
        url = "{board.url}"
    """),
        "utf-8",
    )
    loa = Loa(load_settings(plugin / "config.toml"))
    assert "bulletin" in channel_types()
    actor = Actor("test", "cli")
    art = loa.store.articles.submit(parsed_article("Bản tin CCHC tháng 12"), actor).article
    loa.store.articles.approve(art.id, actor, datetime.now(UTC), loa.channel_plan([]))
    d = build_dispatcher(loa)
    d.tick()
    d.close()
    assert [n["text"] for n in board.notices] == ["Bản tin CCHC tháng 12"]
    assert loa.store.articles.get(art.id).state == "published"


THIRD_PARTY_CASES = list(all_cases(frozenset({Operation.PUBLISH, Operation.FIND_EXISTING})))


@pytest.mark.parametrize(
    ("op", "fault"),
    THIRD_PARTY_CASES,
    ids=[f"{op.value}-{fault.name.lower()}" for op, fault in THIRD_PARTY_CASES],
)
def test_a_third_party_channel_passes_the_contract_kit(
    plugin: Path, board: NoticeBoard, op: Operation, fault: Fault
) -> None:
    """Written with settings, render, publish and find_existing only, it never posts twice."""
    cls = channel_types()["bulletin"].load()
    settings = cls.Settings.model_validate(
        {"type": "bulletin", "url": board.url, "timeout_seconds": 0.6}
    )
    arm, disarm, settle = http_faults(
        board,
        {Operation.PUBLISH: ("POST", r"/notices$"), Operation.FIND_EXISTING: ("GET", r"/notices$")},
        refused="refused",
    )
    article = ArticleView(
        id=1,
        title="Bản tin CCHC",
        summary="",
        body_html="<p>Tin</p>",
        body_text="Tin",
        topic="a",
        topic_label="Cải cách thể chế",
    )
    subject = ContractSubject(
        make_channel=lambda: cls("bulletin", settings),
        article=article,
        arm=arm,
        disarm=disarm,
        settle=settle,
        posts=lambda key: [n["id"] for n in board.notices if n["key"] == key],
        operations=frozenset({Operation.PUBLISH, Operation.FIND_EXISTING}),
    )
    check(subject, op, fault)


def test_an_unknown_type_names_the_installed_ones(plugin: Path) -> None:
    (plugin / "config.toml").write_text('[channels.x]\ntype = "bulletn"\n', "utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(plugin / "config.toml")
    assert "bulletin" in str(err.value) and "wordpress" in str(err.value)
