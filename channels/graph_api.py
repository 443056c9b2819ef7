"""Graph API answers: the one mapping from Graph error codes to Loa's channel errors, and the call.

Platform facts: ``../shared/contracts/facebook.md``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import requests

from channels.base import AuthError, ChannelError, RateLimited, RejectedError, TransientError
from channels.http import Answers, call_json

__all__ = [
    "BLOCK_WAIT",
    "DEFAULT_RATE_WAIT",
    "MAYBE_CODES",
    "RECONNECT",
    "graph_answer",
    "graph_answers",
    "graph_call",
    "wait_from_usage",
]

log = logging.getLogger(__name__)

RECONNECT = "loa channels connect {name}"
DEFAULT_RATE_WAIT = 300.0  # seconds, when a throttled answer carries no usable usage header
BLOCK_WAIT = 6 * 3600.0  # code 368: "temporarily blocked"; Facebook does not say for how long
_AUTH_CODES = {10, 101, 102, 104, 190, 2500} | set(range(200, 300))
_RATE_CODES = {4, 17, 32, 613, 80001}
# "An unknown error occurred" / "Service temporarily unavailable": on a write, the post may have
# been created anyway (contracts/facebook.md, Errors).
MAYBE_CODES = frozenset({1, 2})


def wait_from_usage(headers: Mapping[str, str]) -> float:
    """Seconds to wait, from ``X-Business-Use-Case-Usage`` (minutes) or ``X-App-Usage``."""
    minutes = 0.0
    try:
        buc = json.loads(headers.get("X-Business-Use-Case-Usage") or "{}")
        for entries in buc.values():
            for entry in entries:
                minutes = max(minutes, float(entry.get("estimated_time_to_regain_access") or 0))
    except (ValueError, TypeError, AttributeError):
        pass
    if minutes > 0:
        return minutes * 60
    try:
        app = json.loads(headers.get("X-App-Usage") or "{}")
        if max((float(v) for v in app.values()), default=0) >= 100:
            return 3600.0  # app usage is a rolling one-hour window
    except (ValueError, TypeError, AttributeError):
        pass
    return DEFAULT_RATE_WAIT


def graph_answer(resp: requests.Response, body: Any, *, name: str = "facebook") -> Any:
    """The data of a parsed Graph answer, or the one Loa error its ``error.code``/``error_subcode``
    mean. Whether a failed write may have posted anyway is decided by :mod:`channels.http`."""
    err = body.get("error") if isinstance(body, dict) else None
    if resp.status_code < 400 and not err:
        return body
    if not isinstance(err, dict):
        raise TransientError(f"Facebook báo lỗi HTTP {resp.status_code}.", code=resp.status_code)
    code, sub = err.get("code"), err.get("error_subcode")
    log.warning("Graph error %s/%s (HTTP %s): %s", code, sub, resp.status_code, err.get("message"))
    hint = RECONNECT.format(name=name)
    exc: ChannelError
    if sub in (1346003, 1404102) or code in (1346003, 1404102):
        exc = RejectedError(
            "Facebook từ chối bài: nội dung bị coi là spam hoặc vi phạm tiêu chuẩn "
            f"(mã {sub or code}).",
            code=sub or code,
        )
    elif sub == 1366046 or code == 1366046:
        exc = RejectedError("Facebook từ chối ảnh: ảnh lớn hơn 4 MB (mã 1366046).", code=1366046)
    elif sub == 1366051 or code == 1366051:
        exc = RejectedError("Facebook báo ảnh này đã được đăng (mã 1366051).", code=1366051)
    elif code == 368 or sub == 1390008:
        exc = RateLimited(
            "Trang tạm thời bị Facebook chặn đăng bài (mã 368); chờ rồi thử lại.",
            retry_after=BLOCK_WAIT,
            code=368,
        )
    elif code in _RATE_CODES:
        exc = RateLimited(
            f"Facebook giới hạn tần suất gọi API (mã {code}); tạm dừng rồi thử lại.",
            retry_after=wait_from_usage(resp.headers),
            code=code,
        )
    elif code == 2635:
        exc = AuthError(
            "Phiên bản Graph API đang cấu hình đã bị Facebook ngừng hỗ trợ; hãy đặt "
            "api_version mới hơn (ví dụ v25.0) trong config.toml.",
            code=2635,
        )
    elif code == 190 and sub in (459, 464):
        exc = AuthError(
            f"Tài khoản quản trị Trang cần đăng nhập Facebook để xác minh (mã 190/{sub}); "
            "sau đó kết nối lại Trang.",
            code=190,
            reconnect_hint=hint,
        )
    elif code == 190:
        exc = AuthError(
            f"Mã truy cập Trang Facebook không còn hiệu lực (mã 190{f'/{sub}' if sub else ''}); "
            "cần kết nối lại Trang.",
            code=190,
            reconnect_hint=hint,
        )
    elif code in _AUTH_CODES:
        exc = AuthError(
            f"Ứng dụng thiếu quyền trên Trang Facebook (mã {code}); cần cấp quyền lại.",
            code=code,
            reconnect_hint=hint,
        )
    elif code == 506:
        exc = RejectedError(
            "Facebook từ chối bài trùng nội dung với một bài vừa đăng (mã 506).", code=506
        )
    elif code in MAYBE_CODES or err.get("is_transient") or resp.status_code >= 500:
        # "Temporarily unavailable": on a write the post may exist anyway (channels.http keeps
        # this only for writes).
        exc = TransientError(
            f"Facebook tạm thời lỗi (mã {code}); sẽ thử lại.", code=code, may_have_posted=True
        )
    elif code == 100:
        exc = RejectedError(
            f"Facebook từ chối tham số của yêu cầu (mã 100{f'/{sub}' if sub else ''}).", code=100
        )
    else:
        exc = RejectedError(f"Facebook từ chối yêu cầu (mã {code}).", code=code)
    exc.raw = err  # the raw answer, for callers that need it
    raise exc


def graph_answers(name: str = "facebook") -> Answers:
    """How the Graph API answers (for :func:`channels.http.call_json`)."""
    return Answers(
        label="Facebook",
        is_own_body=lambda body: isinstance(body, dict | list),
        mapper=lambda resp, body: graph_answer(resp, body, name=name),
        maybe_codes=MAYBE_CODES,
    )


def graph_call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    token: str | None,
    timeout: float,
    write: bool = False,
    name: str = "facebook",
    **kw: Any,
) -> Any:
    """One Graph call (the outcome rule of :mod:`channels.http` applies to writes)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return call_json(
        session,
        method,
        url,
        graph_answers(name),
        write=write,
        timeout=timeout,
        headers=headers,
        **kw,
    )
