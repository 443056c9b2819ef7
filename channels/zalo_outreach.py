"""Zalo OA beyond articles: the default cover, the follower count, and broadcasts to followers
(composed into :class:`channels.zalo_oa.ZaloOAChannel`; the body and receipt of a broadcast and
the cover check are :mod:`channels.zalo_broadcast`)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import requests

from channels.base import AuthError, RateLimited, RejectedError, TokenStore, TransientError
from channels.zalo_api import int_or_none
from channels.zalo_broadcast import (
    BroadcastReceipt,
    broadcast_body,
    broadcast_receipt,
    cover_problem,
)
from channels.zalo_settings import ZaloOASettings

__all__ = ["ZaloOutreach"]

log = logging.getLogger(__name__)


class ZaloOutreach:
    """The default cover, the follower count and broadcasts, over the channel's calls."""

    if TYPE_CHECKING:
        name: str
        settings: ZaloOASettings
        store: TokenStore
        session: requests.Session

        def _call(
            self,
            method: str,
            path: str,
            *,
            params: dict[str, Any] | None = None,
            body: dict[str, Any] | None = None,
            write: bool = False,
        ) -> dict[str, Any]: ...

        def _send(self, method: str, url: str, write: bool, **kwargs: Any) -> dict[str, Any]: ...

        def _secret(self) -> str: ...

        def access_token(self) -> str: ...

        def refresh_access_token(self, *, stale: str | None = None) -> str: ...

    def default_cover_url(self) -> str | None:
        """The public URL of the default cover: configured, or remembered after its upload."""
        if self.settings.default_cover_url:
            return self.settings.default_cover_url
        if not self.settings.default_cover:
            return None
        stored = self.store.load().get("default_cover") or {}
        if isinstance(stored, dict) and stored.get("path") == self.settings.default_cover:
            return stored.get("url") or None
        return None

    def remember_default_cover(self, path: str, sha256: str, url: str) -> None:
        """Keep the website URL of the uploaded ``default_cover`` file (and its content hash)."""
        self.store.save({"default_cover": {"path": path, "sha256": sha256, "url": url}})

    def remembered_default_cover(self) -> dict[str, Any]:
        """What :meth:`remember_default_cover` stored ({} when nothing was uploaded yet)."""
        stored = self.store.load().get("default_cover")
        return dict(stored) if isinstance(stored, dict) else {}

    def check_default_cover(self) -> str | None:
        """Why Zalo would refuse the default cover (fetched once), or None when it is usable."""
        url = self.default_cover_url()
        if url is None:
            if self.settings.default_cover:
                return (
                    f"Ảnh bìa mặc định {self.settings.default_cover} chưa được tải lên website "
                    "nên Zalo chưa dùng được (cần kênh website hoạt động)."
                )
            return None
        return cover_problem(self.session, url, self.settings.timeout_seconds)

    def follower_count(self) -> dict[str, int | None]:
        """The OA's follower count (``followers``; None when the answer does not carry it)."""
        data = self._call("GET", "oa/getoa").get("data") or {}
        return {"followers": int_or_none(data.get(self.settings.follower_field))}

    def broadcast(self, article_ids: Sequence[str]) -> BroadcastReceipt:
        """Send up to 5 published articles to the followers the target selects; never retried.

        Zalo offers no look-up of a broadcast: any error whose ``may_have_posted`` is True means
        the followers may have received it, and only a person can say whether they did.
        """
        body = broadcast_body(article_ids, self.settings.broadcast_target)
        url = f"{self.settings.api_url.rstrip('/')}/{self.settings.broadcast_path.strip('/')}"
        token = self.access_token()
        try:
            try:
                answer = self._broadcast_once(url, token, body)
            except AuthError as e:
                if not e.refreshable:
                    raise
                # A refused token means Zalo did not act: refreshing and sending once more is safe.
                answer = self._broadcast_once(url, self.refresh_access_token(stale=token), body)
        except RateLimited as e:
            if e.code != -211:
                raise
            raise RejectedError(
                "Zalo không gửi: người theo dõi đã nhận đủ số tin truyền thông cho "
                "phép trong ngày hoặc trong tháng theo gói của OA (mã -211).",
                code=e.code,
            ) from e
        receipt = broadcast_receipt(answer, self.settings.broadcast_state_field)
        if receipt is None:
            raise TransientError(
                "Zalo nhận tin truyền thông nhưng không trả mã tin (message_id).",
                may_have_posted=True,
            )
        log.info(
            "zalo %s: broadcast %s accepted (%s)",
            self.name,
            receipt.message_id,
            receipt.moderation_state,
        )
        return receipt

    def _broadcast_once(self, url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"access_token": token}
        if self.settings.use_appsecret_proof:
            headers["appsecret_proof"] = hmac.new(
                self._secret().encode(), token.encode(), hashlib.sha256
            ).hexdigest()
        return self._send("POST", url, True, headers=headers, json=body)
