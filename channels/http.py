"""HTTP for every adapter: the shared session, and the one mapping of a call's transport outcome.

What a failed **write** means is decided here, once, for every adapter (third-party ones
included); each adapter only declares, as data (:class:`Answers`), how its platform says
"refused". The rule (README.md, "Never twice")::

    request never sent (connect refused / connect timeout)        -> not posted
    connection dropped or read timeout after sending              -> maybe posted
    any 5xx, whatever its body                                    -> maybe posted
    a body that is not the platform's own JSON (HTML, truncated)  -> maybe posted
    a parsed error object in which the platform refuses (4xx,
      Zalo's HTTP-200 error objects, throttling)                  -> not posted
    a code the platform documents as "may have been processed"   -> maybe posted

A maybe-posted write raises a :class:`~channels.base.ChannelError` with ``may_have_posted=True``:
the host never resends it in the call; it looks for the post (``find_existing``) after a settle
delay first. Reads, and deletes of a known id, are idempotent and may be retried freely.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from channels.errors import ChannelError, RateLimited, TransientError
from channels.metering import CountingAdapter

__all__ = ["Answers", "HttpSession", "WriteOutcome", "answer_of", "call_json", "outcome_of"]


class WriteOutcome(enum.Enum):
    """What a write call did on the platform, as far as its answer tells."""

    POSTED = "posted"
    NOT_POSTED = "not_posted"
    MAYBE = "maybe"


def outcome_of(exc: BaseException | None) -> WriteOutcome:
    """The outcome of a write that returned (``None``) or raised ``exc``."""
    if exc is None:
        return WriteOutcome.POSTED
    if isinstance(exc, ChannelError) and not exc.may_have_posted:
        return WriteOutcome.NOT_POSTED
    return WriteOutcome.MAYBE


Mapper = Callable[[requests.Response, Any], Any]


@dataclass(frozen=True)
class Answers:
    """How one platform answers, declared by its adapter.

    ``label``: the platform's name in Vietnamese messages. ``mapper(resp, body)``: the adapter's
    one function that turns a parsed JSON answer into data or raises one of the four errors.
    ``is_own_body(body)``: whether a parsed JSON body has the platform's own shape (a proxy or WAF
    may answer JSON of another shape). ``maybe_codes``: platform error codes documented as "the
    request may have been processed anyway" (Graph 1 and 2): maybe posted even with a 4xx.
    ``refused_statuses``: statuses that mean "not acted on" whatever the body (throttling at a
    proxy, a body too large for it). ``refused_codes(code)``: platform codes that state a refusal
    even in a 5xx answer (WordPress's ``rest_upload_*``).
    """

    label: str
    mapper: Mapper
    is_own_body: Callable[[Any], bool] = lambda body: isinstance(body, dict | list)
    maybe_codes: Collection[Any] = frozenset()
    refused_statuses: Collection[int] = frozenset({413, 429})
    refused_codes: Callable[[Any], bool] = lambda code: False


def _head(resp: requests.Response) -> str:
    return " ".join(resp.text[:120].split())


def call_json(
    session: requests.Session,
    method: str,
    url: str,
    answers: Answers,
    *,
    write: bool,
    timeout: float,
    **kwargs: Any,
) -> Any:
    """One call: the platform's data, or the Loa error its answer means (see the module rule)."""
    try:
        resp = session.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        maybe = write and not _never_sent(exc)
        what = (
            "mất kết nối giữa chừng; yêu cầu có thể đã được thực hiện"
            if maybe
            else "không kết nối được"
            if _never_sent(exc)
            else "mất kết nối giữa chừng"
        )
        raise TransientError(
            f"{answers.label}: {what} ({type(exc).__name__}).", may_have_posted=maybe
        ) from exc
    return answer_of(resp, answers, write=write)


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether a transport failure happened before the request left (connection refused)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        text = repr(exc.args[0] if exc.args else exc)
        return any(s in text for s in _NOT_SENT_MARKS)
    return False


# urllib3's names for failures that happen before a byte of the request is sent.
_NOT_SENT_MARKS = (
    "NewConnectionError",
    "ConnectionRefused",
    "NameResolution",
    "Failed to establish",
    "ProxyError",
)


def answer_of(resp: requests.Response, answers: Answers, *, write: bool) -> Any:
    """Data from a received answer, or the error it means; ambiguous writes are maybe posted."""
    status = resp.status_code
    try:
        body: Any = resp.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    own = body is not None and answers.is_own_body(body)
    if status in answers.refused_statuses:  # throttling or a size limit, maybe at a proxy
        try:
            return answers.mapper(resp, body if own else None)
        except ChannelError as exc:
            exc.may_have_posted = False
            raise
    if not own:
        what = "không phải dữ liệu của nền tảng" if body is not None else "không đọc được"
        raise TransientError(
            f"{answers.label} trả lời bất thường (HTTP {status}, {what}): {_head(resp)}",
            code=status,
            may_have_posted=write,
        )
    if status >= 500:
        # No outcome stated, even in the platform's own JSON (Graph's HTTP 500 "unexpected
        # error" on a post that was published) — unless it is throttling.
        try:
            answers.mapper(resp, body)
            code: Any = status
        except RateLimited as exc:
            exc.may_have_posted = False
            raise
        except ChannelError as exc:
            if exc.code is not None and answers.refused_codes(exc.code):
                exc.may_have_posted = False
                raise
            code = exc.code if exc.code is not None else status
        maybe = "; yêu cầu có thể đã được thực hiện" if write else ""
        raise TransientError(
            f"{answers.label} đang gặp lỗi (HTTP {status}){maybe}.",
            code=code,
            may_have_posted=write,
        )
    try:
        return answers.mapper(resp, body)
    except ChannelError as exc:
        # The platform answered in its own words: a refusal, unless it says "maybe".
        exc.may_have_posted = write and (exc.may_have_posted or exc.code in answers.maybe_codes)
        raise


class HttpSession(requests.Session):
    """A ``requests.Session`` that reads the environment once per origin, not on every call.

    Plain sessions look up proxy variables, ``no_proxy``, CA-bundle variables and ``~/.netrc`` on
    every request, which costs more CPU than the request itself on a local network. Here
    requests' own rules are applied once per scheme+host and reused; credentials are always
    given explicitly by the adapters, so ``.netrc`` is never consulted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # the environment is applied below, once per origin
        self._env: dict[tuple[str, str], dict[str, Any]] = {}
        for prefix in ("http://", "https://"):  # calls are counted per delivery (channels.metering)
            self.mount(prefix, CountingAdapter())

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        parts = urlsplit(str(url))
        origin = (parts.scheme, parts.netloc)
        env: Any = self._env.get(origin)
        if env is None:
            with requests.Session() as probe:  # trust_env=True: requests' environment rules
                env = probe.merge_environment_settings(url, {}, None, None, None)
            self._env[origin] = env
        return super().merge_environment_settings(
            url,
            {**env["proxies"], **(proxies or {})},
            stream,
            env["verify"] if verify is None else verify,
            cert or env["cert"],
        )
