"""The four lists (四项清单) as a pure state machine: an item's life, and the matching rules.

Each community's lists hold needs (需求), resources (资源), projects (项目) and
responsibilities (责任) of a year, collected by door-to-door visits, forums and appeals,
posted publicly and adjusted as things change (上墙公示、动态调整). A need is matched to a
resource and a project to a responsibility, claimed by someone, by a day; a matched item
is completed, and residents rate completed items (接受群众评议). Decide/evolve over
`minsheng.aggregate.Fold`, as the project's lifecycle: no I/O here.

    posted --match (both items at once)--> matched --complete--> completed --evaluate
    posted --withdraw (动态调整)--> withdrawn
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args

from minsheng import aggregate
from minsheng.aggregate import CommandRejected, Sequenced, required
from minsheng.clock import local_day, require_aware
from minsheng.events import (
    EventData,
    ListItemCompleted,
    ListItemMatched,
    ListItemPosted,
    ListItemWithdrawn,
    SatisfactionRecorded,
)
from minsheng.events.lists import ItemKind
from minsheng.events.satisfaction import Rating, SatisfactionChannel

Status = Literal["posted", "matched", "completed", "withdrawn"]
Action = Literal["match", "withdraw", "complete", "evaluate"]
STATUSES: tuple[Status, ...] = get_args(Status)
KINDS: tuple[ItemKind, ...] = get_args(ItemKind)
# 需求对资源, 项目对责任: what each kind of item is matched with
COUNTERPART: dict[ItemKind, ItemKind] = {
    "need": "resource",
    "resource": "need",
    "project": "responsibility",
    "responsibility": "project",
}
_BY_STATUS: dict[Status, tuple[Action, ...]] = {
    "posted": ("match", "withdraw"),
    "matched": ("complete",),
    "completed": ("evaluate",),
    "withdrawn": (),
}


@dataclass(frozen=True)
class ItemState:
    """What the rules need to know of one list item; rebuilt by replaying its events."""

    id: str
    district: str
    community: str
    year: int
    kind: ItemKind
    status: Status = "posted"
    sequence: int = 1
    matched_item_id: str | None = None
    claimed_by: str | None = None
    due: date | None = None
    completed_on: date | None = None
    on_time: bool | None = None
    ratings: tuple[Rating, ...] = ()
    history: tuple[str, ...] = ("ListItemPosted",)


Outcome = tuple[ItemState, list[Sequenced]]


def _start(data: ListItemPosted) -> ItemState:
    return ItemState(data.list_item_id, data.district, data.community, data.year, data.kind)


def _changes(state: ItemState, data: EventData) -> dict[str, Any]:
    match data:
        case ListItemMatched():
            return {
                "status": "matched",
                "matched_item_id": data.matched_item_id,
                "claimed_by": data.claimed_by,
                "due": data.due,
            }
        case ListItemCompleted():
            return {
                "status": "completed",
                "completed_on": data.completed_on,
                "on_time": data.on_time,
            }
        case ListItemWithdrawn():
            return {"status": "withdrawn"}
        case SatisfactionRecorded():
            return {"ratings": (*state.ratings, data.rating)}
    raise ValueError(f"{data.event_name} is not a list-item event")


FOLD = aggregate.Fold("list_item", ListItemPosted, _start, _changes)
replay = FOLD.replay


def allowed_actions(state: ItemState) -> list[Action]:
    return list(_BY_STATUS[state.status])


def _keys(state: ItemState) -> dict[str, Any]:
    return {
        "list_item_id": state.id,
        "district": state.district,
        "community": state.community,
        "year": state.year,
        "kind": state.kind,
    }


def post(posted: ListItemPosted) -> Outcome:
    """上墙公示: a new item and its first event; an item from an appeal names it."""
    if (posted.source == "appeal") != (posted.appeal_id is not None):
        raise CommandRejected("appeal_id is given exactly for an item from an appeal")
    return FOLD.open(posted)


def matching(a: ItemState, b: ItemState) -> str | None:
    """Why the two items cannot be matched, or None when they can: a need with a
    resource or a project with a responsibility, on the same community's list of the
    same year, both posted and not yet matched."""
    if a.id == b.id:
        return "an item cannot be matched with itself"
    if COUNTERPART[a.kind] != b.kind:
        return f"a {a.kind} is matched with a {COUNTERPART[a.kind]}, not a {b.kind}"
    if (a.district, a.community, a.year) != (b.district, b.community, b.year):
        return "matched items are on the same community's list of the same year"
    return None


def match(
    a: ItemState, b: ItemState, *, claimed_by: str, due: date, now: datetime
) -> tuple[Outcome, Outcome]:
    """需求对资源, 项目对责任: both items matched to each other, claimed by `claimed_by`
    to be done by `due` (in the lists' year or later)."""
    for item in (a, b):
        FOLD.check(item, "match", allowed_actions(item))
    require_aware(now)
    why = matching(a, b)
    if why is not None:
        raise CommandRejected(why)
    if due.year < a.year:
        raise CommandRejected(f"due {due} is before the lists' year {a.year}")
    claimed_by = required(claimed_by, "claimed_by")
    return tuple(  # type: ignore[return-value]  # two items, two outcomes
        FOLD.commit(
            item,
            [
                ListItemMatched(
                    **_keys(item), matched_item_id=other.id, claimed_by=claimed_by, due=due
                )
            ],
        )
        for item, other in ((a, b), (b, a))
    )


def complete(
    state: ItemState, *, now: datetime, completed_on: date | None = None, note: str = ""
) -> Outcome:
    """完成情况公开: done today, or on an earlier day it names; on time by the due day."""
    FOLD.check(state, "complete", allowed_actions(state))
    today = local_day(now)
    day = completed_on or today
    if day > today:
        raise CommandRejected(f"completed_on {day} is in the future (today is {today})")
    assert state.due is not None  # matched
    event = ListItemCompleted(**_keys(state), completed_on=day, on_time=day <= state.due, note=note)
    return FOLD.commit(state, [event])


def withdraw(state: ItemState, *, reason: str, now: datetime) -> Outcome:
    """动态调整: an unmatched item is taken off the list, with why."""
    FOLD.check(state, "withdraw", allowed_actions(state))
    require_aware(now)
    return FOLD.commit(
        state, [ListItemWithdrawn(**_keys(state), reason=required(reason, "reason"))]
    )


def evaluate(
    state: ItemState, *, now: datetime, channel: SatisfactionChannel = "interview", **rated: Any
) -> Outcome:
    """接受群众评议: one resident's rating of a completed item (rating, comment, channel,
    reason: as a project's evaluation, `lifecycle.evaluate`)."""
    return FOLD.evaluate(state, allowed_actions(state), now, channel=channel, **rated)
