"""The recovery watchdog's decision, on an injected clock: it fires only after a whole
stall period of recovering with the same progress, and any progress or the end of the
recovery starts the watch again."""

from __future__ import annotations

from analytics.watchdog import Watchdog
from testkit.unit.clock import Ticks as Clock


def test_a_recovery_without_progress_for_the_stall_period_is_reported() -> None:
    clock = Clock()
    dog = Watchdog(30.0, clock)
    assert dog.observe(True, (("p0", 5),)) is None
    clock.now = 29.9
    assert dog.observe(True, (("p0", 5),)) is None
    clock.now = 31.0
    assert dog.observe(True, (("p0", 5),)) == 31.0


def test_progress_starts_the_watch_again() -> None:
    clock = Clock()
    dog = Watchdog(30.0, clock)
    dog.observe(True, 1)
    clock.now = 25.0
    assert dog.observe(True, 2) is None  # moved: watched from 25 on
    clock.now = 50.0
    assert dog.observe(True, 2) is None
    clock.now = 55.0
    assert dog.observe(True, 2) == 30.0


def test_a_worker_not_recovering_is_never_stalled_and_the_watch_restarts() -> None:
    clock = Clock()
    dog = Watchdog(30.0, clock)
    dog.observe(True, 1)
    clock.now = 100.0
    assert dog.observe(False, 1) is None  # recovered, and idle for long: fine
    clock.now = 200.0
    assert dog.observe(True, 1) is None  # a new recovery, same offsets: a new watch
    clock.now = 229.0
    assert dog.observe(True, 1) is None
    clock.now = 230.0
    assert dog.observe(True, 1) == 30.0
