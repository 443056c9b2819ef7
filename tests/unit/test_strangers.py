"""The stranger gate's policy: one answer and one audit row per window, bounded memory."""

from __future__ import annotations

from bot.telegram.strangers import StrangerGate, Verdict, audit_prefix


def test_one_answer_per_window_then_the_count_goes_into_the_next_row() -> None:
    gate = StrangerGate(window_seconds=60)
    assert gate.admit(7, now=0) == Verdict(answer=True, audit=True, suppressed=0)
    assert [gate.admit(7, now=t).answer for t in (1, 2, 59)] == [False, False, False]
    assert gate.admit(8, now=30).answer  # someone else is answered
    assert gate.admit(7, now=61) == Verdict(answer=True, audit=True, suppressed=3)
    assert gate.admit(7, now=62) == Verdict(answer=False, audit=False, suppressed=1)


def test_memory_is_bounded_and_forgets_the_longest_quiet() -> None:
    gate = StrangerGate(window_seconds=60, max_tracked=3)
    for user in (1, 2, 3):
        gate.admit(user, now=0)
    gate.admit(1, now=1)  # 1 spoke again: 2 is now the longest quiet
    gate.admit(4, now=2)
    assert gate.admit(2, now=3).answer  # forgotten, so answered again
    assert not gate.admit(1, now=3).answer


def test_the_audit_prefix_is_short_and_has_no_control_characters() -> None:
    assert audit_prefix("x" * 3000) == "x" * 80 + "…"
    assert audit_prefix("a\x1b[31mb\u202ec") == "a�[31mb�c"
    assert audit_prefix("ngắn") == "ngắn"
