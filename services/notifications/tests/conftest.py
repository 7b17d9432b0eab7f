"""The notifications app in-process (lifespan and all) against the real broker and database."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

from minsheng.clock import Clock, system_clock
from minsheng.testing.apps import service_client
from notifications.main import create_app
from notifications.settings import NotificationsSettings


def notifications_client(
    server_url: str,
    bootstrap: str,
    database_suffix: str | None = None,
    clock: Clock = system_clock,
    **settings: Any,
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The real app (migrations, relay, consumer, jobs) and a client to it."""
    return service_client(
        "notifications",
        NotificationsSettings,
        create_app,
        server_url,
        bootstrap,
        database_suffix=database_suffix,
        clock=clock,
        **settings,
    )
