"""The per-unit figures (承办单位): bounded by the reference data, following the unit an
appeal is dispatched to now, and the overdue-per-unit gauge on the injected clock."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from analytics.aggregate import UNIT_OVERDUE, Aggregate
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of
from analytics.counting import State
from minsheng.events import (
    AppealDispatched,
    AppealReceived,
    AppealReopened,
    AppealResolved,
    AppealReturned,
    SatisfactionRecorded,
)
from testkit.unit.analytics import fold, payload, samples
from testkit.unit.events import DEADLINE, UNIT, sample

OUTSIDER = "不在名录的物业公司"


def dispatched(unit: str = UNIT) -> State:
    return fold(apply_appeal, [sample(AppealReceived), payload(AppealDispatched, unit=unit)])


def unit_overdue(state: State, hours: float) -> Counter[tuple[str, ...]]:
    aggregate = Aggregate(appeal_figures, deadline_of)
    aggregate.rebuild([state], ())
    at = DEADLINE + timedelta(hours=hours)
    return Counter({k: v for (name, k), v in aggregate.overdue(at).items() if name == UNIT_OVERDUE})


def test_open_and_overdue_count_for_the_unit_it_is_dispatched_to_now() -> None:
    state = dispatched()
    assert samples([state], "minsheng_unit_appeals_open") == Counter({(UNIT,): 1})
    assert unit_overdue(state, -1) == Counter()
    assert unit_overdue(state, 1) == Counter({(UNIT,): 1})
    returned = fold(apply_appeal, [payload(AppealReturned, unit=UNIT)], state)
    assert samples([returned], "minsheng_unit_appeals_open") == Counter()
    assert unit_overdue(returned, 1) == Counter()  # nobody's until the next dispatch
    assert samples([returned], "minsheng_unit_appeals_returned") == Counter({(UNIT,): 1})
    again = fold(apply_appeal, [payload(AppealDispatched, unit="市住建局")], returned)
    assert samples([again], "minsheng_unit_appeals_open") == Counter({("市住建局",): 1})


def test_a_unit_outside_the_reference_data_is_labelled_other() -> None:
    state = dispatched(OUTSIDER)
    resolved = fold(apply_appeal, [payload(AppealResolved, unit=OUTSIDER, on_time=False)], state)
    assert samples([state], "minsheng_unit_appeals_open") == Counter({("other",): 1})
    assert unit_overdue(state, 1) == Counter({("other",): 1})
    assert samples([resolved], "minsheng_unit_appeals_resolved") == Counter({("other", "false"): 1})


def test_resolutions_stay_tallied_after_a_reopen_and_the_standing_one_is_a_gauge() -> None:
    resolved = fold(apply_appeal, [payload(AppealResolved, on_time=True)], dispatched())
    called = fold(apply_appeal, [payload(SatisfactionRecorded, rating="dissatisfied")], resolved)
    assert samples([called], "minsheng_appeals_resolved_standing") == Counter(
        {("洮北区", "true"): 1}
    )
    assert samples([called], "minsheng_appeals_called_back") == Counter({("洮北区",): 1})
    reopened = fold(apply_appeal, [sample(AppealReopened)], called)
    assert samples([reopened], "minsheng_unit_appeals_resolved") == Counter({(UNIT, "true"): 1})
    assert samples([reopened], "minsheng_appeals_resolved_standing") == Counter()
    assert samples([reopened], "minsheng_appeals_called_back") == Counter()
    assert samples([reopened], "minsheng_unit_appeals_open") == Counter()  # back to dispatch
