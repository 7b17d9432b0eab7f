"""An appeal's life as a pure state machine (分、办、督、访): decide, then evolve.

Each action checks the current state, *decides* the events (payloads from the catalogue)
and folds them through `apply`, the one *evolve* function; so the state is, by
construction, a replay of the events it emitted, and each event gets the next
per-aggregate sequence number with no gap (AppealReceived is 1).

    received --dispatch--> dispatched --accept--> accepted --resolve--> resolved --close--> closed
    dispatched --return (退单)--> returned --dispatch--> dispatched
    resolved --callback: dissatisfied with handling | reopen (supervisor)--> reopened --dispatch-->
    accepted: extend (延期, before the deadline); dispatched/accepted: escalate (督办)
    any open state --close (duplicate | invalid | withdrawn)--> closed

Time rules:
* The first time limit runs from receipt (the category's working days, `workdays`); a
  re-dispatch after a return keeps it, the citizen's clock does not restart.
* A reopened appeal gets a fresh time limit on its next dispatch, counted from the latest
  instant the log records: the call-back that found it wanting, or for a supervisor's
  reopen the resolution (or a later call-back); AppealReopened itself carries no time, and
  replay must rebuild the same deadline.
* Escalations count once per deadline: an extension or a new deadline clears them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict, get_args

from minsheng import aggregate
from minsheng.aggregate import CommandRejected as CommandRejected
from minsheng.aggregate import IllegalTransition as IllegalTransition
from minsheng.aggregate import Sequenced, required
from minsheng.clock import require_aware
from minsheng.events import (
    AppealAccepted,
    AppealClosed,
    AppealDispatched,
    AppealEscalated,
    AppealExtended,
    AppealReceived,
    AppealReopened,
    AppealResolved,
    AppealReturned,
    EventData,
    SatisfactionRecorded,
)
from minsheng.events.appeals import CloseOutcome, EscalationLevel
from minsheng.events.satisfaction import DissatisfactionReason, Rating, SatisfactionChannel
from minsheng.reference import categories
from minsheng.workdays import add_working_days

Status = Literal["received", "dispatched", "returned", "accepted", "resolved", "reopened", "closed"]
Action = Literal[
    "dispatch", "accept", "return", "extend", "escalate", "resolve", "callback", "reopen", "close"
]
STATUSES: tuple[Status, ...] = get_args(Status)
ACTIONS: tuple[Action, ...] = get_args(Action)
LEVELS: tuple[EscalationLevel, ...] = get_args(EscalationLevel)

_BY_STATUS: dict[Status, tuple[Action, ...]] = {
    "received": ("dispatch", "close"),
    "dispatched": ("accept", "return", "escalate", "close"),
    "returned": ("dispatch", "close"),
    "accepted": ("extend", "escalate", "resolve", "close"),
    "resolved": ("callback", "reopen", "close"),
    "reopened": ("dispatch", "close"),
    "closed": (),
}
REOPEN_ON_CALLBACK = "回访不满意：对办理不满意"


class TooLate(CommandRejected):
    """The action fits the state and its arguments, but its time has passed."""


@dataclass(frozen=True)
class AppealState:
    """What the rules need to know about one appeal; rebuilt by replaying its events."""

    id: str
    district: str
    category: str
    received_at: datetime
    clock_start: datetime  # start of the current time limit: receipt, or the reopen
    last_at: datetime  # the latest instant an event of the log records
    status: Status = "received"
    sequence: int = 1
    deadline: datetime | None = None
    unit: str | None = None
    assisting_units: tuple[str, ...] = ()
    escalations: tuple[EscalationLevel, ...] = ()  # emitted for the current deadline
    resolved_at: datetime | None = None
    on_time: bool | None = None
    rating: Rating | None = None  # the call-back on the current resolution
    outcome: CloseOutcome | None = None
    history: tuple[str, ...] = ("AppealReceived",)
    street: str | None = None  # the place, for routing a re-dispatch like the first one
    community: str | None = None
    grid: str | None = None


Outcome = tuple[AppealState, list[Sequenced]]


# -- evolve: the state after each event --------------------------------------------------


def _start(data: AppealReceived) -> AppealState:
    """A received appeal: its first time limit runs from receipt."""
    at, kept = data.received_at, data.model_dump(include=_RECEIVED_KEPT)
    return AppealState(id=data.appeal_id, received_at=at, clock_start=at, last_at=at, **kept)


_RECEIVED_KEPT = {"district", "category", "deadline", "street", "community", "grid"}


def _changes(state: AppealState, data: EventData) -> dict[str, Any]:
    match data:
        case AppealDispatched():
            fresh = data.deadline != state.deadline
            return {
                "status": "dispatched",
                "unit": data.unit,
                "assisting_units": data.assisting_units,
                "deadline": data.deadline,
                "escalations": () if fresh else state.escalations,
            }
        case AppealAccepted():
            return {"status": "accepted"}
        case AppealReturned():
            return {"status": "returned", "unit": None, "assisting_units": ()}
        case AppealExtended():
            return {"deadline": data.new_deadline, "escalations": ()}
        case AppealEscalated():
            return {"escalations": (*state.escalations, data.level)}
        case AppealResolved():
            return {
                "status": "resolved",
                "resolved_at": data.resolved_at,
                "last_at": data.resolved_at,
                "on_time": data.on_time,
                "rating": None,
            }
        case SatisfactionRecorded():
            return {"rating": data.rating, "last_at": data.recorded_at}
        case AppealReopened():
            return {
                "status": "reopened",
                "clock_start": state.last_at,
                "deadline": None,
                "escalations": (),
                "resolved_at": None,
                "on_time": None,
            }
        case AppealClosed():
            return {"status": "closed", "outcome": data.outcome}
    raise ValueError(f"{data.event_name} is not an appeal event")


FOLD = aggregate.Fold("appeal", AppealReceived, _start, _changes)
apply, replay = FOLD.apply, FOLD.replay  # evolve; the state of a whole history
_commit = FOLD.commit

# -- what may happen: the actions a state allows -----------------------------------------


def allowed_actions(state: AppealState) -> list[Action]:
    """The actions the state allows (the API names them in a 409): an escalation level
    or a call-back once spent is no longer offered."""
    spent = {
        "escalate": len(state.escalations) == len(LEVELS),
        "callback": state.rating is not None,
    }
    return [action for action in _BY_STATUS[state.status] if not spent.get(action)]


AUTOMATIC: tuple[Action, ...] = ("escalate",)  # supervision timers do it; no route offers it


def offered_actions(state: AppealState) -> list[Action]:
    """The allowed actions a client can ask for over HTTP."""
    return [action for action in allowed_actions(state) if action not in AUTOMATIC]


def is_handled_by(state: AppealState, unit: str) -> bool:
    """Whether `unit` leads or assists on the appeal (what a unit key may act on)."""
    return unit == state.unit or unit in state.assisting_units


def _check(state: AppealState, action: Action, now: datetime) -> None:
    require_aware(now)
    FOLD.check(state, action, allowed_actions(state))


class _Keys(TypedDict):
    appeal_id: str
    district: str
    category: str


class _Lead(_Keys):
    unit: str


def _keys(state: AppealState) -> _Keys:
    return {"appeal_id": state.id, "district": state.district, "category": state.category}


def _lead(state: AppealState) -> _Lead:
    assert state.unit is not None  # every status that allows these actions has a unit
    return {**_keys(state), "unit": state.unit}


# -- decide: one function per action, each checking the state first ---------------------


def open_appeal(received: AppealReceived) -> Outcome:
    """The state of a just-received appeal, and its first event (sequence 1)."""
    return FOLD.open(received)


def dispatch(
    state: AppealState,
    *,
    unit: str,
    by: str,
    now: datetime,
    assisting_units: Iterable[str] = (),
    override: bool = False,
    deadline: datetime | None = None,
) -> Outcome:
    """派单 to a lead unit and any co-handling units; the deadline comes from the category
    unless the appeal already has one (a re-dispatch after a return) or one is given."""
    _check(state, "dispatch", now)
    assisting = tuple(dict.fromkeys(assisting_units))
    if unit in assisting:
        raise CommandRejected(f"{unit} cannot both lead and assist")
    event = AppealDispatched(
        **_keys(state),
        unit=required(unit, "unit"),
        assisting_units=assisting,
        deadline=deadline or state.deadline or _time_limit(state),
        dispatched_by=required(by, "dispatched_by"),
        override=override,
    )
    return _commit(state, [event])


def _time_limit(state: AppealState) -> datetime:
    category = categories().get(state.category)
    if category is None:
        raise CommandRejected(f"unknown category {state.category}: no time limit")
    return add_working_days(state.clock_start, category.working_days)


def accept(state: AppealState, *, unit: str, now: datetime) -> Outcome:
    """签收 by the lead unit; assisting units follow the lead's acceptance."""
    _check(state, "accept", now)
    if unit != state.unit:
        raise CommandRejected(f"only the lead unit {state.unit} can accept, not {unit}")
    return _commit(state, [AppealAccepted(**_lead(state))])


def return_(state: AppealState, *, reason: str, now: datetime) -> Outcome:
    """退单: not this unit's business, and why, so an operator can re-dispatch."""
    _check(state, "return", now)
    return _commit(state, [AppealReturned(**_lead(state), reason=required(reason, "reason"))])


def extend(
    state: AppealState,
    *,
    reason: str,
    approved_by: str,
    now: datetime,
    days: int | None = None,
    until: datetime | None = None,
) -> Outcome:
    """延期 by `days` more working days or `until` a later instant; asked before the
    deadline and approved by a supervisor (the API checks the key's role)."""
    _check(state, "extend", now)
    assert state.deadline is not None  # accepted appeals always have one
    if (days is None) == (until is None):
        raise CommandRejected("give either days or until")
    if days is not None and days < 1:
        raise CommandRejected(f"an extension adds at least one working day, not {days}")
    if now > state.deadline:
        raise TooLate(f"the deadline {state.deadline.isoformat()} has passed")
    new = require_aware(until) if until else add_working_days(state.deadline, days or 0)
    if new <= state.deadline:
        raise CommandRejected("an extension must move the deadline later")
    event = AppealExtended(
        **_lead(state),
        previous_deadline=state.deadline,
        new_deadline=new,
        reason=required(reason, "reason"),
        approved_by=required(approved_by, "approved_by"),
    )
    return _commit(state, [event])


def escalate(state: AppealState, *, level: EscalationLevel, now: datetime) -> Outcome:
    """督办 at a level, once per deadline; `supervision` says when each level is due."""
    _check(state, "escalate", now)
    if level in state.escalations:
        raise CommandRejected(f"{level} was already sent for this deadline")
    assert state.deadline is not None
    return _commit(state, [AppealEscalated(**_lead(state), level=level, deadline=state.deadline)])


def resolve(state: AppealState, *, resolution: str, now: datetime) -> Outcome:
    """办结: on time means no later than the (extended) deadline, fixed here for good."""
    _check(state, "resolve", now)
    assert state.deadline is not None
    event = AppealResolved(
        **_lead(state),
        resolution=required(resolution, "resolution"),
        resolved_at=now,
        on_time=now <= state.deadline,
    )
    return _commit(state, [event])


def callback(
    state: AppealState,
    *,
    rating: Rating,
    reason: DissatisfactionReason | None = None,
    comment: str = "",
    channel: SatisfactionChannel = "callback",
    now: datetime,
) -> Outcome:
    """回访: records the rating; dissatisfied with the handling also reopens the appeal."""
    _check(state, "callback", now)
    if (rating == "dissatisfied") != (reason is not None):
        raise CommandRejected("a reason is given exactly when the citizen is dissatisfied")
    events: list[EventData] = [
        FOLD.satisfaction(
            state, now, rating=rating, comment=comment, channel=channel, reason=reason
        )
    ]
    if reason == "handling":
        reopen_reason = comment.strip() or REOPEN_ON_CALLBACK
        events.append(AppealReopened(**_keys(state), reason=reopen_reason, by="callback"))
    return _commit(state, events)


def reopen(state: AppealState, *, reason: str, now: datetime) -> Outcome:
    """重新办理 on a supervisor's decision that the resolution is not good enough."""
    _check(state, "reopen", now)
    event = AppealReopened(**_keys(state), reason=required(reason, "reason"), by="supervisor")
    return _commit(state, [event])


def close(state: AppealState, *, outcome: CloseOutcome, now: datetime, note: str = "") -> Outcome:
    """Closes the loop: `resolved` exactly when it was resolved; an open appeal may
    instead close as a duplicate, invalid or withdrawn."""
    _check(state, "close", now)
    if (outcome == "resolved") != (state.status == "resolved"):
        raise CommandRejected(f"an appeal that is {state.status} cannot close as {outcome}")
    return _commit(state, [AppealClosed(**_keys(state), outcome=outcome, note=note)])
