"""A service's app in-process (lifespan and all) with an HTTP client, for its tests.

Appeals and projects run their real app the same way (migrations, relay, jobs, a
database of its own per use); only the settings class and the app factory differ.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar

import asyncpg
import httpx
from fastapi import FastAPI

from appeals.main import AppealsSettings
from appeals.main import create_app as create_appeals_app
from minsheng import auth
from minsheng.clock import Clock, system_clock
from minsheng.kafka import KafkaAccess
from minsheng.settings import Settings
from notifications.main import create_app as create_notifications_app
from notifications.settings import NotificationsSettings
from projects.main import ProjectsSettings
from projects.main import create_app as create_projects_app
from testkit.integration.helpers import grant_key

DEV_KEY = "test-operator-key"  # the operator key every test app registers at start-up

S = TypeVar("S", bound=Settings)


@asynccontextmanager
async def service_client(
    service: str,
    settings_type: Callable[..., S],
    create_app: Callable[[S, Clock], FastAPI],
    server_url: str,
    kafka: KafkaAccess,
    /,
    database_suffix: str | None = None,
    clock: Clock = system_clock,
    **settings: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the real app with its lifespan, and a client to it (`DEV_KEY` by default).

    Each use gets a database of its own, so tests never see each other's rows, unless it
    names a `database_suffix` (several instances of the service on one database). A
    `clock` given here is the app's from the start, before its jobs first run.
    """
    config = settings_type(
        database_url=server_url,
        database_suffix=database_suffix or f"_{uuid.uuid4().hex[:10]}",
        **kafka.settings(),
        dev_api_key=DEV_KEY,
        outbox_poll_interval=0.2,
        **settings,
    )
    app = create_app(config, clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=f"http://{service}",
            headers={"Authorization": f"Bearer {DEV_KEY}"},
        ) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client


def app_pool(client: httpx.AsyncClient) -> asyncpg.Pool:
    """The database pool of the app behind a `service_client`."""
    return client.app.state.runtime.db()  # type: ignore[attr-defined, no-any-return]


async def command(
    client: httpx.AsyncClient,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> dict[str, Any]:
    """POSTs a command route; asserts the status (a problem+json document when an error is
    expected) and returns the body."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == expect, response.text
    if expect >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    result: dict[str, Any] = response.json()
    return result


async def grant(
    client: httpx.AsyncClient, role: auth.Role, unit: str | None = None, name: str = ""
) -> dict[str, str]:
    """A fresh key of `role` in the app's database, as an Authorization header."""
    return await grant_key(app_pool(client), role, unit, name)


# The real app of each service (migrations, relay, jobs) and a client to it:
# `appeals_client(server_url, kafka, database_suffix=None, clock=..., **settings)`.
appeals_client = partial(service_client, "appeals", AppealsSettings, create_appeals_app)
projects_client = partial(service_client, "projects", ProjectsSettings, create_projects_app)
notifications_client = partial(
    service_client, "notifications", NotificationsSettings, create_notifications_app
)
