"""``[channels.zalo]``: the Zalo OA adapter's settings (its unverified platform facts are keys)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from channels.base import ChannelSettings
from channels.zalo_broadcast import TARGET_KEYS
from channels.zalo_messages import validate_formula

__all__ = ["ZaloOASettings"]


class ZaloOASettings(ChannelSettings):
    """``[channels.zalo]`` with ``type = "zalo_oa"``."""

    type: Literal["zalo_oa"] = "zalo_oa"
    api_url: str = "https://openapi.zalo.me"
    oauth_url: str = "https://oauth.zaloapp.com"
    app_id: str = ""
    app_secret: SecretStr | None = None  # LOA_CHANNELS__ZALO__APP_SECRET
    refresh_token: SecretStr | None = None  # the first one only: later ones live in the token store
    author: str = Field("Sở Ngoại vụ Lạng Sơn", min_length=1, max_length=50)
    refresh_margin_seconds: float = 3600.0  # refresh when the access token expires within this
    verify_attempts: int = Field(5, ge=1, le=30)
    verify_interval_seconds: float = Field(2.0, ge=0, le=30)
    verify_pending_codes: list[int] = [-214]  # *(unverified)* "still processing" answer of verify
    redirect_uri: str | None = None  # for `loa channels connect`
    use_appsecret_proof: bool = False
    # Limits with a margin under the documented 150/300: an auto-poster reported Zalo refusing a
    # title of exactly 150 and a description of 300 (unverified). Longer text is cut at a word.
    title_max: int = Field(140, ge=20, le=150)
    description_max: int = Field(280, ge=40, le=300)
    # The cover of an article without a usable picture: a public image URL, or a local file that
    # Loa uploads once to the website's media library (its URL is remembered in the token store).
    default_cover_url: str | None = None
    default_cover: str | None = None
    # Followers reached: broadcasts of published articles (see channels.zalo_broadcast).
    broadcast: Literal["off", "each", "digest"] = "off"
    broadcast_quota_per_month: int = Field(4, ge=0, le=31)  # the OA package's monthly quota
    digest_weekday: int = Field(5, ge=1, le=7)  # ISO weekday of the digest, Friday by default
    digest_time: str = "09:00"  # local time the digest card is proposed
    broadcast_target: dict[str, str] = {}  # recipient.target filters: ages, gender, cities, …
    broadcast_path: str = "v2.0/oa/message"  # *(unverified)* may move to v3.0
    broadcast_state_field: str = "status"  # *(unverified)* the review state in the answer
    follower_field: str = "num_follower"  # *(unverified)* the follower count in oa/getoa
    # Comments under OA articles: Zalo has no API to read or moderate them; this switch, sent at
    # creation, is all Loa controls (channels.comments.CommentsUnreadable).
    comments: Literal["show", "hide"] = "show"
    # Citizens' messages (see channels.zalo_messages): the webhook's OA secret key
    # (LOA_CHANNELS__ZALO__OA_SECRET_KEY, not the app secret) and the unverified facts as keys.
    oa_secret_key: SecretStr | None = None
    oa_id: str = ""  # only for a signature formula that names oa_id
    webhook_signature: str = "app_id+body+timestamp+secret"  # *(unverified)* variants: see module
    webhook_timestamp_header: str = ""  # *(unverified)* take the timestamp from this header
    webhook_max_age_seconds: float = Field(600.0, gt=0)
    reply_path: str = "v3.0/oa/message/cs"
    reply_window_hours: float = Field(48.0, gt=0)  # *(unverified)*
    free_replies_per_window: int = Field(8, ge=0)  # *(unverified)*
    cs_window_days: float = Field(7.0, gt=0)  # *(unverified)* -230 after this many days
    quote_field: str = "quote_message_id"  # *(unverified)* "" sends no quote
    reply_max_chars: int = Field(2000, ge=100)  # *(unverified)*
    site_verification: str = ""  # the code of Zalo's domain verification meta tag

    @field_validator("webhook_signature")
    @classmethod
    def _formula(cls, value: str) -> str:
        return validate_formula(value)

    @field_validator("broadcast_target")
    @classmethod
    def _target(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - TARGET_KEYS)
        if unknown:
            raise ValueError(
                f"unknown target filter {unknown[0]!r}; known: {', '.join(sorted(TARGET_KEYS))}"
            )
        return value

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        try:
            datetime.strptime(value, "%H:%M")
        except ValueError:
            raise ValueError(f"digest_time {value!r} is not a time HH:MM") from None
        return value

    @field_validator("default_cover_url")
    @classmethod
    def _cover_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("default_cover_url must be a public image URL (https://…)")
        return value

    required_secrets: ClassVar[tuple[str, ...]] = ("app_secret", "refresh_token")
