"""The ways a message leaves: signed webhooks, e-mail over SMTP, SMS through a gateway.

Each channel turns one `Outgoing` message into one attempt and reports the `Answer`;
what the answer means (done, retry, give up) is `notifications.delivery`'s to decide.
A channel never raises for the other side's failure: it answers with silence instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from notifications.delivery import Answer


@dataclass(frozen=True)
class Outgoing:
    delivery_id: str
    recipient: str
    address: str  # URL, e-mail address, or (SMS) the citizen's contact_ref
    title: str
    body: str
    payload: str  # the webhook's JSON document, as stored


class Channel(Protocol):
    async def send(self, message: Outgoing) -> Answer: ...
