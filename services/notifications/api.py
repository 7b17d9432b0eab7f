"""HTTP routes of the notifications service: Alertmanager's webhook, the deliveries.

`POST /v1/alertmanager` takes Alertmanager's webhook (payload version 4) with a key of
role `system`; each alert acts once per (fingerprint, status, startsAt). Deliveries are
listed newest first with keyset cursors; a unit key sees only its unit's. Operators
retry a failed delivery; whoever was paged acknowledges the page by any of its
deliveries, which stops the escalation.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from minsheng import auth
from minsheng.clock import now
from minsheng.db import Conn
from minsheng.problems import Problem
from minsheng.querying import Where, decode_cursor, encode_cursor
from minsheng.service import Guards
from minsheng.web import require_roles
from notifications import pager
from notifications.directory import Directory
from notifications.fanout import NewDelivery, Target
from notifications.store import deliveries, pages, queries

MAX_LIMIT = 200
Pool = Callable[[], asyncpg.Pool]


class DeliveryFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["pending", "delivered", "failed"] | None = None
    channel: Literal["webhook", "email", "sms"] | None = None
    recipient: str | None = Field(default=None, description="A directory id or masked phone.")
    event_type: str | None = Field(default=None, description="e.g. AppealDispatched.")
    appeal_id: str | None = None
    project_id: str | None = None
    since: AwareDatetime | None = Field(default=None, description="Created at or after.")
    cursor: str | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)


class AlertsTaken(BaseModel):
    alerts: int = Field(description="Alerts in the notification.")
    new: int = Field(description="Alerts acted on; the others were seen before.")
    deliveries: list[str]


def build_router(pool: Pool, g: Guards, directory: Directory, *, ack_timeout: float) -> APIRouter:
    router = APIRouter(prefix="/v1")
    system = require_roles(g.any_key, "system")

    @router.post("/alertmanager", response_model=AlertsTaken, tags=["alerts"])
    async def alertmanager(
        body: pager.Notification,
        _: Annotated[auth.Principal, Depends(system)],
        at: Annotated[datetime, Depends(now)],
    ) -> dict[str, Any]:
        taken, ids = 0, []
        for alert in body.alerts:
            async with pool().acquire() as conn, conn.transaction():
                if not await pages.first_sighting(conn, alert, at):
                    continue
                planned = await _alert_deliveries(conn, alert, at)
                await deliveries.insert_deliveries(conn, planned, at)
            taken += 1
            ids += [d.id for d in planned]
        return {"alerts": len(body.alerts), "new": taken, "deliveries": ids}

    async def _alert_deliveries(conn: Conn, alert: pager.Alert, at: datetime) -> list[NewDelivery]:
        if alert.status == "firing" and alert.critical:
            chain = directory.chain(at)
            page = pager.page_id(alert)
            escalate_at = at + timedelta(seconds=ack_timeout) if len(chain) > 1 else None
            await pages.open_page(conn, page, alert, chain, escalate_at, at)
            first = _oncall(chain[0])
            return pager.notify(alert, [first], rule="page-critical", now=at, page=page)
        if alert.status == "firing":
            return pager.notify(alert, [_supervisors()], rule="alert-warning", now=at)
        paged = await pages.resolve_page(conn, alert, at)
        if paged is not None:
            told = [_oncall(p) for p in paged.chain[: paged.step + 1]]
        elif alert.critical:
            told = [_oncall(directory.on_call(at).id)]
        else:
            told = [_supervisors()]
        return pager.notify(alert, told, rule="alert-resolved", now=at)

    def _oncall(person: str) -> Target:
        return Target.of("oncall", directory.person(person))

    def _supervisors() -> Target:
        return Target.of("supervisors", directory.office("supervisors"))

    @router.get("/deliveries", tags=["deliveries"])
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
        if filters.cursor is not None:
            where.add("(created_at, id) < ($1, $2)", *decode_cursor(filters.cursor))
        rows = await queries.list_deliveries(pool(), where, filters.limit + 1)
        items = rows[: filters.limit]
        more = len(rows) > filters.limit
        cursor = encode_cursor(items[-1]["created_at"], items[-1]["id"]) if more else None
        return {"items": items, "next_cursor": cursor}

    @router.get("/deliveries/{delivery_id}", tags=["deliveries"])
    async def get_delivery(
        delivery_id: str, who: Annotated[auth.Principal, Depends(g.viewer)]
    ) -> dict[str, Any]:
        found = await queries.get_delivery(pool(), delivery_id)
        contact = directory.unit(who.unit or "") if who.role == "unit" else None
        if found is None or (
            who.role == "unit" and (contact is None or found["recipient"] != contact.id)
        ):
            raise Problem(404, "Not Found", f"no delivery {delivery_id}")
        found["attempts_made"] = found.pop("attempts")
        found["attempts"] = found.pop("attempt_log")
        return found

    @router.post("/deliveries/{delivery_id}/retry", tags=["deliveries"])
    async def retry(
        delivery_id: str,
        _: Annotated[auth.Principal, Depends(g.operator)],
        at: Annotated[datetime, Depends(now)],
    ) -> dict[str, Any]:
        async with pool().acquire() as conn, conn.transaction():
            before = await deliveries.retry(conn, delivery_id, at)
        if before is None:
            raise Problem(404, "Not Found", f"no delivery {delivery_id}")
        if before != "failed":
            raise Problem(
                409,
                "Not failed",
                f"delivery {delivery_id} is {before}; only a failed delivery is retried",
            )
        return {"id": delivery_id, "status": "pending"}

    @router.post("/deliveries/{delivery_id}/ack", tags=["alerts"])
    async def ack(
        delivery_id: str,
        who: Annotated[auth.Principal, Depends(g.operator)],
        at: Annotated[datetime, Depends(now)],
    ) -> dict[str, Any]:
        async with pool().acquire() as conn, conn.transaction():
            page = await pages.acknowledge(conn, delivery_id, who.name, at)
        if page is None:
            raise Problem(404, "Not Found", f"no delivery {delivery_id}")
        if page["page_id"] is None:
            raise Problem(409, "Not a page", f"delivery {delivery_id} is not a page")
        return page

    return router
