"""Wiring of the notifications service: settings, rules, directory, channels, runtime,
routes, the domain-topic consumer and the jobs; the console entry point."""

from __future__ import annotations

import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from fastapi import FastAPI

from minsheng.clock import Clock, clock_for, system_clock
from minsheng.service import Job, Runtime, serve, service_app
from minsheng.topics import APPEALS, PROJECTS
from notifications import jobs
from notifications.api import build_router
from notifications.channels import Channel
from notifications.channels.contacts import AppealsContacts
from notifications.channels.email import EmailChannel
from notifications.channels.posting import Poster
from notifications.channels.sms import HttpGateway, SmsChannel
from notifications.channels.webhook import SecretsError, WebhookChannel, load_secrets
from notifications.consumers import domain_consumer
from notifications.delivery import Policy
from notifications.directory import Directory, DirectoryError, load_directory
from notifications.messages import template_names
from notifications.quiet import QuietHours
from notifications.rules import RulesError, RuleSet, load_rules
from notifications.settings import NotificationsSettings

SERVICE = "notifications"
MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Configuration:
    """What the files say, checked before the service starts."""

    rules: RuleSet
    directory: Directory
    secrets: dict[str, str]


def configuration(config: NotificationsSettings) -> Configuration:
    """Loads and checks the rules, the directory and the webhook secrets; raises
    RulesError, DirectoryError or SecretsError naming what is wrong."""
    rules = load_rules(config.rules_file, template_names())
    directory = load_directory(config.directory_file)
    generate = config.webhook_secrets_file is None  # development: invent what is missing
    secrets = load_secrets(config.secrets_path(), directory.webhook_recipients(), generate=generate)
    return Configuration(rules, directory, secrets)


def channels(
    config: NotificationsSettings, secrets: dict[str, str]
) -> tuple[Callable[[], Awaitable[None]], dict[str, Channel]]:
    """The senders, and what closes their connections. Their times (webhook-timestamp,
    Retry-After) are the wire's, so real time even on a demo platform's compressed clock."""
    client = aiohttp.ClientSession(  # keep-alive, at most a worker's batch of connections
        timeout=aiohttp.ClientTimeout(total=config.attempt_timeout),
        connector=aiohttp.TCPConnector(limit=config.worker_batch),
    )
    poster = Poster(timeout=config.attempt_timeout, limit=config.worker_batch)
    contacts = AppealsContacts(client, config.appeals_url, config.contact_key())
    gateway = HttpGateway(client, config.sms_gateway_url, config.sms_gateway_token, system_clock)

    async def close() -> None:
        await poster.close()
        await client.close()

    return close, {
        "webhook": WebhookChannel(poster, secrets, system_clock),
        "email": EmailChannel(config),
        "sms": SmsChannel(contacts, gateway),
    }


def delivery_worker(
    config: NotificationsSettings, secrets: dict[str, str], quiet: QuietHours, clock: Clock
) -> Job:
    async def delivery_worker(runtime: Runtime) -> None:
        close, senders = channels(config, secrets)
        worker = jobs.Worker(
            clock=clock,
            channels=senders,
            policy=Policy(config.retry_base, config.retry_max, config.max_attempts),
            attempt_timeout=config.attempt_timeout,
            batch=config.worker_batch,
            interval=config.worker_interval,
            quiet=quiet,
            rnd=random.Random(),
        )
        try:
            await worker.run(runtime)
        finally:
            await close()

    return delivery_worker


def create_app(
    settings: NotificationsSettings | None = None, clock: Clock | None = None
) -> FastAPI:
    """The app; tests may swap `app.state.clock` at any time to move time on."""
    config = settings or NotificationsSettings()
    loaded = configuration(config)
    runtime = Runtime(SERVICE, config, MIGRATIONS)
    quiet = QuietHours(config.quiet_start, config.quiet_end)
    return service_app(
        runtime,
        title="Minsheng notifications",
        clock=clock or clock_for(config.demo_clock_file),
        routers=lambda pool, g: [
            build_router(pool, g, loaded.directory, ack_timeout=config.ack_timeout)
        ],
        jobs=lambda app_clock: [
            domain_consumer(
                app_clock,
                topics={config.appeals_topic: APPEALS, config.projects_topic: PROJECTS},
                group=config.consumer_group,
                rules=loaded.rules,
                directory=loaded.directory,
                quiet=quiet,
            ),
            delivery_worker(config, loaded.secrets, quiet, app_clock),
            jobs.escalation_job(
                app_clock,
                loaded.directory,
                ack_timeout=config.ack_timeout,
                interval=config.escalation_interval,
            ),
            jobs.pending_gauge(),
        ],
    )


def run() -> None:
    """The console entry point: refuses to start on a bad rules, directory or secrets
    file (saying what is wrong), else serves `create_app`."""
    settings = NotificationsSettings()
    try:
        configuration(settings)
    except (RulesError, DirectoryError, SecretsError) as exc:
        print(f"minsheng-notifications: {exc}", file=sys.stderr)
        sys.exit(2)
    serve(SERVICE, "notifications.main:create_app", settings)


if __name__ == "__main__":
    run()
