"""Wiring of the projects service: settings, runtime, routes, and the console entry point."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from minsheng.clock import Clock, clock_for
from minsheng.service import Runtime, create_service_app, guards, serve
from minsheng.settings import Settings
from minsheng.topics import INTAKE_PROJECTS
from projects import consumers
from projects.api import routers
from projects.jobs import accountability_job, workday_job

SERVICE = "projects"
MIGRATIONS = Path(__file__).parent / "migrations"


class ProjectsSettings(Settings):
    http_port: int = 8002
    intake_topic: str = INTAKE_PROJECTS  # other systems' milestones and evaluations
    intake_group: str = consumers.GROUP


def create_app(settings: ProjectsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The app; tests may swap `app.state.clock` at any time to move time on."""
    config = settings or ProjectsSettings()
    runtime = Runtime(SERVICE, config, MIGRATIONS)
    g = guards(runtime)
    return create_service_app(
        runtime,
        title="Minsheng projects",
        clock=clock or clock_for(config.demo_clock_file),
        routers=routers(runtime.db, g),
        jobs=lambda app_clock: [
            accountability_job(app_clock, config.timer_interval),
            workday_job(app_clock, config.timer_interval),
            consumers.consumer(app_clock, topic=config.intake_topic, group=config.intake_group),
        ],
    )


def run() -> None:
    """The console entry point: `create_app` served by `minsheng.service.serve`."""
    serve(SERVICE, "projects.main:create_app", ProjectsSettings())
