"""Each appeal event's effect on the state, the gauges and the tallies."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from analytics.appeal_counting import (
    apply_appeal,
    is_open,
)
from analytics.counting import State
from minsheng import events as ev
from minsheng.events import EventData, InvalidEvent
from testkit.unit.analytics import fold, overdue, parsed, payload, samples
from testkit.unit.events import DEADLINE, NOW, sample

DISTRICT, CATEGORY = "洮北区", "complaint"


def received() -> State:
    return fold(apply_appeal, [sample(ev.AppealReceived), sample(ev.AppealDispatched)])


def test_received_counts_once_by_district_category_and_channel_and_opens() -> None:
    state = received()
    assert samples([state], "minsheng_appeals_received") == Counter(
        {(DISTRICT, CATEGORY, "hotline"): 1}
    )
    assert samples([state], "minsheng_appeals_open") == Counter({(DISTRICT, CATEGORY): 1})


def test_returns_and_escalations_are_tallied_per_occurrence() -> None:
    state = fold(
        apply_appeal,
        [
            sample(ev.AppealReturned),
            sample(ev.AppealDispatched),
            sample(ev.AppealReturned),
            sample(ev.AppealAccepted),
            payload(ev.AppealEscalated, level="reminder"),
            payload(ev.AppealEscalated, level="overdue"),
        ],
        received(),
    )
    assert samples([state], "minsheng_appeals_returned") == Counter({(DISTRICT,): 2})
    assert samples([state], "minsheng_appeals_escalated") == Counter(
        {(DISTRICT, "reminder"): 1, (DISTRICT, "overdue"): 1}
    )
    assert is_open(state)


def test_the_overdue_gauge_follows_the_injected_clock_and_the_current_deadline() -> None:
    state = received()
    assert overdue([state], DEADLINE - timedelta(seconds=1)) == Counter()
    assert overdue([state], DEADLINE + timedelta(seconds=1)) == Counter({(DISTRICT,): 1})
    extended = fold(apply_appeal, [sample(ev.AppealExtended)], state)  # seven days more
    assert overdue([extended], DEADLINE + timedelta(days=1)) == Counter()
    assert overdue([extended], DEADLINE + timedelta(days=8)) == Counter({(DISTRICT,): 1})
    resolved = fold(apply_appeal, [sample(ev.AppealResolved)], extended)
    assert overdue([resolved], DEADLINE + timedelta(days=30)) == Counter()


def test_a_resolution_closes_the_appeal_and_is_tallied_with_its_on_time_flag() -> None:
    state = fold(apply_appeal, [payload(ev.AppealResolved, on_time=False)], received())
    assert not is_open(state)
    assert state["resolution"] is False
    assert samples([state], "minsheng_appeals_resolved") == Counter(
        {(DISTRICT, CATEGORY, "false"): 1}
    )


def test_a_callback_after_resolution_marks_it_called_back_and_counts_the_rating() -> None:
    state = fold(
        apply_appeal,
        [sample(ev.AppealResolved), payload(ev.SatisfactionRecorded, rating="basically_satisfied")],
        received(),
    )
    assert state["called_back"] is True
    assert samples([state], "minsheng_satisfaction_responses") == Counter(
        {(DISTRICT, "appeal", "basically_satisfied"): 1}
    )


def test_a_reopen_clears_the_resolution_the_callback_and_the_deadline() -> None:
    state = fold(
        apply_appeal,
        [sample(ev.AppealResolved), sample(ev.SatisfactionRecorded), sample(ev.AppealReopened)],
        received(),
    )
    assert is_open(state)
    assert (state["resolution"], state["called_back"], state["deadline"]) == (None, False, None)
    assert overdue([state], NOW + timedelta(days=365)) == Counter()
    again = fold(apply_appeal, [sample(ev.AppealDispatched), sample(ev.AppealResolved)], state)
    assert samples([again], "minsheng_appeals_resolved") == Counter(
        {(DISTRICT, CATEGORY, "true"): 2}
    )


@pytest.mark.parametrize("outcome", ["resolved", "duplicate"])
def test_closing_ends_the_appeal_and_keeps_a_standing_resolution(outcome: str) -> None:
    resolved = fold(apply_appeal, [sample(ev.AppealResolved)], received())
    closed = fold(apply_appeal, [payload(ev.AppealClosed, outcome=outcome)], resolved)
    assert not is_open(closed)
    assert closed["resolution"] is True
    unresolved = fold(apply_appeal, [payload(ev.AppealClosed, outcome=outcome)], received())
    assert not is_open(unresolved)
    assert unresolved["resolution"] is None


@pytest.mark.parametrize(
    "data",
    [
        sample(ev.ProjectClaimed),
        payload(ev.SatisfactionRecorded, subject_type="project"),
    ],
)
def test_events_that_do_not_belong_on_the_appeals_topic_are_rejected(data: EventData) -> None:
    with pytest.raises(InvalidEvent) as caught:
        apply_appeal(None, parsed(data, 1))
    assert caught.value.reason == "rejected"
