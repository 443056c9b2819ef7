"""A third party adds a channel type through the `loa.channels` entry point, without touching Loa."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import parsed_article

from bot.context import Loa
from bot.settings import ConfigError, load_settings
from channels.registry import channel_types
from content_queue.models import Actor

PLUGIN = '''
"""A bulletin channel that appends each post to a JSON-lines file."""
from __future__ import annotations
import json
from pathlib import Path
from channels.base import ChannelSettings, Draft, Health, Receipt

class BulletinSettings(ChannelSettings):
    path: str

class BulletinChannel:
    Settings = BulletinSettings

    def __init__(self, name, settings, *, token_store=None, session=None):
        self.name, self.settings = name, settings

    def render(self, article, links):
        return Draft(self.name, article.title, f"{article.title} {links.get('website', '')}".strip(),
                     link=links.get("website"))

    def _posts(self):
        p = Path(self.settings.path)
        return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []

    def publish(self, draft, idempotency_key):
        with open(self.settings.path, "a") as f:
            f.write(json.dumps({"key": idempotency_key, "text": draft.text}) + "\\n")
        return Receipt(idempotency_key, None)

    def find_existing(self, draft, idempotency_key, since):
        return next((Receipt(p["key"], None) for p in self._posts() if p["key"] == idempotency_key), None)

    def update(self, receipt, draft):
        return receipt

    def retract(self, receipt):
        pass

    def fetch_reach(self, receipts):
        return {}

    def check(self):
        return Health(True, "ok")
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the plugin the way pip lays it out: a module plus its dist-info with entry points."""
    site = tmp_path / "site"
    (site / "loa_bulletin").mkdir(parents=True)
    (site / "loa_bulletin" / "__init__.py").write_text(PLUGIN, "utf-8")
    info = site / "loa_bulletin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: loa-bulletin\nVersion: 0.1\n", "utf-8")
    (info / "entry_points.txt").write_text("[loa.channels]\nbulletin = loa_bulletin:BulletinChannel\n",
                                           "utf-8")
    monkeypatch.syspath_prepend(str(site))
    channel_types.cache_clear()
    yield tmp_path
    channel_types.cache_clear()


def test_a_channel_installed_through_the_entry_point_publishes(plugin: Path) -> None:
    out = plugin / "bulletin.jsonl"
    (plugin / "config.toml").write_text(textwrap.dedent(f"""
        [channels.bulletin]
        type = "bulletin"
        path = "{out}"
    """), "utf-8")
    loa = Loa(load_settings(plugin / "config.toml"))
    assert "bulletin" in channel_types()
    actor = Actor("test", "cli")
    art = loa.store.submit(parsed_article("Bản tin CCHC tháng 12"), actor).article
    loa.store.approve(art.id, actor, datetime.now(UTC), loa.channel_plan([]))
    d = loa.dispatcher()
    d.tick()
    d.close()
    posts = [json.loads(x) for x in out.read_text().splitlines()]
    assert [p["text"] for p in posts] == ["Bản tin CCHC tháng 12"]
    assert loa.store.get(art.id).state == "published"


def test_an_unknown_type_names_the_installed_ones(plugin: Path) -> None:
    (plugin / "config.toml").write_text('[channels.x]\ntype = "bulletn"\n', "utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(plugin / "config.toml")
    assert "bulletin" in str(err.value) and "wordpress" in str(err.value)
