"""HTTP routes of the notifications service: Alertmanager's webhook, the deliveries.

`POST /v1/alertmanager` takes Alertmanager's webhook (payload version 4) with a key of
role `system`; each alert acts once per (fingerprint, status, startsAt). Deliveries are
listed newest first with keyset cursors; a unit key sees only its unit's. Operators
retry a failed delivery; whoever was paged acknowledges the page by any of its
deliveries, which stops the escalation.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from minsheng import auth
from minsheng.clock import Now
from minsheng.db import Conn
from minsheng.inputs import Instant, Text
from minsheng.openapi import problems
from minsheng.problems import Problem
from minsheng.querying import Where
from minsheng.service import Guards
from minsheng.web import require_roles
from notifications import alerting, pager
from notifications.directory import Directory
from notifications.store import deliveries, pages, queries

MAX_LIMIT = 200
Pool = Callable[[], asyncpg.Pool]


class DeliveryFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["pending", "delivered", "failed"] | None = None
    channel: Literal["webhook", "email", "sms"] | None = None
    recipient: Text | None = Field(default=None, description="A directory id or masked phone.")
    event_type: Text | None = Field(default=None, description="e.g. AppealDispatched.")
    appeal_id: Text | None = None
    project_id: Text | None = None
    since: Instant | None = Field(default=None, description="Created at or after.")
    cursor: Text | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)


class DeliverySummary(BaseModel):
    """A delivery as lists show it (its message's title, not its body)."""

    id: str = Field(description="Also the webhook-id and the notification's id in events.")
    status: Literal["pending", "delivered", "failed"]
    channel: str
    recipient: str = Field(description="The directory id, or a citizen's masked phone.")
    recipient_kind: str
    rule: str
    event_type: str
    event_id: uuid.UUID
    event_time: datetime
    subject_kind: Literal["appeal", "project", "alert"]
    subject_id: str
    page_id: str | None
    title: str
    attempts: int
    next_attempt_at: datetime
    deferred_until: datetime | None = Field(description="Held by quiet hours until then.")
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliverySummary]
    next_cursor: str | None = Field(description="None on the last page.")


class Attempt(BaseModel):
    number: int
    at: datetime
    result: Literal["delivered", "retry", "failed", "disabled"]
    response_code: int | None
    error: str | None
    duration_ms: int


class PageState(BaseModel):
    id: str
    alertname: str
    chain: list[str] = Field(description="Who is paged in turn.")
    step: int = Field(description="The position in the chain paged last.")
    acked_at: datetime | None
    acked_by: str | None
    resolved_at: datetime | None
    escalate_at: datetime | None


class DeliveryOut(DeliverySummary):
    attempts_made: int
    body: str
    payload: dict[str, Any] = Field(description="The webhook body (for every channel).")
    attempts: list[Attempt]  # type: ignore[assignment]
    page: PageState | None


class Acked(BaseModel):
    page_id: str
    acked_at: datetime
    acked_by: str
    step: int
    chain: list[str]
    resolved_at: datetime | None


class Retried(BaseModel):
    id: str
    status: Literal["pending"]


class AlertsTaken(BaseModel):
    alerts: int = Field(description="Alerts in the notification.")
    new: int = Field(description="Alerts acted on; the others were seen before.")
    deliveries: list[str]


T = TypeVar("T")


def no_delivery(delivery_id: str) -> Problem:
    """The 404 of every route that names a delivery it cannot find (or may not show)."""
    return Problem(404, "Not Found", f"no delivery {delivery_id}")


def build_router(pool: Pool, g: Guards, directory: Directory, *, ack_timeout: float) -> APIRouter:
    router = APIRouter(prefix="/v1")

    async def changed(change: Callable[[Conn], Awaitable[T | None]], delivery_id: str) -> T:
        """`change` of one delivery in a transaction; its 404 when it finds none."""
        async with pool().acquire() as conn, conn.transaction():
            found = await change(conn)
        if found is None:
            raise no_delivery(delivery_id)
        return found

    def delivery_action(
        action: str, answer: type[BaseModel], tag: str
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """`POST /v1/deliveries/{id}/<action>`: 404 without the delivery, 409 when the
        delivery is not in a state the action applies to."""
        return router.post(
            f"/deliveries/{{delivery_id}}/{action}",
            response_model=answer,
            tags=[tag],
            responses=problems(409),
        )

    system = require_roles(g.any_key, "system")
    Operator = Annotated[auth.Principal, Depends(g.operator)]

    @router.post("/alertmanager", response_model=AlertsTaken, tags=["alerts"])
    async def alertmanager(
        body: pager.Notification, _: Annotated[auth.Principal, Depends(system)], at: Now
    ) -> dict[str, Any]:
        taken, ids = 0, []
        for alert in body.alerts:
            async with pool().acquire() as conn, conn.transaction():
                planned = await alerting.take(conn, alert, directory, at, ack_timeout)
            if planned is not None:
                taken += 1
                ids += [d.id for d in planned]
        return {"alerts": len(body.alerts), "new": taken, "deliveries": ids}

    @router.get("/deliveries", response_model=DeliveryPage, tags=["deliveries"])
    async def list_deliveries(
        filters: Annotated[DeliveryFilters, Query()],
        who: Annotated[auth.Principal, Depends(g.viewer)],
    ) -> dict[str, Any]:
        where = Where()
        for column in ("status", "channel", "recipient", "event_type"):
            if (value := getattr(filters, column)) is not None:
                where.add(f"{column} = $1", value)
        for kind in ("appeal", "project"):
            if (value := getattr(filters, f"{kind}_id")) is not None:
                where.add("subject_kind = $1 AND subject_id = $2", kind, value)
        if filters.since is not None:
            where.add("created_at >= $1", filters.since)
        if who.role == "unit":
            contact = directory.unit(who.unit or "")
            where.add("recipient = $1", contact.id if contact else "")
        return await queries.list_deliveries(pool(), where, filters.cursor, filters.limit)

    @router.get("/deliveries/{delivery_id}", response_model=DeliveryOut, tags=["deliveries"])
    async def get_delivery(
        delivery_id: Text, who: Annotated[auth.Principal, Depends(g.viewer)]
    ) -> dict[str, Any]:
        found = await queries.get_delivery(pool(), delivery_id)
        contact = directory.unit(who.unit or "") if who.role == "unit" else None
        if found is None or (
            who.role == "unit" and (contact is None or found["recipient"] != contact.id)
        ):
            raise no_delivery(delivery_id)
        found["attempts_made"] = found.pop("attempts")
        found["attempts"] = found.pop("attempt_log")
        return found

    @delivery_action("retry", Retried, "deliveries")
    async def retry(delivery_id: Text, _: Operator, at: Now) -> dict[str, Any]:
        before = await changed(lambda conn: deliveries.retry(conn, delivery_id, at), delivery_id)
        if before != "failed":
            raise Problem(
                409,
                "Not failed",
                f"delivery {delivery_id} is {before}; only a failed delivery is retried",
            )
        return {"id": delivery_id, "status": "pending"}

    @delivery_action("ack", Acked, "alerts")
    async def ack(delivery_id: Text, who: Operator, at: Now) -> dict[str, Any]:
        page = await changed(
            lambda conn: pages.acknowledge(conn, delivery_id, who.name, at), delivery_id
        )
        if page["page_id"] is None:
            raise Problem(409, "Not a page", f"delivery {delivery_id} is not a page")
        return page

    return router
