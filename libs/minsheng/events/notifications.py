"""Payloads of the notifications topic (`minsheng.notifications.v1`).

Deliveries are events so that analytics can count them and an operator can see why an
alert never arrived; the recipient is masked or opaque because the topic is not the
place for contact details.
"""

from __future__ import annotations

import uuid

from pydantic import Field

from minsheng.events.envelope import EventData
from minsheng.events.masked import MaskedText
from minsheng.inputs import Text

MASKED_OR_OPAQUE = (
    r"^(?:[0-9]{3}\*{4}[0-9]{4}"
    r"|[a-z][a-z0-9_]*:[^\s0-9]*(?:[0-9]{1,10}[^\s0-9]+)*[0-9]{0,10})$"
)


class NotificationEvent(EventData):
    """What every delivery outcome says: which notification, to whom, by which rule."""

    notification_id: Text = Field(min_length=1, description="The notification id; the subject.")
    channel: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="e.g. sms, email, webhook.")
    recipient: str = Field(
        pattern=MASKED_OR_OPAQUE,
        description="A masked phone (138****5678) or an opaque `kind:ref` such as "
        "`oncall:primary` or `unit:transport`; never a full phone number (no run of 11 digits).",
    )
    rule: Text = Field(min_length=1, description="The notification rule that fired.")
    subject_event_id: uuid.UUID | None = Field(
        default=None, description="The event that triggered it; none for Alertmanager alerts."
    )
    attempts: int = Field(ge=1, description="Delivery attempts made so far.")


class NotificationDelivered(NotificationEvent):
    """The channel accepted the notification."""

    event_name = "NotificationDelivered"


class NotificationFailed(NotificationEvent):
    """The notification was given up after its retries; on-call should know."""

    event_name = "NotificationFailed"

    error: MaskedText = Field(min_length=1, max_length=2000)
