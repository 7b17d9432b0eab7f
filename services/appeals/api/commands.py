"""HTTP routes of the actions on an appeal: 分、办、督、访 after receipt.

Each route runs one lifecycle action in one transaction: lock the appeal, replay its
history, decide, then write state, history and outbox together (`store.journal`), as
`minsheng.commands.Commands` does for every service. Refusals
become problem+json: an illegal action 409 with the allowed ones, a late extension 409,
other rejected arguments 422; a unit key acting on another unit's appeal 403.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from appeals import lifecycle, routing
from appeals.lifecycle import AppealState, Outcome
from appeals.store import journal
from minsheng import auth
from minsheng.aggregate import IllegalTransition, LifecycleError
from minsheng.clock import Now
from minsheng.commands import ActionBody, Commands
from minsheng.db import Conn
from minsheng.events.appeals import CloseOutcome
from minsheng.events.fields import Note, Reason
from minsheng.events.satisfaction import DissatisfactionReason, Rating, SatisfactionChannel
from minsheng.inputs import Instant, Text
from minsheng.openapi import problems
from minsheng.problems import Problem
from minsheng.reference import routing_table, units
from minsheng.service import Guards
from minsheng.web import require_roles

Principal = auth.Principal


class DispatchIn(ActionBody):
    unit: Text | None = Field(default=None, description="Lead unit; the routing rule if omitted.")
    assisting_units: list[Text] = Field(default=[], description="Co-handling units (多方协调).")


class ReasonIn(ActionBody):
    reason: Reason


class ExtendIn(ReasonIn):
    days: int | None = Field(default=None, ge=1, le=60, description="More working days.")
    until: Instant | None = Field(default=None, description="Or a new deadline.")


class ResolveIn(ActionBody):
    resolution: Text = Field(min_length=1, max_length=5000)


class CallbackIn(ActionBody):
    rating: Rating
    comment: Note = ""
    channel: SatisfactionChannel = "callback"
    reason: DissatisfactionReason | None = Field(
        default=None, description="Dissatisfied only: `handling` reopens the appeal."
    )


class CloseIn(ActionBody):
    outcome: CloseOutcome = "resolved"
    note: Note = ""


def build_command_router(pool: Any, g: Guards) -> APIRouter:
    """The eight action routes; `pool` returns the live pool."""
    router = APIRouter(prefix="/v1/appeals/{appeal_id}")
    handlers = require_roles(g.any_key, "unit", "system")
    supervisor = require_roles(g.any_key, "supervisor")
    caller = require_roles(g.any_key, "operator")
    closer = require_roles(g.any_key, "operator", "supervisor")
    actions = Commands(router, pool, journal, "appeal", "appeal_id", _check_unit, _problem)

    @router.post("/dispatch", responses=problems(409))
    async def dispatch(
        appeal_id: Text,
        body: DispatchIn,
        who: Annotated[Principal, Depends(g.operator)],
        at: Now,
    ) -> dict[str, Any]:
        """派单, or re-dispatch after a return or reopen; naming a unit overrides the rule."""
        _known_units([*([body.unit] if body.unit else []), *body.assisting_units])

        def act(state: AppealState) -> Outcome:
            rule = routing.route_appeal(routing_table(), state)
            unit = body.unit or rule
            return lifecycle.dispatch(
                state,
                unit=unit,
                by=who.name,
                now=at,
                assisting_units=body.assisting_units,
                override=unit != rule,
            )

        return await actions.run(appeal_id, who, at, act)

    @router.post("/accept", responses=problems(409))
    async def accept(
        appeal_id: Text, who: Annotated[Principal, Depends(handlers)], at: Now
    ) -> dict[str, Any]:
        """签收 by the lead unit."""
        return await actions.run(
            appeal_id,
            who,
            at,
            lambda s: lifecycle.accept(s, unit=who.unit or s.unit or "", now=at),
        )

    actions.action(
        "/return",
        lifecycle.return_,
        guard=handlers,
        body=ReasonIn,
        doc="退单 with the reason; an operator re-dispatches.",
    )
    actions.action(
        "/extend",
        lifecycle.extend,
        guard=supervisor,
        body=ExtendIn,
        extra=lambda who, _: {"approved_by": who.name},
        doc="延期, approved by the calling supervisor, before the deadline.",
    )
    actions.action(
        "/resolve",
        lifecycle.resolve,
        guard=handlers,
        body=ResolveIn,
        doc="办结 with the answer to the citizen.",
    )
    actions.action(
        "/callback",
        lifecycle.callback,
        guard=caller,
        body=CallbackIn,
        doc="回访: the citizen's rating; dissatisfied with the handling reopens.",
    )
    actions.action(
        "/reopen",
        lifecycle.reopen,
        guard=supervisor,
        body=ReasonIn,
        doc="重新办理 on a supervisor's decision.",
    )
    actions.action(
        "/close",
        lifecycle.close,
        guard=closer,
        body=CloseIn,
        doc="Closes the loop: resolved, or an open appeal as duplicate, invalid, withdrawn.",
    )
    return router


async def _check_unit(who: Principal, _: Conn, state: AppealState) -> None:
    """A unit key acts only on appeals its unit leads (assisting units follow the lead)."""
    if who.role != "unit" or who.unit == state.unit:
        return
    part = (
        "assists on" if who.unit and lifecycle.is_handled_by(state, who.unit) else "has no part in"
    )
    raise Problem(
        403,
        "Forbidden",
        f"{who.unit} {part} appeal {state.id}; its lead unit is {state.unit or 'none'}",
    )


def _problem(state: AppealState, exc: LifecycleError) -> Problem:
    context: dict[str, Any] = {
        "current_state": state.status,
        "allowed_actions": lifecycle.offered_actions(state),
    }
    if isinstance(exc, IllegalTransition):
        return Problem(409, "Illegal transition", str(exc), **context)
    if isinstance(exc, lifecycle.TooLate):
        return Problem(409, "Too late", str(exc), deadline=_iso(state.deadline), **context)
    return Problem(422, "Command rejected", str(exc), **context)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _known_units(names: list[str]) -> None:
    unknown = [name for name in names if name not in units()]
    if unknown:
        raise Problem(
            422, "Unknown unit", f"unknown units: {', '.join(unknown)}", valid=list(units())
        )
