"""Wiring of the notifications service: settings, runtime, routes, consumer, jobs."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from minsheng.clock import Clock, system_clock
from minsheng.service import Runtime, create_service_app, serve
from notifications.settings import NotificationsSettings

SERVICE = "notifications"
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: NotificationsSettings | None = None, clock: Clock = system_clock
) -> FastAPI:
    """The app; tests may swap `app.state.clock` at any time to move time on."""
    config = settings or NotificationsSettings()
    runtime = Runtime(SERVICE, config, MIGRATIONS)
    return create_service_app(runtime, title="Minsheng notifications", clock=clock)


def run() -> None:
    """The console entry point: `create_app` served by `minsheng.service.serve`."""
    serve(SERVICE, "notifications.main:create_app", NotificationsSettings())
