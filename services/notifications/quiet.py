"""Quiet hours: messages to citizens wait for the morning; nothing is dropped (pure).

By default 21:00 to 08:00 city time (Asia/Shanghai), configurable. Only citizens have
quiet hours: units, supervisors and on-call staff are reached at once, day or night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from minsheng.clock import CITY_TZ, require_aware


@dataclass(frozen=True)
class QuietHours:
    start: time = time(21)
    end: time = time(8)

    def holds(self, at: datetime) -> bool:
        moment = require_aware(at).astimezone(CITY_TZ).time()
        if self.start == self.end:
            return False  # an empty window: quiet hours switched off
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def release(self, at: datetime) -> datetime:
        """When a message to a citizen may go: `at` itself outside quiet hours, else the
        end of the quiet hours it falls in."""
        if not self.holds(at):
            return at
        local = at.astimezone(CITY_TZ)
        end = datetime.combine(local.date(), self.end, CITY_TZ)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, CITY_TZ)
        return end


def send_after(quiet: QuietHours, recipient_kind: str, at: datetime) -> datetime:
    """The earliest moment a message to this kind of recipient may be sent."""
    return quiet.release(at) if recipient_kind == "citizen" else at
