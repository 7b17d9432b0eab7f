"""The appeal state machine: every legal and illegal transition, and the rules on each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest

from appeals import lifecycle as lc
from appeals.lifecycle import Action, AppealState, Outcome
from minsheng.clock import CITY_TZ
from minsheng.events import (
    AppealDispatched,
    AppealEscalated,
    AppealExtended,
    AppealReceived,
    AppealReopened,
    SatisfactionRecorded,
)
from minsheng.events.satisfaction import DissatisfactionReason, Rating
from minsheng.workdays import end_of_day

T0 = datetime(2019, 9, 30, 9, 0, tzinfo=CITY_TZ)  # Monday, the day before National Day
LEAD, HELPER = "市水务集团", "明仁街道办事处"
RECEIVED = AppealReceived(
    appeal_id="BC20190930000001",
    district="洮北区",
    category="help",  # 3 working days
    title="下水道堵塞",
    channel="hotline",
    received_at=T0,
)
CALLBACKS: tuple[tuple[Rating, DissatisfactionReason | None], ...] = (
    ("satisfied", None),
    ("basically_satisfied", None),
    ("dissatisfied", "handling"),
    ("dissatisfied", "other"),
)


def act(state: AppealState, action: Action, now: datetime = T0, choice: int = 0) -> Outcome:
    """Runs an action with plausible arguments; `choice` picks among its variants."""
    match action:
        case "dispatch":
            assisting = (HELPER,) if choice % 2 else ()
            return lc.dispatch(state, unit=LEAD, assisting_units=assisting, by="op-1", now=now)
        case "accept":
            return lc.accept(state, unit=state.unit or LEAD, now=now)
        case "return":
            return lc.return_(state, reason="不属于本单位职责", now=now)
        case "extend":
            return lc.extend(state, days=1 + choice % 5, reason="需协调", approved_by="sv", now=now)
        case "escalate":
            return lc.escalate(state, level=lc.LEVELS[choice % 3], now=now)
        case "resolve":
            return lc.resolve(state, resolution="已疏通", now=now)
        case "callback":
            rating, reason = CALLBACKS[choice % len(CALLBACKS)]
            return lc.callback(state, rating=rating, reason=reason, now=now)
        case "reopen":
            return lc.reopen(state, reason="答复敷衍", now=now)
        case "close":
            resolved = state.status == "resolved"
            return lc.close(state, outcome="resolved" if resolved else "withdrawn", now=now)


def run(*actions: Action) -> AppealState:
    """The state after `actions` on a fresh appeal; the n-th action runs with choice n
    (so three escalations send the three levels)."""
    state = lc.open_appeal(RECEIVED)[0]
    for choice, action in enumerate(actions):
        state = act(state, action, choice=choice)[0]
    return state


PATHS: dict[str, tuple[Action, ...]] = {
    "received": (),
    "dispatched": ("dispatch",),
    "escalated thrice": ("dispatch", "escalate", "escalate", "escalate"),
    "returned": ("dispatch", "return"),
    "accepted": ("dispatch", "accept"),
    "resolved": ("dispatch", "accept", "resolve"),
    "called back": ("dispatch", "accept", "resolve", "callback"),
    "reopened": ("dispatch", "accept", "resolve", "reopen"),
    "closed": ("close",),
}
ALLOWED: dict[str, list[Action]] = {
    "received": ["dispatch", "close"],
    "dispatched": ["accept", "return", "escalate", "close"],
    "escalated thrice": ["accept", "return", "close"],
    "returned": ["dispatch", "close"],
    "accepted": ["extend", "escalate", "resolve", "close"],
    "resolved": ["callback", "reopen", "close"],
    "called back": ["reopen", "close"],
    "reopened": ["dispatch", "close"],
    "closed": [],
}
AFTER: dict[Action, str | None] = {  # the status an action leads to; None: unchanged
    "dispatch": "dispatched",
    "accept": "accepted",
    "return": "returned",
    "extend": None,
    "escalate": None,
    "resolve": "resolved",
    "callback": None,  # a satisfied call-back
    "reopen": "reopened",
    "close": "closed",
}


def state_at(path: str) -> AppealState:
    return run(*PATHS[path])


@pytest.mark.parametrize("path", PATHS)
def test_allowed_actions_per_state(path: str) -> None:
    assert lc.allowed_actions(state_at(path)) == ALLOWED[path]


LEGAL = [(path, action) for path in PATHS for action in ALLOWED[path]]
ILLEGAL = [(path, action) for path in PATHS for action in lc.ACTIONS if action not in ALLOWED[path]]


@pytest.mark.parametrize(("path", "action"), LEGAL)
def test_every_legal_transition_emits_the_next_sequence(path: str, action: Action) -> None:
    before = state_at(path)
    after, emitted = act(before, action)
    assert after.status == (AFTER[action] or before.status)
    assert [e.sequence for e in emitted] == [before.sequence + 1]
    assert after.sequence == before.sequence + 1
    assert after == lc.apply(before, emitted[0].data)


@pytest.mark.parametrize(("path", "action"), ILLEGAL)
def test_every_illegal_transition_names_state_and_allowed(path: str, action: Action) -> None:
    state = state_at(path)
    with pytest.raises(lc.IllegalTransition) as caught:
        act(state, action)
    assert (caught.value.status, caught.value.action) == (state.status, action)
    assert caught.value.allowed == ALLOWED[path]
    assert state.status in str(caught.value)
    assert all(allowed in str(caught.value) for allowed in ALLOWED[path])


def test_full_scripted_lifecycle() -> None:
    steps: list[Callable[[AppealState], Outcome]] = [
        lambda s: lc.dispatch(s, unit="市住建局", by="router", now=T0),
        lambda s: lc.return_(s, reason="属供水管网，非本单位", now=T0),
        *(partial(act, action=a) for a in ("dispatch", "accept", "extend", "resolve")),
        lambda s: lc.callback(s, rating="dissatisfied", reason="handling", now=T0),
        *(partial(act, action=a) for a in ("dispatch", "accept", "resolve", "callback", "close")),
    ]
    state, emitted = lc.open_appeal(RECEIVED)
    for step in steps:
        state, more = step(state)
        emitted += more
    assert [e.data.event_name for e in emitted] == [
        "AppealReceived",
        "AppealDispatched",
        "AppealReturned",
        "AppealDispatched",
        "AppealAccepted",
        "AppealExtended",
        "AppealResolved",
        "SatisfactionRecorded",
        "AppealReopened",
        "AppealDispatched",
        "AppealAccepted",
        "AppealResolved",
        "SatisfactionRecorded",
        "AppealClosed",
    ]
    assert [e.sequence for e in emitted] == list(range(1, 15))
    assert state.status == "closed"
    assert state.outcome == "resolved"
    assert state == lc.replay(e.data for e in emitted)
    assert state.history == tuple(e.data.event_name for e in emitted)


# -- dispatch and co-handling -------------------------------------------------------------


def test_first_dispatch_takes_the_category_time_limit_from_receipt() -> None:
    state, [event] = act(lc.open_appeal(RECEIVED)[0], "dispatch")
    assert isinstance(event.data, AppealDispatched)
    assert event.data.deadline == state.deadline == end_of_day(date(2019, 10, 10))
    assert (event.data.dispatched_by, event.data.override) == ("op-1", False)


def test_redispatch_after_a_return_keeps_the_deadline_and_drops_the_returning_unit() -> None:
    returned = run("dispatch", "return")
    assert returned.unit is None
    assert not lc.is_handled_by(returned, LEAD)
    later = T0 + timedelta(days=5)
    state, _ = lc.dispatch(returned, unit="市住建局", by="op-2", override=True, now=later)
    assert state.deadline == end_of_day(date(2019, 10, 10))
    assert state.unit == "市住建局"


def test_co_handling_lead_and_assisting_units() -> None:
    received = lc.open_appeal(RECEIVED)[0]
    state, _ = lc.dispatch(
        received, unit=LEAD, assisting_units=[HELPER, HELPER, "洮北区城管局"], by="op", now=T0
    )
    assert state.assisting_units == (HELPER, "洮北区城管局")
    assert lc.is_handled_by(state, LEAD)
    assert lc.is_handled_by(state, HELPER)
    assert not lc.is_handled_by(state, "市教育局")
    with pytest.raises(lc.CommandRejected, match="lead and assist"):
        lc.dispatch(received, unit=LEAD, assisting_units=[LEAD], by="op", now=T0)


def test_dispatch_with_an_explicit_deadline() -> None:
    deadline = datetime(2019, 10, 8, 12, tzinfo=UTC)
    state, _ = lc.dispatch(
        lc.open_appeal(RECEIVED)[0], unit=LEAD, by="op", deadline=deadline, now=T0
    )
    assert state.deadline == deadline


def test_dispatch_without_a_known_time_limit_is_rejected() -> None:
    unknown = lc.open_appeal(RECEIVED.model_copy(update={"category": "mystery"}))[0]
    with pytest.raises(lc.CommandRejected, match="unknown category"):
        act(unknown, "dispatch")


def test_only_the_lead_unit_accepts() -> None:
    with pytest.raises(lc.CommandRejected, match="lead unit"):
        lc.accept(run("dispatch"), unit=HELPER, now=T0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s: lc.dispatch(s, unit=" ", by="op", now=T0), "unit"),
        (lambda s: lc.dispatch(s, unit=LEAD, by="", now=T0), "dispatched_by"),
        (lambda s: lc.close(s, outcome="resolved", now=T0), "cannot close as resolved"),
    ],
)
def test_bad_arguments_on_a_received_appeal(
    call: Callable[[AppealState], Outcome], match: str
) -> None:
    with pytest.raises(lc.CommandRejected, match=match):
        call(lc.open_appeal(RECEIVED)[0])


def test_return_needs_a_reason() -> None:
    with pytest.raises(lc.CommandRejected, match="reason"):
        lc.return_(run("dispatch"), reason="  ", now=T0)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        act(lc.open_appeal(RECEIVED)[0], "dispatch", now=datetime(2019, 9, 30, 9))


# -- extension, escalation, resolution ----------------------------------------------------


def test_extension_moves_the_deadline_by_working_days_and_clears_escalations() -> None:
    accepted = act(run("dispatch", "accept"), "escalate")[0]
    assert accepted.escalations == ("reminder",)
    state, [event] = lc.extend(accepted, days=2, reason="需协调施工", approved_by="sv-1", now=T0)
    assert isinstance(event.data, AppealExtended)
    assert event.data.previous_deadline == end_of_day(date(2019, 10, 10))
    assert event.data.new_deadline == state.deadline == end_of_day(date(2019, 10, 12))
    assert event.data.approved_by == "sv-1"
    assert state.escalations == ()
    assert act(state, "escalate")[0].escalations == ("reminder",)


def test_extension_to_a_given_instant() -> None:
    until = datetime(2019, 10, 20, 12, tzinfo=CITY_TZ)
    state, _ = lc.extend(
        run("dispatch", "accept"), until=until, reason="r", approved_by="sv", now=T0
    )
    assert state.deadline == until


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({}, "either days or until"),
        ({"days": 1, "until": T0}, "either days or until"),
        ({"days": 0}, "at least one working day"),
        ({"until": T0}, "later"),
        ({"days": 1, "reason": ""}, "reason"),
        ({"days": 1, "approved_by": " "}, "approved_by"),
        ({"days": 1, "now": datetime(2019, 10, 11, tzinfo=CITY_TZ)}, "has passed"),
    ],
)
def test_extension_refusals(change: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"reason": "需协调", "approved_by": "sv", "now": T0, **change}
    with pytest.raises(lc.CommandRejected, match=match):
        lc.extend(run("dispatch", "accept"), **args)  # type: ignore[arg-type]


def test_each_escalation_level_once_per_deadline() -> None:
    state, [event] = lc.escalate(run("dispatch"), level="overdue", now=T0)
    assert isinstance(event.data, AppealEscalated)
    assert (event.data.level, event.data.unit, event.data.deadline) == (
        "overdue",
        LEAD,
        state.deadline,
    )
    with pytest.raises(lc.CommandRejected, match="already"):
        lc.escalate(state, level="overdue", now=T0)
    assert lc.escalate(state, level="reminder", now=T0)[0].escalations == ("overdue", "reminder")


@pytest.mark.parametrize(
    ("now", "on_time"),
    [
        (datetime(2019, 10, 10, 23, 59, tzinfo=CITY_TZ), True),
        (datetime(2019, 10, 10, 16, 0, tzinfo=UTC), False),  # 2019-10-11 00:00 in the city
    ],
)
def test_resolution_on_time_against_the_deadline(now: datetime, on_time: bool) -> None:
    state, [event] = lc.resolve(run("dispatch", "accept"), resolution="已疏通", now=now)
    assert event.data.model_dump()["on_time"] is on_time
    assert (state.on_time, state.resolved_at) == (on_time, now)


def test_resolution_needs_text() -> None:
    with pytest.raises(lc.CommandRejected, match="resolution"):
        lc.resolve(run("dispatch", "accept"), resolution="", now=T0)


# -- call-back, reopening, closing --------------------------------------------------------

CALLED = datetime(2019, 10, 11, 10, 0, tzinfo=CITY_TZ)  # Friday


def test_dissatisfied_with_handling_reopens_with_a_fresh_time_limit() -> None:
    resolved = run("dispatch", "accept", "resolve")
    state, emitted = lc.callback(
        resolved, rating="dissatisfied", reason="handling", comment="没修好", now=CALLED
    )
    satisfaction, reopened = (e.data for e in emitted)
    assert isinstance(satisfaction, SatisfactionRecorded)
    assert (satisfaction.subject_id, satisfaction.recorded_at) == (RECEIVED.appeal_id, CALLED)
    assert isinstance(reopened, AppealReopened)
    assert (reopened.by, reopened.reason) == ("callback", "没修好")
    assert (state.status, state.deadline, state.rating) == ("reopened", None, "dissatisfied")
    redispatched = act(state, "dispatch", now=CALLED)[0]
    # 3 working days after Friday 10-11: Saturday 10-12 (调休), Monday 10-14, Tuesday 10-15
    assert redispatched.deadline == end_of_day(date(2019, 10, 15))


def test_dissatisfied_for_another_reason_records_only() -> None:
    resolved = run("dispatch", "accept", "resolve")
    state, emitted = lc.callback(resolved, rating="dissatisfied", reason="other", now=CALLED)
    assert [e.data.event_name for e in emitted] == ["SatisfactionRecorded"]
    assert (state.status, state.rating) == ("resolved", "dissatisfied")


@pytest.mark.parametrize(("rating", "reason"), [("dissatisfied", None), ("satisfied", "handling")])
def test_callback_reason_exactly_when_dissatisfied(
    rating: Rating, reason: DissatisfactionReason | None
) -> None:
    with pytest.raises(lc.CommandRejected, match="reason"):
        lc.callback(run("dispatch", "accept", "resolve"), rating=rating, reason=reason, now=T0)


def test_supervisor_reopen_restarts_the_clock_at_the_resolution() -> None:
    accepted = run("dispatch", "accept")
    resolved = lc.resolve(accepted, resolution="已答复", now=CALLED)[0]
    state, [event] = lc.reopen(resolved, reason="答复敷衍", now=CALLED + timedelta(days=3))
    assert event.data.model_dump()["by"] == "supervisor"
    assert act(state, "dispatch")[0].deadline == end_of_day(date(2019, 10, 15))


def test_an_open_appeal_closes_as_duplicate() -> None:
    state, [event] = lc.close(run("dispatch"), outcome="duplicate", note="同BC1", now=T0)
    assert (state.status, state.outcome) == ("closed", "duplicate")
    assert event.data.model_dump()["note"] == "同BC1"


# -- evolve -------------------------------------------------------------------------------


def test_history_must_start_with_receipt_and_stay_with_one_appeal() -> None:
    state, [dispatched] = act(lc.open_appeal(RECEIVED)[0], "dispatch")
    with pytest.raises(ValueError, match="starts with AppealReceived"):
        lc.apply(None, dispatched.data)
    with pytest.raises(ValueError, match="does not follow"):
        lc.apply(state, RECEIVED)
    other = dispatched.data.model_copy(update={"appeal_id": "BC2"})
    with pytest.raises(ValueError, match="does not follow"):
        lc.apply(state, other)
    with pytest.raises(ValueError, match="empty history"):
        lc.replay([])


def test_foreign_events_are_not_applied() -> None:
    project = SatisfactionRecorded(
        subject_type="project",
        subject_id=RECEIVED.appeal_id,
        rating="satisfied",
        channel="interview",
        district=RECEIVED.district,
        recorded_at=T0,
    )
    with pytest.raises(ValueError, match="does not follow"):
        lc.apply(lc.open_appeal(RECEIVED)[0], project)
