"""`GET /v1/appeals`: the lists operators, units and call-back staff work from.

Filters combine with AND. Pages are keyset-paginated on (received_at, id), newest first:
`next_cursor` is an opaque token of the last row's key, so a page never repeats or skips
an appeal however many arrive meanwhile. "Now" (for `overdue` and `awaiting_callback`)
is the app's injectable clock. A unit key sees only the appeals its unit leads or
assists on.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from appeals import store
from appeals.api import AppealSummary
from appeals.lifecycle import Status
from minsheng import auth
from minsheng.clock import local_day, now
from minsheng.querying import Where, decode_cursor, encode_cursor, maybe_not
from minsheng.service import Guards
from minsheng.workdays import ONE_DAY, is_working_day, start_of_day

MAX_LIMIT = 200


class AppealFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[Status] = Field(default=[], description="Any of these statuses (repeatable).")
    district: str | None = None
    category: str | None = None
    unit: str | None = Field(default=None, description="The lead unit.")
    overdue: bool | None = Field(
        default=None, description="Still open (not resolved or closed) past the deadline."
    )
    awaiting_callback: bool | None = Field(
        default=None,
        description="The call-back queue: resolved, not called back for the configured "
        "number of working days.",
    )
    received_from: AwareDatetime | None = Field(default=None, description="Inclusive.")
    received_to: AwareDatetime | None = Field(default=None, description="Exclusive.")
    cursor: str | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)


class AppealPage(BaseModel):
    items: list[AppealSummary]
    next_cursor: str | None = Field(description="Absent on the last page.")


OPEN_PAST_DEADLINE = "status NOT IN ('resolved', 'closed') AND deadline < $1"
UNCALLED = "status = 'resolved' AND rating IS NULL AND resolved_at < $1"


def build_query_router(pool: Any, g: Guards, callback_after_days: int) -> APIRouter:
    """`pool` returns the live pool; resolved appeals join the call-back queue after
    `callback_after_days` working days."""
    router = APIRouter(prefix="/v1")

    @router.get("/appeals", response_model=AppealPage)
    async def list_appeals(
        filters: Annotated[AppealFilters, Query()],
        who: Annotated[auth.Principal, Depends(g.viewer)],
        at: Annotated[datetime, Depends(now)],
    ) -> dict[str, Any]:
        where = Where()
        for column in ("district", "category", "unit"):
            if (value := getattr(filters, column)) is not None:
                where.add(f"{column} = $1", value)
        if filters.status:
            where.add("status = ANY($1::text[])", list(filters.status))
        if filters.overdue is not None:
            where.add(maybe_not(OPEN_PAST_DEADLINE, filters.overdue), at)
        if filters.awaiting_callback is not None:
            cutoff = callback_cutoff(at, callback_after_days)
            where.add(maybe_not(UNCALLED, filters.awaiting_callback), cutoff)
        if filters.received_from is not None:
            where.add("received_at >= $1", filters.received_from)
        if filters.received_to is not None:
            where.add("received_at < $1", filters.received_to)
        if who.role == "unit":
            where.add("($1 = unit OR $1 = ANY(assisting_units))", who.unit)
        if filters.cursor is not None:
            where.add("(received_at, id) < ($1, $2)", *decode_cursor(filters.cursor))
        where.params.append(filters.limit + 1)
        async with pool().acquire() as conn:
            rows = await conn.fetch(
                f"""SELECT {store.APPEAL_COLUMNS} FROM appeals WHERE {where.sql()}
                    ORDER BY received_at DESC, id DESC LIMIT ${len(where.params)}""",
                *where.params,
            )
        items = [dict(row) for row in rows[: filters.limit]]
        more = len(rows) > filters.limit
        last = items[-1] if items else None
        cursor = encode_cursor(last["received_at"], last["id"]) if more and last else None
        return {"items": items, "next_cursor": cursor}

    return router


def callback_cutoff(at: datetime, working_days: int) -> datetime:
    """Appeals resolved before this instant have waited `working_days` working days for
    their call-back: at least that many working days lie after their day, up to today."""
    day, counted = local_day(at), 0
    while counted < working_days:
        counted += is_working_day(day)
        day -= ONE_DAY
    return start_of_day(day + ONE_DAY)
