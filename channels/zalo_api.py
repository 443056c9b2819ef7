"""Zalo's answers: the one table from Zalo's ``error`` codes to Loa's channel errors.

Zalo answers its errors with HTTP 200 and a negative ``error``: such an answer is a refusal, mapped
here, row by row (the first row whose codes match decides). A gateway's 5xx in front of it is
:mod:`channels.http`'s "maybe posted". Platform facts: ``../shared/contracts/zalo.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests

from channels.base import AuthError, ChannelError, RateLimited, RejectedError, TransientError
from channels.zalo_tokens import VN, float_or

__all__ = ["RATE_WINDOW_SECONDS", "TOKEN_RETRY_CODES", "ZALO_ERRORS", "int_or_none", "zalo_answer"]

RATE_WINDOW_SECONDS = 60.0  # about 4,000 requests a minute per OA
TOKEN_RETRY_CODES = frozenset({-216, -220})


@dataclass(frozen=True)
class Refusal:
    """What the mapper knows when it picks a row: the code, Zalo's words, the answer's headers."""

    code: int
    detail: str
    headers: Any
    hint: str  # how to reconnect the channel


@dataclass(frozen=True)
class ErrorRow:
    """Codes (a set, or a test on the code) and the error they mean."""

    codes: Collection[int] | Callable[[int], bool]
    error: Callable[[Refusal], ChannelError]

    def matches(self, code: int) -> bool:
        return self.codes(code) if callable(self.codes) else code in self.codes


def _seconds_to_next_day() -> float:
    now = datetime.now(VN)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
    return max((midnight - now).total_seconds(), 60.0)


ZALO_ERRORS: tuple[ErrorRow, ...] = (
    ErrorRow(
        {-32},
        lambda r: RateLimited(
            "Zalo tạm chặn vì gọi quá nhanh (giới hạn "
            f"{r.headers.get('X-RateLimit-Limit', '?')} lượt/phút, mã -32).",
            retry_after=float_or(r.headers.get("Retry-After"), RATE_WINDOW_SECONDS),
            code=r.code,
        ),
    ),
    ErrorRow(
        {-211},
        lambda r: RateLimited(
            "Zalo OA đã dùng hết hạn mức gọi API (mã -211); thử lại vào ngày mai.",
            retry_after=_seconds_to_next_day(),
            code=r.code,
        ),
    ),
    ErrorRow(
        {-201},
        lambda r: RejectedError(
            f"Zalo từ chối bài: tham số không hợp lệ — {r.detail} (mã -201).", code=r.code
        ),
    ),
    ErrorRow(
        {-204, -205},
        lambda r: AuthError(
            f"Zalo OA đã bị vô hiệu hoá hoặc không còn tồn tại (mã {r.code}). Hãy kiểm tra "
            "OA trên trang quản lý Zalo OA.",
            code=r.code,
            reconnect_hint=r.hint,
        ),
    ),
    ErrorRow(
        TOKEN_RETRY_CODES,
        lambda r: AuthError(
            f"Zalo từ chối access token (hết hạn hoặc không hợp lệ, mã {r.code}).",
            code=r.code,
            refreshable=True,
            reconnect_hint=r.hint,
        ),
    ),
    ErrorRow(
        {-224},
        lambda r: AuthError(
            "Gói dịch vụ hiện tại của Zalo OA không có quyền dùng chức năng này (đăng bài "
            "viết). Cần nâng cấp gói dịch vụ OA trên trang quản lý Zalo OA (mã -224).",
            code=r.code,
            reconnect_hint=r.hint,
        ),
    ),
    ErrorRow(
        {-242},
        lambda r: AuthError(
            "Zalo từ chối chữ ký appsecret_proof (mã -242): kiểm tra khoá bí mật của ứng "
            "dụng (LOA_CHANNELS__ZALO__APP_SECRET).",
            code=r.code,
            reconnect_hint=r.hint,
        ),
    ),
    ErrorRow(
        lambda code: code <= -14000,  # OAuth v4 errors
        lambda r: AuthError(
            f"Zalo từ chối cấp token (mã {r.code}: {r.detail}).",
            code=r.code,
            reconnect_hint=r.hint,
        ),
    ),
)


def zalo_answer(
    resp: requests.Response, body: dict[str, Any], *, pending_codes: Collection[int], hint: str
) -> dict[str, Any]:
    """Zalo's parsed answer as data when it succeeded, else the Loa error its ``error`` code
    means: "still processing" (``pending_codes``, from the settings) first, then the table."""
    try:
        code = int(body.get("error") or 0)
    except (TypeError, ValueError):
        code = -1
    if code == 0:
        if resp.status_code >= 400:
            raise TransientError(f"Zalo trả lời HTTP {resp.status_code}.", code=resp.status_code)
        return body
    detail = str(
        body.get("message") or body.get("error_description") or body.get("error_reason") or ""
    )
    refusal = Refusal(code, detail, resp.headers, hint)
    if code in pending_codes and code not in (-32, -211):
        raise TransientError(f"Zalo đang xử lý bài (mã {code}).", code=code)
    for row in ZALO_ERRORS:
        if row.matches(code):
            raise row.error(refusal)
    raise RejectedError(f"Zalo từ chối yêu cầu: {detail} (mã {code}).", code=code)


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
