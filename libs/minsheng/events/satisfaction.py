"""The one satisfaction payload (回访/评价) shared by appeals, secretary projects and the
items of the four lists.

One type for both subjects keeps the satisfaction rate a single metric; the service that
owns the subject emits it on its own topic, and other systems send it to intake.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from minsheng.events.envelope import EventData
from minsheng.events.fields import District
from minsheng.events.masked import MaskedNote
from minsheng.inputs import Instant, Text

SubjectType = Literal["appeal", "project", "list_item"]
Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]
SatisfactionChannel = Literal["callback", "app", "web", "sms", "interview", "system"]
DissatisfactionReason = Literal["handling", "other"]


class SatisfactionRecorded(EventData):
    """满意度: a citizen's or resident's rating; dissatisfaction with handling reopens."""

    event_name = "SatisfactionRecorded"

    subject_type: SubjectType
    subject_id: Text = Field(
        min_length=1, description="The appeal, project or list item id; the subject."
    )
    rating: Rating = Field(description="满意 / 基本满意 / 不满意.")
    comment: MaskedNote = ""
    channel: SatisfactionChannel = Field(
        description="callback is the call-back phone call; interview a resident interview."
    )
    district: District
    recorded_at: Instant
    reason: DissatisfactionReason | None = Field(
        default=None,
        description="Why a dissatisfied rating was given: `handling` lets the appeals service "
        "reopen, `other` (e.g. policy) does not.",
    )
