"""An appeal for the HTTP tests of appeals, and an action on it through the API.

Its clock starts at `testkit.unit.appeals.T0`: "help" has 3 working days, so the
deadline is 2019-10-10, after National Day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from minsheng.events import AppealReceived
from testkit.integration.apps import command

STREET_OFFICE = "明仁街道办事处"  # where the routing rules send APPEAL
BUREAU = "市住建局"
APPEAL = {
    "title": "小区下水道堵塞",
    "category": "help",
    "district": "洮北区",
    "street": "明仁街道",
    "community": "明仁社区",
    "phone": "13812345678",
}
Headers = dict[str, str]


async def act(
    client: httpx.AsyncClient,
    appeal_id: str,
    action: str,
    body: dict[str, Any] | None = None,
    headers: Headers | None = None,
    expect: int = 200,
) -> dict[str, Any]:
    """POSTs `action` on the appeal (see `command`)."""
    return await command(client, f"/v1/appeals/{appeal_id}/{action}", body, headers, expect)


def intake_appeal(subject: str) -> AppealReceived:
    """An outside system's appeal, its case `subject`, as it arrives on intake."""
    return AppealReceived(
        appeal_id=subject,
        title="路灯不亮",
        description="明仁社区3号楼前路灯连续三晚不亮",
        category="help",
        district="洮北区",
        street="明仁街道",
        community="明仁社区",
        channel="hotline",
        received_at=datetime.now(UTC),
    )
