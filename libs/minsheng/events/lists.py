"""Payloads of the four lists (四项清单) and community work days (社区工作日), both on the
projects topic (`minsheng.projects.v1`): carriers of the same secretary project.

A list item is an aggregate of its own (subject: the item id): posted with its kind and
source, matched to its counterpart (need with resource, project with responsibility),
completed, or withdrawn as the lists are adjusted (动态调整); residents rate completed
items with `SatisfactionRecorded` (`subject_type` `list_item`). A work-day pairing of a
unit with a community is one too (subject: the pairing id): each visit recorded, and
each month without one reported as missed. Every event repeats its place and year, so
no consumer has to join.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from minsheng.events.envelope import EventData
from minsheng.events.fields import District, Street, Year
from minsheng.events.masked import MaskedDescription, MaskedNote, MaskedReason, MaskedText, Title
from minsheng.inputs import Text

ItemKind = Literal["need", "resource", "project", "responsibility"]
ItemSource = Literal["visit", "forum", "appeal"]
ServiceKind = Literal[
    "party_lesson", "help_pairing", "volunteer_service", "policy_explanation", "other"
]
Month = Annotated[
    Text, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="A month, YYYY-MM.")
]
Count = Annotated[int, Field(ge=0, le=1_000_000)]


class ListItemEvent(EventData):
    """The key and labels every list-item event carries."""

    list_item_id: Text = Field(min_length=1, description="The item id; the event subject.")
    district: District
    community: Text = Field(min_length=1, description="The community whose list it is on.")
    year: Year
    kind: ItemKind = Field(
        description="需求 need, 资源 resource, 项目 project, 责任 responsibility."
    )


class ListItemPosted(ListItemEvent):
    """上墙公示: an item is put on a community's list, from a visit, a forum or an appeal."""

    event_name = "ListItemPosted"

    street: Street = None
    source: ItemSource = Field(description="入户走访 visit, 座谈 forum, 诉求 appeal.")
    appeal_id: Text | None = Field(
        default=None, min_length=1, description="The appeal it came from, for source appeal."
    )
    title: Title
    description: MaskedDescription = ""


class ListItemMatched(ListItemEvent):
    """需求对资源, 项目对责任: the item is matched to its counterpart, claimed by someone,
    to be done by a day. Both items of a match get one, in the same transaction."""

    event_name = "ListItemMatched"

    matched_item_id: Text = Field(min_length=1, description="The counterpart item's id.")
    claimed_by: MaskedText = Field(
        min_length=1, max_length=200, description="Who claims it (a unit or organisation)."
    )
    due: date = Field(description="By when it is to be done.")


class ListItemCompleted(ListItemEvent):
    """完成情况公开: the item is done; residents may now rate it."""

    event_name = "ListItemCompleted"

    completed_on: date
    on_time: bool = Field(description="Completed no later than the matched due day.")
    note: MaskedNote = ""


class ListItemWithdrawn(ListItemEvent):
    """动态调整: the item is taken off the list (met otherwise, no longer wanted)."""

    event_name = "ListItemWithdrawn"

    reason: MaskedReason


class WorkDayEvent(EventData):
    """The key and labels every community-work-day event carries."""

    pairing_id: Text = Field(min_length=1, description="The pairing id; the event subject.")
    unit: Text = Field(min_length=1, description="The paired unit (结对单位).")
    district: District
    community: Text = Field(min_length=1, description="The paired community.")
    month: Month


class WorkDayVisitRecorded(WorkDayEvent):
    """社区工作日: the unit's visit to its community, and what it delivered there."""

    event_name = "WorkDayVisitRecorded"

    visited_on: date
    cadres: Count = Field(description="Cadres who took part.")
    services: dict[ServiceKind, Count] = Field(
        default={}, description="Services delivered, by kind (党课, 结对帮扶, ...)."
    )
    appeals_solved: Count = Field(description="Appeals solved on the spot.")
    appeal_ids: tuple[Text, ...] = Field(
        default=(), description="The appeal numbers of those solved, where they have one."
    )
    goods_value_yuan: Count = Field(description="Value of goods given, whole yuan.")
    note: MaskedNote = ""


class WorkDayVisitMissed(WorkDayEvent):
    """The unit recorded no visit in the month: reported once, the day after it ended."""

    event_name = "WorkDayVisitMissed"
