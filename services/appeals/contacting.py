"""Who may read a citizen's phone number, and for which appeal: a pure rule.

Only those who must call the citizen: the notifications service (role `system`, which
sends SMS); an operator doing the call-back (回访) of an appeal that is waiting for one;
and the lead unit of an appeal it has in hand (dispatched to it or accepted). Anyone
else is refused, and so is a role reading outside these appeals.
"""

from __future__ import annotations

from dataclasses import dataclass

from appeals.lifecycle import Status
from minsheng.auth import Principal

HANDLING: tuple[Status, ...] = ("dispatched", "accepted")  # the lead unit has it in hand
CALLING_BACK: tuple[Status, ...] = ("resolved",)  # the statuses a call-back is made in


@dataclass(frozen=True)
class Holder:
    """The appeal a lookup is made for, as far as the rule needs it."""

    appeal_id: str
    status: Status
    unit: str | None


def refusal(who: Principal, named: str | None, appeal: Holder | None) -> str | None:
    """None when `who` may read the contact for the appeal `named` (`appeal`: that appeal,
    None when it does not have this contact), else why not. Only `system` may leave the
    appeal unnamed (the latest appeal of the contact is then recorded)."""
    if who.role == "system":
        return None
    if who.role in ("operator", "unit") and named is None:
        return "name the appeal the contact is read for (appeal_id)"
    if who.role == "operator":
        if appeal is not None and appeal.status in CALLING_BACK:
            return None
        return "an operator reads a contact only for the call-back of a resolved appeal"
    if who.role == "unit":
        if appeal is not None and appeal.unit == who.unit and appeal.status in HANDLING:
            return None
        return "a unit reads a contact only of an appeal it leads and has in hand"
    return f"role {who.role!r} may not read contacts"
