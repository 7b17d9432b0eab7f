"""A notification's analytics state, folded from its delivery outcomes.

The notifications service publishes one outcome per notification as a rule: delivered,
or failed after its retries. Should it publish a later outcome (a manual resend that got
through), the newest one by sequence stands, so each notification counts once.
"""

from __future__ import annotations

from datetime import datetime

from analytics.counting import Figures, Folding, State
from minsheng.events import EventData, NotificationDelivered
from minsheng.events.notifications import NotificationEvent

DELIVERED, FAILED = "delivered", "failed"


def _evolve(new: State, data: EventData, at: datetime) -> None:
    """A delivery outcome's status; its channel and attempts are labels (`Folding`)."""
    assert isinstance(data, NotificationEvent)  # admit let nothing else through
    new["status"] = DELIVERED if isinstance(data, NotificationDelivered) else FAILED


apply_notification = Folding(
    "notification", NotificationEvent, "notification_id", ("channel", "attempts"), _evolve
)


def notification_figures(state: State) -> Figures:
    """One notification, by channel and outcome, and the delivery attempts it took."""
    figures: Figures = Figures()
    if "status" in state:
        figures["notifications", (state["channel"], state["status"])] += 1
        figures["notification_attempts", (state["channel"],)] += state["attempts"]
    return figures
