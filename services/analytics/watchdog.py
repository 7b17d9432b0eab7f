"""The recovery watchdog: a worker whose table recovery makes no progress exits.

Faust's recovery reads each changelog partition up to the offset before its highwater and
only then lets the agents run. It has ways of waiting for good: an offset it waits for that
is never delivered (a transaction marker as a partition's last offset, a segment deleted
or compacted away under it, an off-by-one on an empty partition), a changelog fetch left
paused by a rebalance, or a stream buffer full while recovering. Faust then logs "No event
received for active tp ..." every few seconds and the worker stays not ready, its counters
frozen, until someone restarts it. A restart recovers again from scratch, which is what
the people who met these waits upstream did by hand.

So a task looks at the recovery about once a second. While the worker is rebalancing or
recovering, the offsets read so far and the highwaters wanted are its progress; if they
have not moved for `analytics_recovery_stall_seconds`, the worker logs an error and exits
with EXIT_STALLED, and whatever runs it (`make up`'s supervisor, the orchestrator) starts
it again. Exiting mid-recovery is safe: the state is durable in the changelogs and the
offset markers, exactly as after a `kill -9`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

log = logging.getLogger("analytics.watchdog")

EXIT_STALLED = 75  # EX_TEMPFAIL: a restart is expected to help
EVERY = 1.0  # seconds between two looks


@dataclass
class Watchdog:
    """Decides, from observations, when a recovery has stalled; pure but for `clock`."""

    stall_seconds: float
    clock: Callable[[], float] = monotonic
    _progress: Hashable = None
    _since: float | None = field(default=None)

    def observe(self, recovering: bool, progress: Hashable) -> float | None:
        """Seconds without progress if that is `stall_seconds` or more, else None.

        Not recovering resets the watch; a new `progress` starts it again from now."""
        now = self.clock()
        if not recovering:
            self._since, self._progress = None, None
            return None
        if self._since is None or progress != self._progress:
            self._since, self._progress = now, progress
            return None
        stalled = now - self._since
        return stalled if stalled >= self.stall_seconds else None


def recovery_progress(app: Any) -> tuple[bool, Hashable]:
    """(rebalancing or recovering, what Faust's recovery moves: offsets read and
    highwaters)."""
    recovery = app.tables.recovery
    recovering = bool(app.rebalancing or recovery.in_recovery)
    progress = (
        tuple(sorted(recovery.active_offsets.items())),
        tuple(sorted(recovery.active_highwaters.items())),
    )
    return recovering, progress


def install(
    app: Any,
    stall_seconds: float,
    exit: Callable[[int], Any] = os._exit,
    more: Callable[[], Hashable] = lambda: None,
) -> Watchdog:
    """Watches the app's recovery from its first partition assignment on (no watchdog if
    `stall_seconds` is 0); `more` is the progress of the rest of a recovery (the stores'
    bulk reads, the re-sums). Not a Faust timer: Faust starts those after the recovery."""
    watchdog = Watchdog(stall_seconds)
    if stall_seconds <= 0:
        return watchdog
    running: list[asyncio.Task[None]] = []

    async def watch_recovery() -> None:
        while True:
            await asyncio.sleep(EVERY)  # pacing the looks, not waiting for a state
            recovering, progress = recovery_progress(app)
            stalled = watchdog.observe(recovering, (progress, more()))
            if stalled is not None:
                break
        remaining = {
            f"{tp.topic}[{tp.partition}]": n
            for tp, n in app.tables.recovery.active_remaining().items()
            if n
        }
        log.error(
            "table recovery made no progress for %.0fs (remaining %s); exiting with %d "
            "so that the worker is started again",
            stalled,
            remaining,
            EXIT_STALLED,
        )
        logging.shutdown()
        # not a graceful stop: Faust's shutdown waits for the very recovery that is stuck
        exit(EXIT_STALLED)

    async def start_watching(sender: Any, /, *args: Any, **kwargs: Any) -> None:
        if not running:
            running.append(asyncio.create_task(watch_recovery(), name="recovery-watchdog"))

    app.on_partitions_assigned.connect(start_watching)

    return watchdog
