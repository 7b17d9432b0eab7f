"""The appeals app in-process (lifespan and all) against the real broker and database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from appeals.main import AppealsSettings, create_app

DEV_KEY = "test-operator-key"


@asynccontextmanager
async def appeals_client(server_url: str, bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the real app (migrations, relay) with the lifespan, and an HTTP client to it.

    Each use gets a database of its own, so tests never see each other's appeals.
    """
    settings = AppealsSettings(
        database_url=server_url,
        database_suffix=f"_{uuid.uuid4().hex[:10]}",
        kafka_bootstrap=bootstrap,
        dev_api_key=DEV_KEY,
        outbox_poll_interval=0.2,
    )
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://appeals",
            headers={"Authorization": f"Bearer {DEV_KEY}"},
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
