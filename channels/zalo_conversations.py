"""Citizens' messages on the OA (``channels.messaging``): the webhook's signature and events, the
reply window, and ``message/cs`` replies — composed into :class:`channels.zalo_oa.ZaloOAChannel`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from channels.base import AuthError
from channels.errors import ChannelError
from channels.messaging import IncomingEvent, ReplyReceipt, ReplyWindow
from channels.zalo_messages import (
    SITE_VERIFICATION_META,
    cs_body,
    parse_zalo_webhook,
    verify_zalo_webhook,
    zalo_refusal_line,
)
from channels.zalo_settings import ZaloOASettings

__all__ = ["ZaloConversations"]


class ZaloConversations:
    """Webhook verification and parsing, the reply window and replies to citizens."""

    platform: ClassVar[str] = "zalo"
    webhook_secrets: ClassVar[tuple[str, ...]] = ("oa_secret_key",)

    if TYPE_CHECKING:
        settings: ZaloOASettings

        def access_token(self) -> str: ...

        def refresh_access_token(self, *, stale: str | None = None) -> str: ...

        def _broadcast_once(self, url: str, token: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        s = self.settings
        verify_zalo_webhook(
            body,
            headers,
            now,
            formula=s.webhook_signature,
            app_id=s.app_id,
            oa_id=s.oa_id,
            secret=s.oa_secret_key.get_secret_value() if s.oa_secret_key else None,
            max_age_seconds=s.webhook_max_age_seconds,
            timestamp_header=s.webhook_timestamp_header,
        )

    def parse_webhook(self, body: bytes) -> list[IncomingEvent]:
        return parse_zalo_webhook(body)

    def subscription_challenge(self, params: Mapping[str, str]) -> str | None:
        return None  # Zalo verifies the domain with a meta tag, not a handshake

    def reply_window(self) -> ReplyWindow:
        s = self.settings
        hours = min(s.reply_window_hours, s.cs_window_days * 24)  # -230 beyond cs_window_days
        return ReplyWindow(hours, s.free_replies_per_window)

    def site_meta(self) -> tuple[str, str] | None:
        """The meta tag Zalo's domain verification looks for on the web server's pages."""
        code = self.settings.site_verification.strip()
        return (SITE_VERIFICATION_META, code) if code else None

    def send_reply(
        self, citizen_id: str, text: str, *, quote_id: str | None = None, human: bool = False
    ) -> ReplyReceipt:
        """``message/cs`` to the citizen; a lost answer is never resent (no look-up exists)."""
        s = self.settings
        body = cs_body(citizen_id, text[: s.reply_max_chars], s.quote_field, quote_id)
        url = f"{s.api_url.rstrip('/')}/{s.reply_path.strip('/')}"
        token = self.access_token()
        try:
            answer = self._broadcast_once(url, token, body)
        except AuthError as e:
            if not e.refreshable:
                raise
            # A refused token means Zalo did not act: refreshing and sending once more is safe.
            answer = self._broadcast_once(url, self.refresh_access_token(stale=token), body)
        data = answer.get("data")
        message_id = data.get("message_id") if isinstance(data, dict) else None
        return ReplyReceipt(str(message_id) if message_id else None)

    def refusal_line(self, exc: ChannelError) -> str:
        return zalo_refusal_line(exc)
