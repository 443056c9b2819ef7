"""The plan's ten topics a)–i) (with đ), shipped as data and overridable in config."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["TOPIC_ORDER", "Topic", "default_topics", "topics_with_overrides"]

# Vietnamese alphabetical order: đ comes right after d.
TOPIC_ORDER: tuple[str, ...] = ("a", "b", "c", "d", "đ", "e", "f", "g", "h", "i")


@dataclass(frozen=True)
class Topic:
    key: str
    label: str
    keywords: tuple[str, ...]


@cache
def default_topics() -> dict[str, Topic]:
    """The topics of the 2026 plan, in plan order."""
    data = tomllib.loads((Path(__file__).parent / "data" / "topics.toml").read_text("utf-8"))
    return {k: Topic(k, data[k]["label"], tuple(data[k]["keywords"])) for k in TOPIC_ORDER}


def topics_with_overrides(labels: Mapping[str, str]) -> dict[str, Topic]:
    """Default topics with labels replaced from ``[plan] topics``; unknown keys raise KeyError."""
    topics = dict(default_topics())
    for key, label in labels.items():
        if key not in topics:
            raise KeyError(key)
        topics[key] = Topic(key, label, topics[key].keywords)
    return topics
