"""Wiring of the appeals service: settings, runtime, routes, and the console entry point."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from fastapi import FastAPI

from appeals.api import build_router
from minsheng.logs import configure_logging
from minsheng.service import Runtime, create_service_app, guards
from minsheng.settings import Settings

SERVICE = "appeals"


class AppealsSettings(Settings):
    http_port: int = 8001


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = Runtime(SERVICE, settings or AppealsSettings(), Path(__file__).parent / "migrations")
    app = create_service_app(runtime, title="Minsheng appeals")
    g = guards(runtime)
    app.include_router(build_router(runtime.db, g.operator, g.viewer))
    app.state.runtime = runtime
    return app


def run() -> None:
    settings = AppealsSettings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )
