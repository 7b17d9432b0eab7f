"""HTTP routes of the four lists (四项清单) and community work days (社区工作日).

Items are posted to a community's list of a year, matched in pairs (one transaction,
both items locked in id order so two matches never deadlock), completed or withdrawn,
and rated; `GET /v1/lists` is the public listing (上墙公示), with no key. Visits are
recorded on a pairing of the reference data. Refusals are problem+json as for projects:
409 for what the state refuses (with the allowed actions), 422 for the arguments.
"""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from minsheng import auth
from minsheng.aggregate import CommandRejected, IllegalTransition, LifecycleError
from minsheng.clock import Now
from minsheng.commands import ActionBody, Commands
from minsheng.db import Conn
from minsheng.events import ListItemPosted
from minsheng.events.fields import Description, Note, Reason, Year
from minsheng.events.lists import ItemKind, ItemSource, ServiceKind
from minsheng.inputs import Text
from minsheng.openapi import problems
from minsheng.problems import Problem
from minsheng.reference import communities, pairings
from minsheng.service import Guards
from minsheng.web import require_roles
from projects import lists, visits
from projects.api.commands import EvaluationIn
from projects.store import lists as items
from projects.store import visits as pairing_store

Principal = auth.Principal


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Year
    district: Text
    street: Text | None = None
    community: Text
    kind: ItemKind
    source: ItemSource
    appeal_id: Text | None = Field(default=None, min_length=1, max_length=50)
    title: Text = Field(min_length=1, max_length=200)
    description: Description = ""


class MatchIn(ActionBody):
    with_item: Text = Field(min_length=1, description="The counterpart item's id.")
    claimed_by: Text = Field(min_length=1, max_length=200)
    due: date


class CompleteIn(ActionBody):
    completed_on: date | None = Field(default=None, description="Today if omitted.")
    note: Note = ""


class WithdrawIn(ActionBody):
    reason: Reason


class VisitIn(ActionBody):
    visited_on: date
    cadres: int = Field(ge=1, le=100_000)
    services: dict[ServiceKind, Annotated[int, Field(ge=0, le=100_000)]] = Field(default={})
    appeals_solved: int = Field(default=0, ge=0, le=100_000)
    appeal_ids: list[Annotated[Text, Field(min_length=1, max_length=50)]] = Field(
        default=[], max_length=1000
    )
    goods_value_yuan: int = Field(default=0, ge=0, le=1_000_000)
    note: Note = ""


def _posted(body: ItemIn, item_id: str) -> ListItemPosted:
    """The item as its event, after the place check (422 listing the communities)."""
    community = communities().get(body.community)
    if (
        community is None
        or community.district != body.district
        or body.street not in (None, community.street)
    ):
        raise Problem(
            422,
            "Unknown community",
            f"unknown community {body.district} > {body.street or '-'} > {body.community}",
            valid={c.name: c.district for c in communities().values()},
        )
    return ListItemPosted(
        list_item_id=item_id,
        district=body.district,
        street=body.street,
        community=body.community,
        year=body.year,
        kind=body.kind,
        source=body.source,
        appeal_id=body.appeal_id,
        title=body.title,
        description=body.description,
    )


def refusal(state: Any, exc: LifecycleError) -> Problem:
    """409 for what the state refuses, 422 for arguments; both name state and actions."""
    context: dict[str, Any] = {"current_state": getattr(state, "status", None)}
    if isinstance(state, lists.ItemState):
        context["allowed_actions"] = lists.allowed_actions(state)
    if isinstance(exc, IllegalTransition):
        return Problem(409, "Illegal transition", str(exc), **context)
    return Problem(422, "Command rejected", str(exc), **context)


async def _anyone(who: Principal, conn: Conn, state: Any) -> None:
    """Recorders of the lists act on every community's items."""


async def _own_unit(who: Principal, conn: Conn, state: visits.PairingState) -> None:
    """A unit key records only its own unit's visits."""
    if who.role == "unit" and who.unit != state.unit:
        raise Problem(403, "Forbidden", f"pairing {state.id} is {state.unit}'s, not {who.unit}")


def build_lists_router(pool: Any, g: Guards) -> APIRouter:
    """The lists' and work days' routes; `pool` returns the live pool."""
    router = APIRouter(prefix="/v1")
    recorders = require_roles(g.any_key, "operator", "supervisor", "system")
    visitors = require_roles(g.any_key, "operator", "supervisor", "system", "unit")

    @router.post("/lists/items", status_code=201, responses=problems(422))
    async def post_item(
        body: ItemIn, who: Annotated[Principal, Depends(recorders)], at: Now
    ) -> dict[str, Any]:
        """上墙公示: an item on a community's list, from a visit, a forum or an appeal."""
        async with pool().acquire() as conn:
            async with conn.transaction():
                serial = await items.next_serial(conn)
                posted = _posted(body, f"QD-{body.year}-{serial:06d}")
                try:
                    state, emitted = lists.post(posted)
                except CommandRejected as exc:
                    raise Problem(422, "Item rejected", str(exc)) from exc
                await items.insert_item(conn, posted, at)
                await items.record(conn, state, emitted, at)
            view = await items.view(conn, state.id)
        assert view is not None
        return view

    @router.get("/lists/items/{item_id}", responses=problems(404))
    async def get_item(
        item_id: Text, who: Annotated[Principal, Depends(g.viewer)]
    ) -> dict[str, Any]:
        async with pool().acquire() as conn:
            view = await items.view(conn, item_id)
        if view is None:
            raise Problem(404, "Not Found", f"no list item {item_id}")
        return view

    @router.post("/lists/items/{item_id}/match", responses=problems(404, 409, 422))
    async def match(
        item_id: Text, body: MatchIn, who: Annotated[Principal, Depends(recorders)], at: Now
    ) -> dict[str, Any]:
        """需求对资源, 项目对责任: both items matched, claimed by someone, by a day."""
        async with pool().acquire() as conn:
            async with conn.transaction():
                states = {}
                for key in sorted({item_id, body.with_item}):
                    state = await items.load_state(conn, key)
                    if state is None:
                        raise Problem(404, "Not Found", f"no list item {key}")
                    states[key] = state
                first, other = states[item_id], states.get(body.with_item, states[item_id])
                try:
                    outcomes = lists.match(
                        first, other, claimed_by=body.claimed_by, due=body.due, now=at
                    )
                except LifecycleError as exc:
                    raise refusal(first, exc) from exc
                for new, emitted in outcomes:
                    await items.record(conn, new, emitted, at)
            view = await items.view(conn, item_id)
        assert view is not None
        return view

    actions = Commands(
        APIRouter(prefix="/lists/items/{item_id}"),
        pool,
        items,
        "list item",
        "item_id",
        _anyone,
        refusal,
    )
    actions.action(
        "/complete", lists.complete, guard=recorders, body=CompleteIn, name="complete_item"
    )
    actions.action(
        "/withdraw", lists.withdraw, guard=recorders, body=WithdrawIn, name="withdraw_item"
    )
    actions.action(
        "/evaluations", lists.evaluate, guard=recorders, body=EvaluationIn, name="evaluate_item"
    )
    router.include_router(actions.router)

    @router.get("/lists")
    async def public_listing(
        community: Annotated[Text, Query(min_length=1)],
        year: Annotated[Year, Query()],
    ) -> dict[str, Any]:
        """上墙公示 (no key): a community's four lists of a year, each item with its
        source, match, claimant, due day, status and residents' ratings."""
        async with pool().acquire() as conn:
            rows = await items.listing(conn, community, year)
        public = [{k: v for k, v in row.items() if k != "updated_at"} for row in rows]
        return {
            "community": community,
            "year": year,
            "total": len(public),
            "by_status": {s: sum(r["status"] == s for r in public) for s in lists.STATUSES},
            "lists": {kind: [r for r in public if r["kind"] == kind] for kind in lists.KINDS},
        }

    @router.get("/workdays/pairings/{pairing_id}", responses=problems(404))
    async def get_pairing(
        pairing_id: Text, who: Annotated[Principal, Depends(g.viewer)], at: Now
    ) -> dict[str, Any]:
        """A pairing: its unit and community, the months visited and reported missed."""
        async with pool().acquire() as conn:
            await _know(conn, pairing_id, at)
            view = await pairing_store.view(conn, pairing_id)
        assert view is not None
        return view

    visiting = Commands(
        APIRouter(prefix="/workdays/pairings/{pairing_id}"),
        pool,
        pairing_store,
        "pairing",
        "pairing_id",
        _own_unit,
        refusal,
    )

    @visiting.router.post("/visits", status_code=201, responses=problems(403, 404, 422))
    async def record_visit(
        pairing_id: Text, body: VisitIn, who: Annotated[Principal, Depends(visitors)], at: Now
    ) -> dict[str, Any]:
        """社区工作日: the unit's visit, with cadres, services by kind, appeals solved on
        the spot (their appeal numbers where they exist) and the value of goods."""
        async with pool().acquire() as conn:
            await _know(conn, pairing_id, at)
        return await visiting.run(
            pairing_id, who, at, lambda s: visits.record_visit(s, now=at, **dict(body))
        )

    router.include_router(visiting.router)
    return router


async def _know(conn: Conn, pairing_id: str, at: datetime) -> None:
    """A pairing of the reference data, known to the service (404 for any other)."""
    pairing = pairings().get(pairing_id)
    if pairing is None:
        raise Problem(404, "Not Found", f"no pairing {pairing_id} in the reference data")
    await pairing_store.know(conn, [pairing], at)
