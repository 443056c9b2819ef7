"""The contract kit every channel must pass: never twice, under every way a platform fails.

Importable by third-party channel packages (it needs pytest only to be run by it). Give it a
:class:`ContractSubject` (how to build the channel, how to arm a fault on its sandbox, how to count
the posts the platform holds) and call :func:`check` for each operation and :class:`Fault`; or
:func:`all_cases` to parametrise a test. Each case follows the host's rule exactly as Loa's
dispatcher does: a write answered "maybe posted" is never resent before ``find_existing`` has
looked (after the platform settled); a refusal is resent. The case passes when the platform holds
exactly one post (none after a retraction) and the channel reported the outcome the fault calls
for: a refusal as *not posted*, an answer that does not state the outcome as *maybe posted* (or a
receipt, when the adapter resolved the doubt itself).

Fault classes (:class:`Fault`) and how an HTTP sandbox arms them (:func:`http_faults`)::

    REFUSED        the platform refuses before acting (its own 4xx / error object)
    THROTTLED      the platform throttles (429, Graph code 32, Zalo -32)
    DROPPED_AFTER  acted, then the connection dropped without an answer
    HTML_5XX_AFTER acted, then a proxy's 502 HTML page
    JSON_5XX_AFTER acted, then a 5xx with the platform's own JSON error
    HUNG_AFTER     acted, then no answer until the client's timeout
    MALFORMED_200  acted, then a 200 whose body is cut short
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from channels.base import ArticleView, Channel, Receipt
from channels.errors import ChannelError
from channels.http import WriteOutcome, outcome_of

__all__ = [
    "ContractFailure",
    "ContractSubject",
    "Fault",
    "Operation",
    "all_cases",
    "check",
    "http_faults",
]


class Fault(enum.Enum):
    REFUSED = "refused before acting"
    THROTTLED = "throttled"
    DROPPED_AFTER = "acted, then dropped"
    HTML_5XX_AFTER = "acted, then 5xx with an HTML page"
    JSON_5XX_AFTER = "acted, then 5xx with the platform's JSON error"
    HUNG_AFTER = "acted, then hung past the timeout"
    MALFORMED_200 = "acted, then a malformed 200"

    @property
    def acted(self) -> bool:
        return self not in (Fault.REFUSED, Fault.THROTTLED)


class Operation(enum.Enum):
    PUBLISH = "publish"
    FIND_EXISTING = "find_existing"
    UPDATE = "update"
    RETRACT = "retract"


class ContractFailure(AssertionError):
    """The channel broke the contract for one (operation, fault) case."""


@dataclass
class ContractSubject:
    """One channel and its sandbox, as the kit drives them.

    ``make_channel()``: a fresh adapter whose timeout is shorter than the sandbox's hang.
    ``arm(fault, operation)``: make the platform fail the next call of ``operation`` with
    ``fault`` (return False when the fault does not apply to this channel). ``posts(key)``: the
    live posts (ids) the platform holds for the idempotency key. ``settle()``: wait until the
    platform has finished what a hung request started. ``edited(key)``: whether the live post
    carries the draft's edit (for updates).
    """

    make_channel: Callable[[], Channel]
    article: ArticleView
    arm: Callable[[Fault, Operation], bool]
    posts: Callable[[str], Sequence[str]]
    links: Mapping[str, str] = field(default_factory=dict)
    settle: Callable[[], None] = lambda: None
    disarm: Callable[[], None] = lambda: None
    edited: Callable[[str], bool] | None = None
    operations: frozenset[Operation] = frozenset(Operation)


def all_cases(
    subject_ops: frozenset[Operation] = frozenset(Operation),
) -> Iterator[tuple[Operation, Fault]]:
    """Every (operation, fault) pair, for ``pytest.mark.parametrize``."""
    for op in Operation:
        if op in subject_ops:
            for fault in Fault:
                yield op, fault


def _fail(op: Operation, fault: Fault, why: str) -> ContractFailure:
    return ContractFailure(f"{op.value} under '{fault.value}': {why}")


def _attempt(fn: Callable[[], Any]) -> tuple[Any, ChannelError | None]:
    try:
        return fn(), None
    except ChannelError as exc:
        return None, exc


def _publish_once(
    subject: ContractSubject,
    ch: Channel,
    key: str,
    since: datetime,
    op: Operation,
    fault: Fault,
    *,
    expect: bool,
) -> Receipt:
    """Publish as the host does: a maybe-posted write is looked for before it is sent again."""
    draft = ch.render(subject.article, subject.links)
    receipt, exc = _attempt(lambda: ch.publish(draft, key))
    outcome = outcome_of(exc)
    if expect:
        if fault.acted and outcome is WriteOutcome.NOT_POSTED:
            raise _fail(op, fault, f"reported 'not posted' but the platform acted ({exc})")
        if not fault.acted and outcome is WriteOutcome.MAYBE:
            raise _fail(op, fault, f"reported 'maybe posted' for a refusal ({exc})")
        if not fault.acted and outcome is WriteOutcome.POSTED:
            raise _fail(op, fault, "reported a post although the platform refused")
    subject.disarm()
    subject.settle()
    if outcome is WriteOutcome.MAYBE:
        receipt, exc = _attempt(lambda: ch.find_existing(draft, key, since))
        if exc is not None:
            raise _fail(op, fault, f"the look after a maybe-posted write failed: {exc}")
        if receipt is None and fault.acted and expect:
            raise _fail(op, fault, "the platform acted but find_existing did not find the post")
    if receipt is None:
        receipt, exc = _attempt(lambda: ch.publish(draft, key))
        if exc is not None:
            raise _fail(op, fault, f"publishing again without a fault failed: {exc}")
    return cast("Receipt", receipt)


def _idempotent(
    fn: Callable[[], Any], subject: ContractSubject, op: Operation, fault: Fault
) -> Any:
    """Run an idempotent call (read, update or delete of a known id): retried freely."""
    result, exc = _attempt(fn)
    if exc is None:
        return result
    if exc.may_have_posted:
        raise _fail(op, fault, f"an idempotent call reported 'maybe posted' ({exc})")
    subject.disarm()
    subject.settle()
    result, exc = _attempt(fn)
    if exc is not None:
        raise _fail(op, fault, f"retrying the idempotent call failed: {exc}")
    return result


def check(subject: ContractSubject, op: Operation, fault: Fault) -> None:
    """Run one case; raises :class:`ContractFailure` when the channel breaks the contract."""
    ch = subject.make_channel()
    key = f"contract-{op.value}-{fault.name.lower()}-{uuid.uuid4().hex[:8]}"
    since = datetime.now(UTC) - timedelta(minutes=5)
    if op is Operation.PUBLISH:
        armed = subject.arm(fault, op)
        if not armed:
            return
        _publish_once(subject, ch, key, since, op, fault, expect=True)
    else:
        receipt = _publish_once(subject, ch, key, since, op, fault, expect=False)
        if not subject.arm(fault, op):
            return
        draft = ch.render(subject.article, subject.links)
        if op is Operation.FIND_EXISTING:
            found = _idempotent(lambda: ch.find_existing(draft, key, since), subject, op, fault)
            if found is None or found.remote_id != receipt.remote_id:
                raise _fail(op, fault, f"the look found {found!r}, not {receipt.remote_id}")
        elif op is Operation.UPDATE:
            edit = ArticleView(
                **{
                    **subject.article.__dict__,
                    "summary": subject.article.summary + " (đã sửa)",
                    "body_html": subject.article.body_html + "<p>Đính chính.</p>",
                }
            )
            edited_draft = ch.render(edit, subject.links)
            _idempotent(lambda: ch.update(receipt, edited_draft), subject, op, fault)
            if subject.edited is not None and not subject.edited(key):
                raise _fail(op, fault, "the post does not carry the correction")
        elif op is Operation.RETRACT:
            _idempotent(lambda: ch.retract(receipt), subject, op, fault)
            _idempotent(lambda: ch.retract(receipt), subject, op, fault)  # twice is harmless
            left = list(subject.posts(key))
            if left:
                raise _fail(op, fault, f"posts still live after the retraction: {left}")
            return
    subject.disarm()
    subject.settle()
    live = list(subject.posts(key))
    if len(live) != 1:
        raise _fail(op, fault, f"the platform holds {len(live)} posts for one article: {live}")


# ----- HTTP sandboxes ------------------------------------------------------------------------
_HTTP_KINDS = {
    Fault.DROPPED_AFTER: "drop_after",
    Fault.HTML_5XX_AFTER: "after:html_502",
    Fault.JSON_5XX_AFTER: "after:http_500",
    Fault.HUNG_AFTER: "timeout_after",
    Fault.MALFORMED_200: "after:truncated",
}


def http_faults(
    sandbox: Any,
    routes: Mapping[Operation, tuple[str, str]],
    *,
    refused: str,
    throttled: str = "throttle",
    hang_seconds: float = 1.5,
) -> tuple[Callable[[Fault, Operation], bool], Callable[[], None], Callable[[], None]]:
    """``arm``, ``disarm`` and ``settle`` for a sandbox of :mod:`channels.sandbox` (``inject``,
    ``reset_faults``). ``routes``: the (method, path regex) each operation's key call uses;
    ``refused``: the sandbox fault kind for the platform's own refusal."""
    kinds = {**_HTTP_KINDS, Fault.REFUSED: refused, Fault.THROTTLED: throttled}

    def arm(fault: Fault, op: Operation) -> bool:
        if op not in routes:
            return False
        method, path = routes[op]
        sandbox.inject(
            kinds[fault],
            method=method,
            path=path,
            seconds=hang_seconds if fault is Fault.HUNG_AFTER else 0.0,
        )
        return True

    def disarm() -> None:
        sandbox.reset_faults()

    def settle() -> None:
        time.sleep(0.05)  # the sandbox acts before it hangs; let the hang's thread finish

    return arm, disarm, settle
