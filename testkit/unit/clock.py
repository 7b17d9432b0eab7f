"""A clock a test moves by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class FakeClock:
    """A clock a test moves by hand; installed as an app's clock (`app.state.clock`)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Ticks:
    """A monotonic clock in seconds that moves only when told (`now`), for rules taking
    `time.monotonic`."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now
