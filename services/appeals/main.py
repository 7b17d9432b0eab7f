"""Wiring of the appeals service: settings, runtime, routes, and the console entry point."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from appeals import intake
from appeals.api import build_router
from appeals.api_commands import build_command_router
from appeals.api_queries import build_query_router
from appeals.open311 import build_open311_router
from appeals.timers import supervision_job
from minsheng.clock import Clock, clock_for
from minsheng.service import Runtime, create_service_app, guards, serve
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


def create_app(settings: AppealsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The app; tests may swap `app.state.clock` at any time to move time on."""
    config = settings or AppealsSettings()
    runtime = Runtime(SERVICE, config, MIGRATIONS)
    g = guards(runtime)
    return create_service_app(
        runtime,
        title="Minsheng appeals",
        clock=clock or clock_for(config.demo_clock_file),
        routers=[
            build_router(runtime.db, g),
            build_command_router(runtime.db, g),
            build_open311_router(runtime.db),
            build_query_router(runtime.db, g, config.callback_after_days),
        ],
        jobs=lambda app_clock: [
            supervision_job(app_clock, config.supervision_interval),
            intake.consumer(app_clock, topic=config.intake_topic, group=config.intake_group),
        ],
    )


def run() -> None:
    """The console entry point: `create_app` served by `minsheng.service.serve`."""
    serve(SERVICE, "appeals.main:create_app", AppealsSettings())
