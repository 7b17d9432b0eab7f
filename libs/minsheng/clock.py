"""The injectable clock and the city's zone (the explicit-time rule), shared by the HTTP services.

Routes ask `now`; tests replace `app.state.clock` to move time on. Calendar days (due
dates, planned ends) are the city's days, Asia/Shanghai, whatever the server's zone.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request

Clock = Callable[[], datetime]
CITY_TZ = ZoneInfo("Asia/Shanghai")
DEMO_CLOCK_NAME = "demo-clock.json"  # in the data folder: where a demo platform's clock is anchored


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Anchor:
    """Simulated time `sim` at real time `real` (epoch seconds), running `speed` times faster."""

    real: float
    sim: datetime
    speed: float

    def at(self, real: float) -> datetime:
        return self.sim + timedelta(seconds=(real - self.real) * self.speed)


def read_anchor(path: Path) -> Anchor | None:
    """The anchor a demo wrote, or None (no file: real time)."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return Anchor(
        float(doc["real"]), require_aware(datetime.fromisoformat(doc["sim"])), float(doc["speed"])
    )


def write_anchor(path: Path, anchor: Anchor) -> None:
    """Atomically, so a process never reads half a file."""
    doc = {"real": anchor.real, "sim": anchor.sim.isoformat(), "speed": anchor.speed}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(doc))
    os.replace(temporary, path)


class CompressedClock:
    """A demo platform's clock: time runs faster from the anchor in a file, so that deadlines,
    reminders and overdue notices pass while someone watches.

    Every process of the platform reads the same file (`minsheng-demo` writes it), so they
    agree on the time; the file is looked at again at most once a second, and the clock
    never goes back within a process, whatever the file says.
    """

    RELOAD_SECONDS = 1.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self._anchor: Anchor | None = None
        self._checked = -self.RELOAD_SECONDS
        self._last = datetime.min.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        if time.monotonic() - self._checked >= self.RELOAD_SECONDS:
            self._checked = time.monotonic()
            self._anchor = read_anchor(self.path)
        real = time.time()
        moment = datetime.now(UTC) if self._anchor is None else self._anchor.at(real)
        self._last = max(self._last, moment)
        return self._last


def clock_for(demo_clock_file: Path | None) -> Clock:
    """The real clock, or a demo platform's compressed one (settings refuse that in production)."""
    return system_clock if demo_clock_file is None else CompressedClock(demo_clock_file)


def clock_of(request: Request) -> datetime:
    """The app's clock, read now: for a route that reads it at a moment of its choosing."""
    clock: Clock = request.app.state.clock
    return clock()


async def now(request: Request) -> datetime:
    """FastAPI dependency: the app's clock, read once per request (async: a plain
    function would run in the thread pool, a costly hop on every request)."""
    return clock_of(request)


def require_aware(moment: datetime) -> datetime:
    """Naive times are a bug (the explicit-time rule): refuse them before they compare wrongly."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: times must be timezone-aware")
    return moment


def local_day(moment: datetime) -> date:
    """The city's calendar day of an aware instant."""
    return require_aware(moment).astimezone(CITY_TZ).date()
