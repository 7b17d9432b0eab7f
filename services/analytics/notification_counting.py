"""A notification's analytics state, folded from its delivery outcomes.

The notifications service publishes one outcome per notification as a rule: delivered,
or failed after its retries. Should it publish a later outcome (a manual resend that got
through), the newest one by sequence stands, so each notification counts once.
"""

from __future__ import annotations

from analytics.counting import Figures, State, admit
from minsheng.events import NotificationDelivered, ParsedEvent
from minsheng.events.notifications import NotificationEvent

DELIVERED, FAILED = "delivered", "failed"


def apply_notification(state: State | None, event: ParsedEvent) -> State | None:
    """The notification's new state, or None when the event is not newer than what is held.

    Raises InvalidEvent("rejected") for an event that has no place on the notifications topic.
    """
    new = admit(state, event, "notification", NotificationEvent, "notification_id")
    if new is None:
        return None
    data = event.data
    assert isinstance(data, NotificationEvent)  # admit let nothing else through
    status = DELIVERED if isinstance(data, NotificationDelivered) else FAILED
    new.update(status=status, channel=data.channel, attempts=data.attempts)
    return new


def notification_figures(state: State) -> Figures:
    """One notification, by channel and outcome, and the delivery attempts it took."""
    figures: Figures = Figures()
    if "status" in state:
        figures["notifications", (state["channel"], state["status"])] += 1
        figures["notification_attempts", (state["channel"],)] += state["attempts"]
    return figures
