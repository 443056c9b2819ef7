"""``[comments]``, ``[petitions]`` and ``[takedowns]``: the citizens' register's keys.

Platform and legal facts that could not be verified are keys with defaults (Decree 147/2024's
24 h / 48 h, the authorities' names after the 2025 reorganisation).
"""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["CommentsSettings", "PetitionsSettings", "TakedownSettings"]


class _Keys(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hhmm(value: str) -> str:
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected HH:MM, got {value!r}") from None
    return value


class CommentsSettings(_Keys):
    """Comments under the Page's posts: cards, the catch-up read, flags, the Zalo reminder."""

    enabled: bool = True
    channels: list[str] = []  # channel names; empty: every channel that can read comments
    catchup_hours: float = Field(default=72.0, gt=0)  # how far back a catch-up reads at most
    catchup_post_days: float = Field(default=14.0, gt=0)  # Loa's posts of these days are read
    catchup_interval_minutes: float = Field(default=30.0, gt=0)
    flags_file: str = ""  # TOML admins edit (beside config.toml); built-in words otherwise
    safe_hosts: list[str] = ["gov.vn"]  # links to these hosts (and their subdomains) are no flag
    reply_settle_seconds: float = Field(default=60.0, ge=0)  # before looking up a lost reply
    zalo_reminder_weekday: int = Field(default=1, ge=1, le=7)  # ISO weekday of the weekly card
    zalo_reminder_time: str = "09:00"

    _t = field_validator("zalo_reminder_time")(_hhmm)


class PetitionsSettings(_Keys):
    """Petitions (phản ánh, kiến nghị): numbering, due date, what the assistant recognises."""

    enabled: bool = True
    number_prefix: str = "PA"
    due_working_days: int = Field(default=10, ge=1, le=90)
    due_time: str = "17:00"  # local time on the due day
    command: str = "Gửi phản ánh"  # the citizen's command offered in the first reply
    keywords: list[str] = [
        "phản ánh",
        "kiến nghị",
        "khiếu nại",
        "bức xúc",
        "nhũng nhiễu",
        "gây khó khăn",
        "chậm trễ",
        "trễ hẹn",
        "quá hạn",
        "không giải quyết",
    ]
    min_keyword_hits: int = Field(default=1, ge=1)  # keywords a message needs to be a petition
    min_chars: int = Field(default=20, ge=0)  # shorter messages are never petitions by keyword

    _t = field_validator("due_time")(_hhmm)


class TakedownSettings(_Keys):
    """Takedown requests (Decree 147/2024: 24 h for an authority, 48 h for a citizen)."""

    number_prefix: str = "YCG"
    authority_hours: float = Field(default=24.0, gt=0)
    citizen_hours: float = Field(default=48.0, gt=0)
    alert_before_hours: float = Field(default=4.0, ge=0)  # warn when this little time is left
    # *(unverified)*: names after the 2025 reorganisation; admins keep this list.
    authorities: list[str] = [
        "Sở Khoa học và Công nghệ",
        "Công an tỉnh",
        "Bộ Công an",
        "Bộ Văn hóa, Thể thao và Du lịch",
        "UBND tỉnh",
    ]
