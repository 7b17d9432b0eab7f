"""Wiring of the appeals service: settings, runtime, routes, and the console entry point."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from fastapi import FastAPI

from appeals.api import build_router
from appeals.api_commands import build_command_router
from appeals.clock import Clock, system_clock
from minsheng.logs import configure_logging
from minsheng.service import Runtime, create_service_app, guards
from minsheng.settings import Settings

SERVICE = "appeals"


class AppealsSettings(Settings):
    http_port: int = 8001


MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    """The app; tests may swap `app.state.clock` at any time to move time on."""
    runtime = Runtime(SERVICE, settings or AppealsSettings(), MIGRATIONS)
    app = create_service_app(runtime, title="Minsheng appeals")
    g = guards(runtime)
    app.include_router(build_router(runtime.db, g))
    app.include_router(build_command_router(runtime.db, g))
    app.state.runtime = runtime
    app.state.clock = clock
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
