"""Parsing's own pool: bounded in total and per sender, with real threads."""

from __future__ import annotations

import threading
import time

import pytest

from bot.parsing import BUSY_VI, ParseBusy, ParsePool


def test_the_pool_refuses_beyond_its_places_and_per_sender() -> None:
    pool = ParsePool(workers=1, queue=2, per_user=2)
    gate = threading.Event()
    try:
        first = [pool.submit("web:1", gate.wait, 5) for _ in range(2)]
        with pytest.raises(ParseBusy) as mine:
            pool.submit("web:1", gate.wait, 5)
        assert mine.value.mine and str(mine.value) == BUSY_VI
        assert not pool.has_room("web:1") and pool.has_room("web:2")
        last = pool.submit("web:2", gate.wait, 5)  # the third and last place
        with pytest.raises(ParseBusy) as full:
            pool.submit("tg:3", gate.wait, 5)
        assert not full.value.mine and pool.in_flight == 3
    finally:
        gate.set()
    for f in [*first, last]:
        assert f.result(5) is True
    deadline = time.monotonic() + 5
    while pool.in_flight and time.monotonic() < deadline:  # done callbacks run just after
        time.sleep(0.01)
    assert pool.in_flight == 0
    assert pool.submit("tg:3", int).result(5) == 0  # places come back when files are done
    pool.close()
