"""Payloads of the appeals topic (`minsheng.appeals.v1`): 接、分、办、督、访.

Every appeal event repeats the appeal's district and category, so that analytics and
notifications can label and route an event on its own, without joining earlier ones.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from minsheng.events.envelope import EventData
from minsheng.events.fields import Community, District, Grid, Street, Unit
from minsheng.events.masked import MaskedDescription, MaskedNote, MaskedReason, MaskedText, Title
from minsheng.inputs import Instant, Text

Channel = Literal["hotline", "app", "web", "window", "grid", "system"]
MASKED_PHONE = r"^[0-9]{3}\*{4}[0-9]{4}$"

AppealCategory = Annotated[Text, Field(min_length=1, description="Category code, e.g. complaint.")]
EscalationLevel = Literal["reminder", "overdue", "criticism"]
Reopener = Literal["callback", "supervisor"]
CloseOutcome = Literal["resolved", "duplicate", "invalid", "withdrawn"]


class AppealEvent(EventData):
    """The keys and labels every appeal event carries, so no consumer has to join."""

    appeal_id: Text = Field(min_length=1, description="The appeal number; the event subject.")
    district: District
    category: AppealCategory


class AppealReceived(AppealEvent):
    """受理: an appeal was recorded; carries only masked personal data."""

    event_name = "AppealReceived"

    title: Title
    description: MaskedDescription = ""
    street: Street = None
    community: Community = None
    grid: Grid = None
    channel: Channel = Field(description="How the citizen reached us.")
    contact_ref: Text | None = Field(default=None, description="Opaque reference to the contact.")
    phone_masked: str | None = Field(
        default=None, pattern=MASKED_PHONE, description="Masked phone, e.g. 138****5678."
    )
    received_at: Instant
    deadline: Instant | None = Field(
        default=None, description="Time limit from the category, once known."
    )


class AppealDispatched(AppealEvent):
    """派单: the appeal was routed; a re-dispatch after a return is another one of these."""

    event_name = "AppealDispatched"

    unit: Unit
    assisting_units: tuple[Text, ...] = Field(
        default=(), description="Units that co-handle a hard case (多方协调)."
    )
    deadline: Instant = Field(description="When the unit must have resolved it.")
    dispatched_by: MaskedText = Field(
        min_length=1, description="`router` for the routing rule, else the operator's account."
    )
    override: bool = Field(
        default=False, description="True when an operator chose another unit than the rule."
    )


class AppealAccepted(AppealEvent):
    """签收: the unit took the appeal on; the clock it works against is already running."""

    event_name = "AppealAccepted"

    unit: Unit


class AppealReturned(AppealEvent):
    """退单: the unit says the appeal is not theirs, and why, so it can be re-dispatched."""

    event_name = "AppealReturned"

    unit: Unit
    reason: MaskedReason


class AppealExtended(AppealEvent):
    """延期: an approved extension; the citizen is told the new date and the reason."""

    event_name = "AppealExtended"

    unit: Unit
    previous_deadline: Instant
    new_deadline: Instant
    reason: MaskedReason
    approved_by: MaskedText = Field(min_length=1, description="The approving supervisor's account.")


class AppealEscalated(AppealEvent):
    """督办: supervision chased a late or nearly late appeal at the given level."""

    event_name = "AppealEscalated"

    unit: Unit
    level: EscalationLevel = Field(
        description="reminder before the deadline, overdue the day after, criticism (通报) "
        "5 more working days late."
    )
    deadline: Instant = Field(description="The deadline this escalation measures.")


class AppealResolved(AppealEvent):
    """办结: the unit reported what it did; `on_time` is fixed here, not recomputed later."""

    event_name = "AppealResolved"

    unit: Unit
    resolution: MaskedText = Field(
        min_length=1, max_length=5000, description="Answer to the citizen."
    )
    resolved_at: Instant
    on_time: bool = Field(description="Resolved no later than the (extended) deadline.")


class AppealReopened(AppealEvent):
    """重新办理: the handling was not good enough; the appeal goes back to work."""

    event_name = "AppealReopened"

    reason: MaskedReason
    by: Reopener = Field(description="A dissatisfied call-back or a supervisor's decision.")


class AppealClosed(AppealEvent):
    """The loop is closed; nothing more happens to this appeal."""

    event_name = "AppealClosed"

    outcome: CloseOutcome
    note: MaskedNote = ""
