"""Zalo OA's tokens and OAuth v4: the consent link (PKCE), trading the code for the first pair,
and the access token the calls carry (composed into :class:`channels.zalo_oa.ZaloOAChannel`; the
durable rotation of the single-use refresh tokens is :mod:`channels.zalo_tokens`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from channels.base import AuthError, Health, Prompts
from channels.zalo_settings import ZaloOASettings
from channels.zalo_tokens import Checkpoint, ZaloTokens

__all__ = ["ZaloOAuth", "consent_link"]


class ZaloOAuth:
    """Connecting the OA and the access token of every call."""

    if TYPE_CHECKING:
        settings: ZaloOASettings
        tokens: ZaloTokens
        reconnect_hint: str

        def _send(self, method: str, url: str, write: bool, **kwargs: Any) -> dict[str, Any]: ...

        def check(self) -> Health: ...

    def access_token(self) -> str:
        """A usable access token (see :class:`ZaloTokens`)."""
        return self.tokens.access_token()

    def refresh_access_token(
        self, *, stale: str | None = None, checkpoint: Checkpoint | None = None
    ) -> str:
        """A valid access token, refreshed durably unless another process already did."""
        return self.tokens.refresh(stale=stale, checkpoint=checkpoint)

    def _secret(self) -> str:
        if self.settings.app_secret is None:
            raise AuthError(
                "Chưa cấu hình khoá bí mật ứng dụng Zalo (LOA_CHANNELS__ZALO__APP_SECRET).",
                reconnect_hint=self.reconnect_hint,
            )
        return self.settings.app_secret.get_secret_value()

    def _oauth(self, form: dict[str, str]) -> dict[str, Any]:
        url = f"{self.settings.oauth_url.rstrip('/')}/v4/oa/access_token"
        return self._send("POST", url, True, data=form, headers={"secret_key": self._secret()})

    def connect(self, prompts: Prompts) -> str:
        """Ask the OA's admin to consent (PKCE), then store the first token pair durably."""
        url, verifier, state = consent_link(self.settings)
        prompts.say("Mở liên kết sau bằng tài khoản quản trị Zalo OA và đồng ý cấp quyền:\n" + url)
        pasted = prompts.ask(
            "Dán lại nguyên địa chỉ trang được chuyển tới "
            f"(bắt đầu bằng {self.settings.redirect_uri})"
        )
        info = self.connect_with_code(pasted.strip(), verifier, expected_state=state)
        return f"Đã kết nối Zalo OA: {info}"

    def connect_with_code(
        self, code: str, code_verifier: str, *, expected_state: str | None = None
    ) -> dict[str, Any]:
        """Store the first pair from an authorisation code, then read the OA's name and expiry.

        With ``expected_state`` (the ``state`` of :func:`consent_link`), ``code`` must be the
        whole redirect URL carrying that state: a code from another consent (someone else's
        link, an old attempt) is refused before it is traded.
        """
        query = parse_qs(urlsplit(code.strip()).query) if "code=" in code else {}
        if expected_state is not None:
            got = (query.get("state") or [""])[0]
            if not hmac.compare_digest(got.encode("utf-8"), expected_state.encode("utf-8")):
                raise ValueError(
                    "Địa chỉ dán vào không mang mã xác nhận (state) của lần cấp quyền "
                    "này, nên Loa không dùng nó. Hãy mở lại đúng liên kết vừa in ra "
                    "và dán nguyên địa chỉ trang được chuyển tới."
                )
        if query:  # the admin pasted the whole redirect URL
            code = (query.get("code") or [""])[0]
        self.tokens.connect(code, code_verifier)
        health = self.check()
        return {
            "ok": health.ok,
            "detail": health.detail,
            "oa_name": health.account,
            "oa_id": health.extra.get("oa_id"),
            "access_expires_at": health.expires_at,
            "refresh_expires_at": health.extra.get("refresh_expires_at"),
        }


def consent_link(settings: ZaloOASettings) -> tuple[str, str, str]:
    """The OA admin's consent URL, its PKCE ``code_verifier`` and ``state`` (S256 challenge)."""
    if not settings.app_id or not settings.redirect_uri:
        raise ValueError(
            "Cần khai báo app_id và redirect_uri trong [channels.zalo] để cấp quyền Zalo OA."
        )
    verifier = secrets.token_urlsafe(64)[:86]
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "app_id": settings.app_id,
            "redirect_uri": settings.redirect_uri,
            "code_challenge": challenge,
            "state": state,
        }
    )
    return f"{settings.oauth_url.rstrip('/')}/v4/oa/permission?{query}", verifier, state
