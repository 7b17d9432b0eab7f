"""Wiring of the appeals service: settings, runtime, routes, and the console entry point."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from appeals import consumers
from appeals.api import routers
from appeals.jobs import supervision_job
from minsheng.clock import Clock, clock_for
from minsheng.edge import TokenBucket
from minsheng.service import Runtime, serve, service_app
from minsheng.settings import Settings
from minsheng.topics import INTAKE_APPEALS

SERVICE = "appeals"


class AppealsSettings(Settings):
    http_port: int = 8001
    intake_topic: str = INTAKE_APPEALS  # other systems' appeals (tests: a fresh topic)
    intake_group: str = consumers.GROUP
    callback_after_days: int = Field(default=1, ge=0, description="Working days to the 回访 queue.")
    open311_posts_per_minute: float = Field(
        default=30.0, gt=0, description="Open311 POSTs one API key may make a minute, sustained."
    )
    open311_posts_burst: int = Field(
        default=10, ge=1, description="Open311 POSTs one API key may make at once."
    )


MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: AppealsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The app; tests may swap `app.state.clock` at any time to move time on."""
    config = settings or AppealsSettings()
    return service_app(
        Runtime(SERVICE, config, MIGRATIONS),
        title="Minsheng appeals",
        clock=clock or clock_for(config.demo_clock_file),
        routers=lambda db, g: routers(
            db,
            g,
            callback_after_days=config.callback_after_days,
            open311_posts=TokenBucket(
                config.open311_posts_per_minute / 60, config.open311_posts_burst
            ),
        ),
        jobs=lambda app_clock: [
            supervision_job(app_clock, config.timer_interval),
            consumers.consumer(app_clock, topic=config.intake_topic, group=config.intake_group),
        ],
    )


def run() -> None:
    """The console entry point: `create_app` served by `minsheng.service.serve`."""
    serve(SERVICE, "appeals.main:create_app", AppealsSettings())
