"""Each project event's effect on the state, the active gauge and the tallies."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from analytics.aggregate import Aggregate
from analytics.counting import State
from analytics.project_counting import (
    PAST_PLANNED_END,
    apply_project,
    is_completed,
    planned_end_of,
    project_figures,
)
from analytics.windows import CITY
from minsheng import events as ev
from minsheng.events import EventData, InvalidEvent
from testkit.unit.analytics import fold, parsed, payload, samples
from testkit.unit.events import sample

DISTRICT, LEVEL = "洮北区", "community"


def claimed() -> State:
    return fold(apply_project, [sample(ev.ProjectClaimed)])


def test_a_claim_counts_by_district_level_category_and_year_and_is_active() -> None:
    state = claimed()
    assert samples([state], "minsheng_projects_claimed") == Counter(
        {(DISTRICT, LEVEL, "public_services", "2019"): 1}
    )
    assert samples([state], "minsheng_projects_active") == Counter({(DISTRICT, LEVEL): 1})


def test_milestones_progress_flags_and_ratings_are_tallied() -> None:
    state = fold(
        apply_project,
        [
            payload(ev.ProjectMilestone, status="reached", new_due=None, reason=None),
            sample(ev.ProjectMilestone),
            sample(ev.ProjectProgressReported),
            sample(ev.ProjectFlagged),
            payload(ev.ProjectFlagged, kind="formal_talk"),
            payload(ev.SatisfactionRecorded, subject_type="project", subject_id="P2019-0386"),
        ],
        claimed(),
    )
    assert samples([state], "minsheng_project_milestones") == Counter(
        {(DISTRICT, "reached"): 1, (DISTRICT, "rescheduled"): 1}
    )
    assert state["progress"] == 80
    assert samples([state], "minsheng_projects_flagged") == Counter(
        {(DISTRICT, "notice"): 1, (DISTRICT, "formal_talk"): 1}
    )
    assert samples([state], "minsheng_satisfaction_responses") == Counter(
        {(DISTRICT, "project", "dissatisfied"): 1}
    )


def test_completion_ends_activity_and_a_failed_verification_sends_it_back() -> None:
    done = fold(apply_project, [payload(ev.ProjectCompleted, on_time=False)], claimed())
    assert is_completed(done)
    assert samples([done], "minsheng_projects_active") == Counter()
    failed = fold(apply_project, [payload(ev.ProjectVerified, result="failed")], done)
    assert not is_completed(failed)
    assert samples([failed], "minsheng_projects_active") == Counter({(DISTRICT, LEVEL): 1})
    again = fold(apply_project, [sample(ev.ProjectCompleted), sample(ev.ProjectVerified)], failed)
    assert is_completed(again)
    assert samples([again], "minsheng_projects_completed") == Counter(
        {(DISTRICT, LEVEL, "2019", "false"): 1, (DISTRICT, LEVEL, "2019", "true"): 1}
    )


@pytest.mark.parametrize("data", [sample(ev.AppealReceived), sample(ev.SatisfactionRecorded)])
def test_events_that_do_not_belong_on_the_projects_topic_are_rejected(data: EventData) -> None:
    with pytest.raises(InvalidEvent) as caught:
        apply_project(None, parsed(data, 1))
    assert caught.value.reason == "rejected"


def past_planned_end(state: State, at: datetime) -> Counter[tuple[str, ...]]:
    aggregate = Aggregate(project_figures, planned_end_of)
    aggregate.rebuild([state], ())
    return Counter({k: v for (n, k), v in aggregate.overdue(at).items() if n == PAST_PLANNED_END})


def test_an_active_project_is_past_its_planned_end_from_the_citys_next_midnight() -> None:
    state = claimed()  # planned end 2019-09-30
    midnight = datetime(2019, 10, 1, tzinfo=CITY)
    assert past_planned_end(state, midnight - timedelta(seconds=1)) == Counter()
    assert past_planned_end(state, midnight + timedelta(seconds=1)) == Counter(
        {(DISTRICT, LEVEL): 1}
    )
    done = fold(apply_project, [sample(ev.ProjectCompleted)], state)
    assert past_planned_end(done, midnight + timedelta(days=30)) == Counter()
    sent_back = fold(apply_project, [payload(ev.ProjectVerified, result="failed")], done)
    assert past_planned_end(sent_back, midnight + timedelta(days=1)) == Counter(
        {(DISTRICT, LEVEL): 1}
    )
