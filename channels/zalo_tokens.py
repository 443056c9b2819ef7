"""Zalo OA tokens: durable rotation of Zalo's single-use refresh tokens.

Platform facts: ``../shared/contracts/zalo.md`` (OAuth v4).

The access token lives 25 hours; the refresh token that renews it is single-use (Zalo kills it
the instant it issues the next pair). :meth:`ZaloTokens.refresh`:

1. takes ``token_store.locked()`` (one refresh at a time across processes) and re-loads the stored
   pair: if another process already refreshed, its pair is used and nothing is sent;
2. durably records an intent ``refresh_attempt = {at, token_fingerprint}`` before calling Zalo;
3. stores the new pair (and clears the intent) in one commit the moment Zalo's answer arrives,
   before the token is used or success is logged.

A crash anywhere loses nothing, except in the unavoidable instant between Zalo rotating the token
and Loa committing the answer. That loss is detected: when Zalo later refuses a refresh token for
which an unresolved intent is on record, :class:`AuthError` tells the admin to reconnect, with a
message distinct from that of a refresh token that merely expired (three months unused).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from channels.base import AuthError, ChannelError, TokenStore

__all__ = [
    "Checkpoint",
    "TokenSettings",
    "ZaloTokens",
    "float_or",
    "parse_time",
    "token_fingerprint",
]

log = logging.getLogger(__name__)


class TokenSettings(Protocol):
    """What the rotation needs of ``[channels.zalo]`` (channels.zalo_oa.ZaloOASettings)."""

    @property
    def app_id(self) -> str: ...

    @property
    def refresh_token(self) -> SecretStr | None: ...

    @property
    def refresh_margin_seconds(self) -> float: ...


Checkpoint = Callable[[str], None]
OAuth = Callable[[dict[str, str]], dict[str, Any]]  # one POST to /v4/oa/access_token
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def token_fingerprint(token: str) -> str:
    """First 12 hex digits of SHA-256: names a token in records and logs without revealing it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def parse_time(value: Any) -> datetime | None:
    """A stored ISO time or Zalo's ``create_date`` (epoch milliseconds or seconds) as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, UTC)
    parsed = datetime.fromisoformat(str(value))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def float_or(value: Any, default: float) -> float:
    """``value`` as a positive number, else ``default``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class ZaloTokens:
    """The OA's token pair in ``store``: a usable access token, refreshed durably when due."""

    ACCESS_TTL_DEFAULT = 90000  # when an answer carries no usable expires_in
    REFRESH_LIFETIME = timedelta(days=90)
    REFRESH_REFUSED_CODES = frozenset({-14014})  # *(unverified)* invalid/expired refresh token

    def __init__(
        self,
        name: str,
        settings: TokenSettings,
        store: TokenStore,
        oauth: OAuth,
        reconnect_hint: str,
    ):
        self.name, self.settings, self.store = name, settings, store
        self._oauth = oauth
        self.reconnect_hint = reconnect_hint

    def fresh(self, creds: Mapping[str, Any]) -> bool:
        """Whether the stored access token is good for longer than the refresh margin."""
        expires = parse_time(creds.get("access_expires_at"))
        if not creds.get("access_token") or expires is None:
            return False
        ttl = float(creds.get("access_ttl_seconds") or self.ACCESS_TTL_DEFAULT)
        margin = min(self.settings.refresh_margin_seconds, ttl / 2)
        return expires - datetime.now(UTC) > timedelta(seconds=margin)

    def access_token(self) -> str:
        """A usable access token: the stored one, or a fresh one if it expires within the margin."""
        creds = self.store.load()
        if self.fresh(creds):
            return str(creds["access_token"])
        return self.refresh()

    def refresh(self, *, stale: str | None = None, checkpoint: Checkpoint | None = None) -> str:
        """A valid access token, refreshed under the lock unless another process already did.

        ``stale`` is a token Zalo just refused: a stored token equal to it is refreshed even if
        its expiry looks far away. ``checkpoint(step)`` is called at each step (``before_lock``,
        ``before_intent``, ``intent_saved``, ``answered``, ``saved``) for crash tests.
        """
        step = checkpoint or (lambda _step: None)
        step("before_lock")
        with self.store.locked():
            creds = self.store.load()
            if self.fresh(creds) and creds.get("access_token") != stale:
                return str(creds["access_token"])  # refreshed meanwhile by another process
            step("before_intent")
            refresh_token = creds.get("refresh_token") or (
                self.settings.refresh_token.get_secret_value()
                if self.settings.refresh_token
                else ""
            )
            if not refresh_token:
                raise AuthError(
                    "Chưa có refresh token của Zalo OA. Chạy lệnh "
                    f"`{self.reconnect_hint}` và làm theo hướng dẫn để cấp quyền.",
                    reconnect_hint=self.reconnect_hint,
                )
            fp = token_fingerprint(refresh_token)
            prior = creds.get("refresh_attempt")
            self.store.save(
                {"refresh_attempt": {"at": _iso(datetime.now(UTC)), "token_fingerprint": fp}}
            )
            step("intent_saved")
            try:
                answer = self._oauth(
                    {
                        "refresh_token": refresh_token,
                        "app_id": self.settings.app_id,
                        "grant_type": "refresh_token",
                    }
                )
            except ChannelError as e:
                if e.may_have_posted:
                    raise  # Zalo may have rotated: the intent stays on record
                self.store.save({"refresh_attempt": prior})  # Zalo answered: nothing rotated now
                raise self._refusal(e, fp, prior) from e
            step("answered")
            token = self.store_pair(answer)
            step("saved")
        log.info("zalo %s: token refreshed (old refresh token %s)", self.name, fp)
        return token

    def connect(self, code: str, code_verifier: str) -> None:
        """Store the first pair, traded for an authorisation code (PKCE)."""
        with self.store.locked():
            answer = self._oauth(
                {
                    "code": code,
                    "app_id": self.settings.app_id,
                    "grant_type": "authorization_code",
                    "code_verifier": code_verifier,
                }
            )
            self.store_pair(answer)

    def refresh_expires_at(self) -> datetime | None:
        """When the stored refresh token dies unused (Zalo: three months after it was issued)."""
        obtained = parse_time(self.store.load().get("refresh_obtained_at"))
        return obtained + self.REFRESH_LIFETIME if obtained else None

    def store_pair(self, answer: Mapping[str, Any]) -> str:
        """Commit the new pair (clearing the intent) before anything else; returns the access token."""
        access, refresh = answer.get("access_token"), answer.get("refresh_token")
        if not access:
            raise AuthError(
                "Zalo không cấp access token mới (câu trả lời không có token). Chạy lệnh "
                f"`{self.reconnect_hint}` để cấp quyền lại.",
                reconnect_hint=self.reconnect_hint,
            )
        ttl = float_or(answer.get("expires_in"), self.ACCESS_TTL_DEFAULT)
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "access_token": access,
            "access_ttl_seconds": ttl,
            "access_expires_at": _iso(now + timedelta(seconds=ttl)),
        }
        if refresh:
            values.update(
                refresh_token=refresh, refresh_obtained_at=_iso(now), refresh_attempt=None
            )
        self.store.save(values)
        if not refresh:  # the old refresh token is spent and no new one came: the intent stays
            log.warning("zalo %s: Zalo answered a refresh without a new refresh token", self.name)
        return str(access)

    def _refusal(self, error: ChannelError, fp: str, prior: Any) -> ChannelError:
        """Explain a refused refresh token: lost rotation (intent on record) or plain expiry."""
        if not isinstance(error, AuthError) or error.code not in self.REFRESH_REFUSED_CODES:
            return error
        if isinstance(prior, dict) and prior.get("token_fingerprint") == fp:
            at = parse_time(prior.get("at"))
            when = at.astimezone(VN).strftime("%H:%M ngày %d/%m/%Y") if at else "trước"
            message = (
                f"Mất kết nối Zalo OA: lần làm mới token lúc {when} bị gián đoạn đúng lúc Zalo "
                "đã đổi token mà Loa chưa kịp lưu, nên token cũ không còn dùng được. Chạy lệnh "
                f"`{self.reconnect_hint}` và làm theo hướng dẫn để cấp quyền lại."
            )
            log.error("zalo %s: lost token rotation detected (refresh token %s)", self.name, fp)
        else:
            message = (
                "Zalo OA từ chối refresh token: token đã hết hạn (quá 3 tháng không được làm mới) "
                f"hoặc đã bị thu hồi. Chạy lệnh `{self.reconnect_hint}` và làm theo hướng dẫn để "
                "cấp quyền lại."
            )
        return AuthError(
            message, code=error.code, refreshable=False, reconnect_hint=self.reconnect_hint
        )
