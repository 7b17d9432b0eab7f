"""Wiring of the appeals service: settings, runtime, routes, and the console entry point."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import Field

from appeals import intake
from appeals.api import build_router
from appeals.api_commands import build_command_router
from appeals.api_queries import build_query_router
from appeals.clock import Clock, system_clock
from appeals.open311 import build_open311_router
from appeals.timers import supervision_job
from minsheng.logs import logging_config
from minsheng.service import Runtime, create_service_app, guards
from minsheng.settings import Settings
from minsheng.topics import INTAKE_APPEALS

SERVICE = "appeals"


class AppealsSettings(Settings):
    http_port: int = 8001
    intake_topic: str = INTAKE_APPEALS  # other systems' appeals (tests: a fresh topic)
    intake_group: str = intake.GROUP
    supervision_interval: float = Field(
        default=5.0, gt=0, description="Seconds between 督办 ticks."
    )
    callback_after_days: int = Field(default=1, ge=0, description="Working days to the 回访 queue.")


MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: AppealsSettings | None = None, clock: Clock = system_clock) -> FastAPI:
    """The app; tests may swap `app.state.clock` at any time to move time on."""
    config = settings or AppealsSettings()
    runtime = Runtime(SERVICE, config, MIGRATIONS)
    app = create_service_app(runtime, title="Minsheng appeals")
    g = guards(runtime)
    app.include_router(build_router(runtime.db, g))
    app.include_router(build_command_router(runtime.db, g))
    app.include_router(build_open311_router(runtime.db))
    app.include_router(build_query_router(runtime.db, g, config.callback_after_days))
    runtime.jobs.append(supervision_job(lambda: app.state.clock(), config.supervision_interval))
    runtime.jobs.append(
        intake.consumer(
            lambda: app.state.clock(), topic=config.intake_topic, group=config.intake_group
        )
    )
    app.state.runtime = runtime
    app.state.clock = clock
    return app


def run() -> None:
    """Serves `create_app` with `MINSHENG_HTTP_WORKERS` processes (an import string, so
    uvicorn can start several); the relay and timers are safe to run in each."""
    settings = AppealsSettings()
    uvicorn.run(
        "appeals.main:create_app",
        factory=True,
        workers=settings.http_workers,
        host=settings.http_host,
        port=settings.http_port,
        log_config=logging_config(SERVICE, settings.log_level, settings.log_format),
        access_log=False,
    )
