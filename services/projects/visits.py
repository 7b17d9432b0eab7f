"""Community work days (社区工作日) as pure rules: a pairing's visits, and the missed-visit
timer.

Each city unit paired with a community (reference data, `workdays.yaml`) visits it once
a month. A visit records the day, the cadres who took part, the services delivered by
kind, the appeals solved on the spot (with their appeal numbers where they have one) and
the value of goods given. A month in which the unit recorded no visit is reported once,
automatically, at the start of the next month (the city's calendar): the durable timer
works as the project's missed milestone does (`minsheng.timers`).

A pairing is watched from `watched_from`, the first month after the service first knew
it, so that putting a pairing into the reference data never reports months before it
was there. The timer a pairing wants is always its earliest month from then that is
neither visited nor reported: firing reports that month and the next one is wanted, so
a service that was down catches up month by month, each reported once. A visit
recorded late (after its month was reported) still counts as a visit; the report stands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from minsheng.aggregate import CommandRejected, Sequenced
from minsheng.clock import CITY_TZ, local_day
from minsheng.events import EventData, WorkDayVisitMissed, WorkDayVisitRecorded
from minsheng.events.lists import ServiceKind
from minsheng.timers import Timer

KIND = "missed_visit"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def first_of(month: str) -> date:
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class PairingState:
    """A pairing as its events leave it; `sequence` 0 before its first event."""

    id: str
    unit: str
    district: str
    community: str
    watched_from: date  # the first day of the first month watched
    sequence: int = 0
    visits: int = 0
    visited: frozenset[str] = frozenset()  # months with a visit, YYYY-MM
    missed: frozenset[str] = frozenset()  # months reported missed

    def _keys(self, month: str) -> dict[str, str]:
        return {
            "pairing_id": self.id,
            "unit": self.unit,
            "district": self.district,
            "community": self.community,
            "month": month,
        }


Outcome = tuple[PairingState, list[Sequenced]]


def evolve(state: PairingState, data: EventData) -> PairingState:
    """The state after one more of its events."""
    if getattr(data, "pairing_id", None) != state.id:
        raise ValueError(f"{data.event_name} does not follow pairing {state.id}")
    state = replace(state, sequence=state.sequence + 1)
    match data:
        case WorkDayVisitRecorded():
            return replace(state, visited=state.visited | {data.month}, visits=state.visits + 1)
        case WorkDayVisitMissed():
            return replace(state, missed=state.missed | {data.month})
    raise ValueError(f"{data.event_name} is not a work-day event")


def replay(state: PairingState, events: Iterable[EventData]) -> PairingState:
    for data in events:
        state = evolve(state, data)
    return state


def _commit(state: PairingState, data: EventData) -> Outcome:
    new = evolve(state, data)
    return new, [Sequenced(new.sequence, data)]


def record_visit(
    state: PairingState,
    *,
    visited_on: date,
    now: datetime,
    cadres: int,
    appeals_solved: int,
    goods_value_yuan: int = 0,
    services: Mapping[ServiceKind, int] | None = None,
    appeal_ids: Iterable[str] = (),
    note: str = "",
) -> Outcome:
    """社区工作日: a visit on a day not in the future, with at least one cadre; appeals
    solved on the spot count at least those named by their appeal numbers."""
    today = local_day(now)
    if visited_on > today:
        raise CommandRejected(f"visited_on {visited_on} is in the future (today is {today})")
    if cadres < 1:
        raise CommandRejected("a visit has at least one cadre")
    ids = tuple(appeal_ids)
    if len(set(ids)) != len(ids):
        raise CommandRejected("appeal_ids repeat")
    if appeals_solved < len(ids):
        raise CommandRejected(f"appeals_solved {appeals_solved} is fewer than the {len(ids)} named")
    event = WorkDayVisitRecorded(
        **state._keys(month_of(visited_on)),
        visited_on=visited_on,
        cadres=cadres,
        services={k: n for k, n in (services or {}).items() if n},
        appeals_solved=appeals_solved,
        appeal_ids=ids,
        goods_value_yuan=goods_value_yuan,
        note=note,
    )
    return _commit(state, event)


@dataclass(frozen=True)
class Due:
    """The missed-visit timer of a month (its first day): fires as the next month begins."""

    month: date

    @property
    def fires_at(self) -> datetime:
        return datetime.combine(next_month(self.month), time.min, CITY_TZ)


def due(state: PairingState) -> Due:
    """The timer the pairing wants: its earliest watched month neither visited nor reported."""
    month = state.watched_from
    settled = state.visited | state.missed
    while month_of(month) in settled:
        month = next_month(month)
    return Due(month)


def fire(state: PairingState, timer: Due, now: datetime) -> Outcome | None:
    """WorkDayVisitMissed for the timer's month, or None when the state no longer wants
    that timer (visited, already reported) or the month has not ended yet."""
    if timer != due(state) or now < timer.fires_at:
        return None
    return _commit(state, WorkDayVisitMissed(**state._keys(month_of(timer.month))))


def rows(state: PairingState) -> list[Timer]:
    """`due` as the row of the timer table: (kind, month), due as the next month begins."""
    wanted = due(state)
    return [Timer(state.id, (KIND, wanted.month), wanted.fires_at)]


def fire_row(state: PairingState, timer: Timer, now: datetime) -> Outcome | None:
    """`fire` for a row of the timer table, as the job claims it."""
    _, month = timer.what
    return fire(state, Due(month), now)


def watched_from(first_known: datetime) -> date:
    """The first month watched for a pairing the service first knew at `first_known`."""
    return next_month(local_day(first_known))
