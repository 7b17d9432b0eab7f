"""The project state machine, pure: every action from every status, milestones, roll-up,
and what the timers want (`timing`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from minsheng.clock import CITY_TZ
from minsheng.events import Milestone, ProjectFlagged, ProjectMilestone
from minsheng.events.projects import FlagKind, MilestoneStatus, VerificationResult
from projects import lifecycle as lc
from projects import timing
from projects.lifecycle import Action, Outcome, ProjectState, Status
from projects.tests.samples import END, MILESTONES, START, T0, claimed
from projects.timing import Due

LATER = datetime(2019, 9, 20, 10, 0, tzinfo=CITY_TZ)  # after every milestone's due day


def act(state: ProjectState, action: Action, now: datetime = LATER, choice: int = 0) -> Outcome:
    """Runs an action with plausible arguments; `choice` picks among its variants."""
    match action:
        case "milestone":
            m = state.milestones[choice % len(state.milestones)]
            statuses: tuple[MilestoneStatus, ...] = ("reached", "at_risk", "missed", "rescheduled")
            status = statuses[choice // 3 % 4]
            extra: dict[str, Any] = {}
            if status == "rescheduled":
                extra = {
                    "new_due": max(m.due, now.date()) + timedelta(days=10),
                    "approved_by": "sv",
                }
            return lc.milestone(
                state, milestone_id=m.milestone_id, status=status, now=now, reason="原因", **extra
            )
        case "progress":
            return lc.report_progress(state, progress=(25 * choice) % 101, now=now)
        case "complete":
            return lc.complete(state, now=now)
        case "verify":
            result: VerificationResult = "passed" if choice % 2 else "failed"
            return lc.verify(state, method="on_site", inspector="督查组", result=result, now=now)
        case "evaluate":
            return lc.evaluate(state, rating="satisfied", now=now)
        case "flag":
            kind: FlagKind = "formal_talk" if choice % 2 or "notice" in state.flags else "notice"
            return lc.flag(state, kind=kind, reason="推进缓慢", now=now)


def new() -> ProjectState:
    state, emitted = lc.claim(claimed())
    assert [e.sequence for e in emitted] == [1]
    return state


def in_status(status: Status) -> ProjectState:
    """A project brought to `status` through legal actions."""
    state = new()
    if status == "claimed":
        return state
    state, _ = lc.report_progress(state, progress=30, now=T0)
    if status == "in_progress":
        return state
    state, _ = lc.complete(state, now=LATER)
    if status == "completed":
        return state
    state, _ = lc.verify(state, method="on_site", inspector="督查组", result="passed", now=LATER)
    return state


LEGAL: dict[Status, set[Action]] = {
    "claimed": {"milestone", "progress", "flag"},
    "in_progress": {"milestone", "progress", "complete", "flag"},
    "completed": {"verify", "evaluate", "flag"},
    "verified": {"evaluate"},
}


@pytest.mark.parametrize("status", lc.STATUSES)
@pytest.mark.parametrize("action", lc.ACTIONS)
def test_every_action_from_every_status(status: Status, action: Action) -> None:
    state = in_status(status)
    assert state.status == status
    if action in LEGAL[status]:
        after, emitted = act(state, action)
        assert [e.sequence for e in emitted] == [state.sequence + 1]
        assert after.sequence == state.sequence + 1
    else:
        with pytest.raises(lc.IllegalTransition) as refused:
            act(state, action)
        assert set(refused.value.allowed) == LEGAL[status]


def test_the_happy_path_and_its_sequence() -> None:
    state = new()
    state, _ = lc.milestone(state, milestone_id="m1", status="reached", now=T0)
    assert (state.status, state.progress) == ("in_progress", 25)
    state, _ = lc.report_progress(state, progress=60, now=T0)
    state, done = lc.complete(state, now=LATER)
    assert done[0].data.model_dump()["on_time"] is True
    assert (state.status, state.progress, state.completed_on) == ("completed", 100, LATER.date())
    state, _ = lc.verify(
        state, method="resident_interview", inspector="组", result="passed", now=LATER
    )
    state, _ = lc.evaluate(state, rating="satisfied", now=LATER)
    assert state.status == "verified"
    assert state.ratings == ("satisfied",)
    assert state.sequence == 6
    assert state.history == (
        "ProjectClaimed",
        "ProjectMilestone",
        "ProjectProgressReported",
        "ProjectCompleted",
        "ProjectVerified",
        "SatisfactionRecorded",
    )


def test_a_failed_verification_sends_it_back_to_work() -> None:
    state = in_status("completed")
    state, _ = lc.verify(state, method="on_site", inspector="组", result="failed", now=LATER)
    assert state.status == "in_progress"
    assert (state.completed_on, state.on_time) == (None, None)
    assert state.progress == 30  # the report before completion, no longer 100
    assert state.verifications == ("failed",)
    state, _ = lc.complete(state, now=LATER + timedelta(days=30))
    assert state.on_time is False  # after the planned end 2019-09-30


def test_a_missed_milestone_does_not_start_a_project() -> None:
    state, _ = lc.milestone(new(), milestone_id="m1", status="missed", reason="未动工", now=LATER)
    assert state.status == "claimed"
    assert state.milestones[0].status == "missed"


def test_completion_day_rules() -> None:
    state = in_status("in_progress")
    with pytest.raises(lc.CommandRejected, match="future"):
        lc.complete(state, now=T0, completed_on=T0.date() + timedelta(days=1))
    with pytest.raises(lc.CommandRejected, match="before the planned start"):
        lc.complete(state, now=LATER, completed_on=START - timedelta(days=1))
    late, _ = lc.complete(state, now=LATER + timedelta(days=90), completed_on=END)
    assert (late.completed_on, late.on_time) == (END, True)


# -- milestones --------------------------------------------------------------------------


def test_milestone_moves() -> None:
    state = new()
    with pytest.raises(lc.CommandRejected, match="not missed yet"):
        lc.milestone(state, milestone_id="m1", status="missed", reason="x", now=T0)
    with pytest.raises(lc.CommandRejected, match="reason is required"):
        lc.milestone(state, milestone_id="m1", status="at_risk", now=T0)
    with pytest.raises(lc.CommandRejected, match="valid: m1, m2, m3"):
        lc.milestone(state, milestone_id="m9", status="reached", now=T0)
    reached, _ = lc.milestone(state, milestone_id="m1", status="reached", now=T0)
    with pytest.raises(lc.MilestoneConflict, match="m1 is reached"):
        lc.milestone(reached, milestone_id="m1", status="at_risk", reason="x", now=T0)
    risky, _ = lc.milestone(state, milestone_id="m2", status="at_risk", reason="雨季", now=T0)
    with pytest.raises(lc.MilestoneConflict):
        lc.milestone(risky, milestone_id="m2", status="at_risk", reason="x", now=T0)
    missed, _ = lc.milestone(risky, milestone_id="m2", status="missed", reason="x", now=LATER)
    with pytest.raises(lc.MilestoneConflict):
        lc.milestone(missed, milestone_id="m2", status="missed", reason="x", now=LATER)
    late, _ = lc.milestone(missed, milestone_id="m2", status="reached", now=LATER)
    assert late.milestones[1].status == "reached"


def test_a_reschedule_needs_reason_approval_and_a_later_day() -> None:
    state = new()
    due = MILESTONES[0].due

    def reschedule(state: ProjectState, **args: Any) -> Outcome:
        return lc.milestone(state, milestone_id="m1", status="rescheduled", now=T0, **args)

    with pytest.raises(lc.CommandRejected, match="approved_by is required"):
        reschedule(state, reason="x", new_due=due + timedelta(days=5))
    with pytest.raises(lc.CommandRejected, match="new_due is required"):
        reschedule(state, reason="x", approved_by="sv")
    with pytest.raises(lc.CommandRejected, match="must be after"):
        reschedule(state, reason="x", new_due=due, approved_by="sv")
    with pytest.raises(lc.CommandRejected, match="reason"):
        reschedule(state, new_due=due + timedelta(days=5), approved_by="sv")
    with pytest.raises(lc.CommandRejected, match="exactly for a reschedule"):
        lc.milestone(state, milestone_id="m1", status="reached", now=T0, approved_by="sv")
    moved, emitted = reschedule(
        state,
        reason="材料延迟",
        new_due=due + timedelta(days=5),
        approved_by="sv",
    )
    event = emitted[0].data
    assert isinstance(event, ProjectMilestone)
    assert (event.new_due, event.approved_by, event.reason) == (
        due + timedelta(days=5),
        "sv",
        "材料延迟",
    )
    assert moved.milestones[0].due == due + timedelta(days=5)
    assert moved.milestones[0].status == "rescheduled"


# -- progress ----------------------------------------------------------------------------


def ms(*weights_reached: tuple[float, bool]) -> tuple[lc.MilestoneState, ...]:
    return tuple(
        lc.MilestoneState(f"m{i}", "t", START, w, "reached" if done else "pending")
        for i, (w, done) in enumerate(weights_reached)
    )


@pytest.mark.parametrize(
    ("milestones", "expected"),
    [
        ((), 0),
        (ms((1, False)), 0),
        (ms((1, True)), 100),
        (ms((1, True), (1, False)), 50),
        (ms((1, True), (2, False), (1, False)), 25),
        (ms((1, False), (2, True), (1, False)), 50),
        (ms((1, True), (1, True), (1, False)), 66),  # rounded down
        (ms((99, True), (1, False)), 99),
        (ms((999, True), (1, False)), 99),  # 100 only when every milestone is reached
        (ms((0.5, True), (1.5, True)), 100),
    ],
)
def test_rollup_is_the_weighted_share_of_reached_milestones(
    milestones: tuple[lc.MilestoneState, ...], expected: int
) -> None:
    assert lc.rollup(milestones) == expected


def test_progress_is_the_larger_of_report_and_rollup() -> None:
    state, _ = lc.report_progress(new(), progress=40, now=T0)
    assert state.progress == 40
    state, emitted = lc.milestone(state, milestone_id="m1", status="reached", now=T0)
    assert state.progress == 40
    assert emitted[0].data.model_dump()["progress"] == 40
    state, emitted = lc.milestone(state, milestone_id="m2", status="reached", now=T0)
    assert state.progress == 75
    assert emitted[0].data.model_dump()["progress"] == 75
    with pytest.raises(lc.CommandRejected, match="below the 75"):
        lc.report_progress(state, progress=70, now=T0)


def test_without_milestones_progress_is_the_report() -> None:
    state, _ = lc.claim(claimed(milestones=()))
    state, _ = lc.report_progress(state, progress=10, now=T0)
    state, _ = lc.report_progress(state, progress=5, now=T0)  # a correction is allowed
    assert state.progress == 5


# -- claims ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"planned_end": START - timedelta(days=1)}, "before planned_start"),
        ({"year": 2020}, "must run during 2020"),
        (
            {"milestones": (Milestone(milestone_id="a", title="t", due=END + timedelta(days=1)),)},
            "outside the planned",
        ),
        ({"milestones": MILESTONES[:1] * 2}, "ids repeat"),
    ],
)
def test_bad_claims_are_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises(lc.CommandRejected, match=message):
        lc.claim(claimed().model_copy(update=changes))


# -- accountability ----------------------------------------------------------------------


def test_a_notice_names_a_project_once_and_formal_talks_repeat() -> None:
    state, _ = lc.flag(new(), kind="notice", reason="滞后", now=T0)
    with pytest.raises(lc.Conflict, match="already been named"):
        lc.flag(state, kind="notice", reason="滞后", now=T0)
    state, _ = lc.flag(state, kind="formal_talk", reason="约谈", now=T0)
    state, _ = lc.flag(state, kind="formal_talk", reason="再次约谈", now=T0)
    assert state.flags == ("notice", "formal_talk", "formal_talk")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        lc.report_progress(new(), progress=1, now=datetime(2019, 3, 1))


# -- timers ------------------------------------------------------------------------------


def test_an_open_project_wants_its_milestones_and_its_notice() -> None:
    assert timing.timers(new()) == [
        Due("milestone", "m1", date(2019, 4, 30)),
        Due("milestone", "m2", date(2019, 7, 31)),
        Due("milestone", "m3", date(2019, 9, 15)),
        Due("notice", "", END),
    ]
    reached, _ = lc.milestone(new(), milestone_id="m1", status="reached", now=T0)
    assert [d.milestone_id for d in timing.timers(reached)] == ["m2", "m3", ""]
    assert timing.timers(in_status("completed")) == []
    assert timing.timers(in_status("verified")) == []


def test_a_timer_fires_on_the_day_after_and_only_while_wanted() -> None:
    due = Due("milestone", "m1", date(2019, 4, 30))
    state = new()
    on_the_day = datetime(2019, 4, 30, 23, 59, tzinfo=CITY_TZ)
    assert timing.fire(state, due, on_the_day) is None
    after, emitted = timing.fire(state, due, on_the_day + timedelta(minutes=1)) or (state, [])
    missed = emitted[0].data
    assert isinstance(missed, ProjectMilestone)
    assert (missed.status, missed.milestone_id, missed.progress) == ("missed", "m1", 0)
    assert timing.fire(after, due, LATER) is None  # missed once
    rescheduled, _ = lc.milestone(
        after,
        milestone_id="m1",
        status="rescheduled",
        reason="延期",
        now=LATER,
        new_due=date(2019, 9, 25),
        approved_by="sv",
    )
    assert Due("milestone", "m1", date(2019, 9, 25)) in timing.timers(rescheduled)


def test_the_notice_fires_once_past_the_planned_end_unless_completed() -> None:
    due = Due("notice", "", END)
    past = datetime(2019, 10, 1, 0, 0, tzinfo=CITY_TZ)
    state = in_status("in_progress")
    assert timing.fire(state, due, past - timedelta(seconds=1)) is None
    named, emitted = timing.fire(state, due, past) or (state, [])
    flagged = emitted[0].data
    assert isinstance(flagged, ProjectFlagged)
    assert flagged.kind == "notice"
    assert timing.fire(named, due, past + timedelta(days=3)) is None
    done, _ = lc.complete(state, now=past, completed_on=END)
    assert timing.fire(done, due, past) is None
    back, _ = lc.verify(done, method="on_site", inspector="组", result="failed", now=past)
    assert timing.fire(back, due, past) is not None  # back at work and late: named after all


def test_the_timer_rows_are_the_wanted_timers_due_at_the_start_of_the_day_after() -> None:
    state = new()
    rows = timing.rows(state)
    assert [row.what for row in rows] == [
        (d.kind, d.milestone_id, d.due_on) for d in timing.timers(state)
    ]
    assert rows[0].due_at == datetime(2019, 5, 1, tzinfo=CITY_TZ)
    assert timing.fire_row(state, rows[0], datetime(2019, 4, 30, 23, 59, tzinfo=CITY_TZ)) is None
    assert timing.fire_row(state, rows[0], rows[0].due_at) is not None
