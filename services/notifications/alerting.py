"""Taking one alert from Alertmanager, in the caller's transaction: record it once, open
or resolve its page, and insert the deliveries `pager` plans for it."""

from __future__ import annotations

from datetime import datetime, timedelta

from minsheng.db import Conn
from notifications import pager
from notifications.directory import Directory
from notifications.fanout import NewDelivery, Target
from notifications.store import deliveries, pages


async def take(
    conn: Conn, alert: pager.Alert, directory: Directory, at: datetime, ack_timeout: float
) -> list[NewDelivery] | None:
    """The deliveries inserted for the alert; None if it was seen before."""
    if not await pages.first_sighting(conn, alert, at):
        return None
    planned = await _plan(conn, alert, directory, at, ack_timeout)
    await deliveries.insert_deliveries(conn, planned, at)
    return planned


async def _plan(
    conn: Conn, alert: pager.Alert, directory: Directory, at: datetime, ack_timeout: float
) -> list[NewDelivery]:
    if alert.status == "firing" and alert.critical:
        chain = directory.chain(at)
        page = pager.page_id(alert)
        escalate_at = at + timedelta(seconds=ack_timeout) if len(chain) > 1 else None
        await pages.open_page(conn, page, alert, chain, escalate_at, at)
        first = oncall(directory, chain[0])
        return pager.notify(alert, [first], rule="page-critical", now=at, page=page)
    if alert.status == "firing":
        return pager.notify(alert, [supervisors(directory)], rule="alert-warning", now=at)
    paged = await pages.resolve_page(conn, alert, at)
    if paged is not None:  # everyone who was paged hears that it is over
        told = [oncall(directory, p) for p in paged.chain[: paged.step + 1]]
    elif alert.critical:
        told = [oncall(directory, directory.on_call(at).id)]
    else:
        told = [supervisors(directory)]
    return pager.notify(alert, told, rule="alert-resolved", now=at)


def oncall(directory: Directory, person: str) -> Target:
    return Target.of("oncall", directory.person(person))


def supervisors(directory: Directory) -> Target:
    return Target.of("supervisors", directory.office("supervisors"))
