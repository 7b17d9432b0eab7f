"""The community work-day rules, pure: visits, and the missed-visit timer under an
injected clock (instants passed in; nothing waits)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from minsheng.aggregate import CommandRejected
from minsheng.clock import CITY_TZ
from minsheng.events import WorkDayVisitMissed, WorkDayVisitRecorded
from projects import visits
from projects.visits import Due, PairingState

FIRST_KNOWN = datetime(2019, 3, 10, 15, 0, tzinfo=CITY_TZ)
APRIL, MAY, JUNE = date(2019, 4, 1), date(2019, 5, 1), date(2019, 6, 1)


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CITY_TZ)


def pairing() -> PairingState:
    return PairingState(
        "GZR-0001", "市交通运输局", "洮北区", "百福社区", visits.watched_from(FIRST_KNOWN)
    )


def visit(state: PairingState, day: date, **extra: object) -> PairingState:
    args: dict[str, object] = {"cadres": 10, "appeals_solved": 0, **extra}
    new, _ = visits.record_visit(state, visited_on=day, now=at(day, 18), **args)  # type: ignore[arg-type]
    return new


def test_a_pairing_is_watched_from_the_month_after_it_was_first_known() -> None:
    assert pairing().watched_from == APRIL
    assert visits.watched_from(datetime(2019, 12, 31, 23, 0, tzinfo=CITY_TZ)) == date(2020, 1, 1)
    # 2019-12-31 16:30 UTC is already 2020-01-01 in the city
    assert visits.watched_from(datetime.fromisoformat("2019-12-31T16:30:00+00:00")) == date(
        2020, 2, 1
    )


def test_a_month_without_a_visit_is_reported_as_the_next_begins_and_only_once() -> None:
    state = pairing()
    timer = visits.due(state)
    assert timer == Due(APRIL)
    assert timer.fires_at == at(MAY)
    assert visits.fire(state, timer, at(date(2019, 4, 30), 23, 59)) is None  # not yet over
    outcome = visits.fire(state, timer, at(MAY))
    assert outcome is not None
    reported, emitted = outcome
    data = emitted[0].data
    assert isinstance(data, WorkDayVisitMissed)
    assert (data.pairing_id, data.month, data.district, emitted[0].sequence) == (
        "GZR-0001",
        "2019-04",
        "洮北区",
        1,
    )
    assert visits.fire(reported, timer, at(MAY, 1)) is None  # once: no longer wanted
    assert visits.due(reported) == Due(MAY)  # the next month is watched


def test_a_visited_month_is_never_reported_and_the_timer_moves_past_it() -> None:
    state = visit(pairing(), date(2019, 4, 12), services={"party_lesson": 1})
    assert visits.fire(state, Due(APRIL), at(JUNE)) is None
    assert visits.due(state) == Due(MAY)
    ahead = visit(visit(pairing(), date(2019, 4, 3)), date(2019, 5, 20))
    assert visits.due(ahead) == Due(JUNE)  # April and May both visited


def test_after_a_gap_each_month_is_reported_in_turn_once() -> None:
    state, months = pairing(), []
    now = at(date(2019, 8, 15))
    while (outcome := visits.fire(state, visits.due(state), now)) is not None:
        state, emitted = outcome
        data = emitted[0].data
        assert isinstance(data, WorkDayVisitMissed)
        months.append(data.month)
    assert months == ["2019-04", "2019-05", "2019-06", "2019-07"]  # August not over
    assert [visits.rows(state)[0].what] == [(visits.KIND, date(2019, 8, 1))]


def test_a_late_visit_still_counts_but_the_report_stands() -> None:
    outcome = visits.fire(pairing(), Due(APRIL), at(MAY))
    assert outcome is not None
    late, emitted = visits.record_visit(
        outcome[0], visited_on=date(2019, 4, 28), now=at(MAY, 10), cadres=5, appeals_solved=0
    )
    assert (late.visits, late.missed, late.visited) == (
        1,
        frozenset({"2019-04"}),
        frozenset({"2019-04"}),
    )
    assert isinstance(emitted[0].data, WorkDayVisitRecorded)
    assert emitted[0].sequence == 2
    assert visits.due(late) == Due(MAY)


def test_a_visit_records_what_was_delivered() -> None:
    _, emitted = visits.record_visit(
        pairing(),
        visited_on=date(2019, 4, 12),
        now=at(date(2019, 4, 12), 18),
        cadres=21,
        services={"party_lesson": 1, "help_pairing": 5, "other": 0},
        appeals_solved=3,
        appeal_ids=["BC20190412000001"],
        goods_value_yuan=3600,
    )
    data = emitted[0].data
    assert isinstance(data, WorkDayVisitRecorded)
    assert data.month == "2019-04"
    assert data.services == {"party_lesson": 1, "help_pairing": 5}  # no zero kinds
    assert (data.cadres, data.appeals_solved, data.appeal_ids, data.goods_value_yuan) == (
        21,
        3,
        ("BC20190412000001",),
        3600,
    )


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"visited_on": date(2019, 4, 13)}, "future"),
        ({"cadres": 0}, "at least one cadre"),
        ({"appeal_ids": ["BC1", "BC2"], "appeals_solved": 1}, "fewer than the 2 named"),
        ({"appeal_ids": ["BC1", "BC1"], "appeals_solved": 2}, "repeat"),
    ],
)
def test_a_visit_that_cannot_be_is_refused(changes: dict[str, object], why: str) -> None:
    args: dict[str, object] = {
        "visited_on": date(2019, 4, 12),
        "cadres": 3,
        "appeals_solved": 0,
        **changes,
    }
    with pytest.raises(CommandRejected, match=why):
        visits.record_visit(pairing(), now=at(date(2019, 4, 12), 18), **args)  # type: ignore[arg-type]
