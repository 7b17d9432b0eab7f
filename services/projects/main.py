"""Wiring of the projects service: settings, runtime, routes, and the console entry point."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import Field

from minsheng.clock import Clock, system_clock
from minsheng.logs import configure_logging
from minsheng.service import Runtime, create_service_app, guards
from minsheng.settings import Settings
from minsheng.topics import INTAKE_PROJECTS
from projects import intake
from projects.api import build_router
from projects.api_commands import build_command_router
from projects.timers import accountability_job

SERVICE = "projects"
MIGRATIONS = Path(__file__).parent / "migrations"


class ProjectsSettings(Settings):
    http_port: int = 8002
    intake_topic: str = INTAKE_PROJECTS  # other systems' milestones and evaluations
    intake_group: str = intake.GROUP
    timer_interval: float = Field(
        default=5.0, gt=0, description="Seconds between ticks of the milestone/notice timers."
    )


def create_app(settings: ProjectsSettings | None = None, clock: Clock = system_clock) -> FastAPI:
    """The app; tests may swap `app.state.clock` at any time to move time on."""
    config = settings or ProjectsSettings()
    runtime = Runtime(SERVICE, config, MIGRATIONS)
    app = create_service_app(runtime, title="Minsheng projects")
    g = guards(runtime)
    app.include_router(build_router(runtime.db, g))
    app.include_router(build_command_router(runtime.db, g))
    runtime.jobs.append(accountability_job(lambda: app.state.clock(), config.timer_interval))
    runtime.jobs.append(
        intake.consumer(
            lambda: app.state.clock(), topic=config.intake_topic, group=config.intake_group
        )
    )
    app.state.runtime = runtime
    app.state.clock = clock
    return app


def run() -> None:
    settings = ProjectsSettings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )
