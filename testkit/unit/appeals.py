"""An appeal for the pure lifecycle tests, and actions on it with plausible arguments."""

from __future__ import annotations

from datetime import datetime

from appeals import lifecycle as lc
from appeals.lifecycle import Action, AppealState, Outcome
from minsheng.clock import CITY_TZ
from minsheng.events import AppealReceived
from minsheng.events.satisfaction import DissatisfactionReason, Rating

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
