"""What an adapter may do beyond :class:`channels.base.Channel`: one ``runtime_checkable``
protocol per optional ability, so the host asks ``isinstance(channel, SendsBroadcasts)`` instead of
looking for a method by name. An adapter has an ability by defining its methods (no registration).

The two abilities of the preparation before the slot and of follow-ups live beside their values:
:class:`channels.preparation.Preparer` and :class:`channels.followup.FollowsUp`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from channels.base import ChannelSettings, ImageRef, Prompts
from channels.zalo_broadcast import BroadcastReceipt

__all__ = [
    "BroadcastSettings",
    "SendsBroadcasts",
    "ConfirmsByHand",
    "Connects",
    "CountsFollowers",
    "DefaultCoverSettings",
    "HasSettings",
    "RenewsOwnTokens",
    "UploadsImages",
    "UsesDefaultCover",
]


@runtime_checkable
class HasSettings(Protocol):
    """An adapter that exposes its ``[channels.NAME]`` settings (every :class:`BaseChannel`)."""

    settings: ChannelSettings


@runtime_checkable
class RenewsOwnTokens(Protocol):
    """An adapter that may renew its own credentials (True: no "token expires soon" alert)."""

    refreshes_own_tokens: bool


@runtime_checkable
class CountsFollowers(Protocol):
    """Counts the account's followers: metric → count (None when the platform did not say)."""

    def follower_count(self) -> dict[str, int | None]: ...


@runtime_checkable
class SendsBroadcasts(Protocol):
    """Sends published articles to every follower (Zalo's "tin truyền thông"); a lost answer
    raises with ``may_have_posted`` (there is no look-up: a person decides)."""

    def broadcast(self, article_ids: Sequence[str]) -> BroadcastReceipt: ...


@runtime_checkable
class UploadsImages(Protocol):
    """Uploads one image to the platform's media library and returns its public URL."""

    def upload_image(self, img: ImageRef) -> str: ...


@runtime_checkable
class UsesDefaultCover(Protocol):
    """Uses a default cover for an article without one, remembering the uploaded file's URL."""

    def default_cover_url(self) -> str | None: ...

    def remember_default_cover(self, path: str, sha256: str, url: str) -> None: ...

    def remembered_default_cover(self) -> dict[str, Any]: ...

    def check_default_cover(self) -> str | None: ...


@runtime_checkable
class Connects(Protocol):
    """Connects an account interactively (``loa channels connect NAME``); returns what to say."""

    def connect(self, prompts: Prompts) -> str: ...


@runtime_checkable
class ConfirmsByHand(Protocol):
    """A person records the outcome: the host sets how to tell them (article id, channel name →
    the lines of instructions; :mod:`bot.instructions` builds them)."""

    confirm_instructions: Callable[[str, str], Sequence[str]] | None


@runtime_checkable
class BroadcastSettings(Protocol):
    """Settings of a channel that can broadcast: the mode, the monthly quota, the digest's day."""

    broadcast: str
    broadcast_quota_per_month: int
    digest_weekday: int
    digest_time: str


@runtime_checkable
class DefaultCoverSettings(Protocol):
    """Settings of a channel with a default cover: a public URL, or a local file to upload."""

    default_cover: str | None
    default_cover_url: str | None
