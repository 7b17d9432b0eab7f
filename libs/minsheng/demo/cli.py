"""`minsheng-demo` (`make demo`): run the simulated city against the platform of `make up`.

    minsheng-demo [--days 3] [--speed 200] [--rate 40] [--projects 20] [--seed 1]

`--speed` is simulated seconds per real second (200: a day in seven minutes), `--rate` the
appeals per simulated hour at the busiest hour of a working day. The platform's clock is
compressed for the run through the anchor file `make up` points every service at
(`MINSHENG_DEMO_CLOCK_FILE`); afterwards it runs at normal speed again, from where the demo
left it (never backwards; `make clean` resets it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime, timedelta

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from minsheng.clock import CITY_TZ, DEMO_CLOCK_NAME, Anchor, read_anchor, write_anchor
from minsheng.demo import city
from minsheng.demo.driver import (
    City,
    Keys,
    Urls,
    bad_outside_event,
    create_key,
    platform_ready,
)
from minsheng.platform.cli import DEV_KEY_FILE
from minsheng.platform.kafka import DEV_OUTSIDE, local_access
from minsheng.settings import Settings
from minsheng.workdays import is_working_day

TICK = 0.25  # real seconds between two steps of the simulation


def start_of_demo(now: datetime) -> datetime:
    """Now, if it is office hours of a working day in the city; else the next 08:00 of one
    (the clock may jump forward, never back)."""
    local = now.astimezone(CITY_TZ)
    if is_working_day(local.date()) and 8 <= local.hour < 17:
        return now
    day = local.date() + timedelta(days=0 if local.hour < 8 else 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 8, tzinfo=CITY_TZ)


def _dev_key_file(settings: Settings) -> str | None:
    """The development operator key `make up` wrote (read only: a new one would be unknown)."""
    path = settings.data_dir / DEV_KEY_FILE
    return path.read_text().strip() if path.exists() else None


async def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    urls = Urls(args.appeals_url, args.projects_url, args.analytics_url)
    if missing := await platform_ready(urls):
        console.print(f"[red]not answering: {', '.join(missing)}[/] - start the platform: make up")
        return 2
    clock_file = settings.data_dir.resolve() / DEMO_CLOCK_NAME
    operator = settings.dev_api_key or _dev_key_file(settings)
    if operator is None:
        console.print("[red]no operator key: set MINSHENG_DEV_API_KEY, or run make up first[/]")
        return 2
    keys = Keys(
        operator=operator,
        appeals_system=await create_key("appeals", "system"),
        appeals_supervisor=await create_key("appeals", "supervisor"),
        projects_system=await create_key("projects", "system"),
        projects_supervisor=await create_key("projects", "supervisor"),
    )
    held = read_anchor(clock_file)
    platform_now = held.at(time.time()) if held else datetime.now(CITY_TZ)
    start = start_of_demo(platform_now)
    end = start + timedelta(days=args.days)
    anchor = Anchor(time.time(), start, args.speed)
    write_anchor(clock_file, anchor)
    behaviour = city.Behaviour(late_district=args.late_district)
    async with httpx.AsyncClient(timeout=10) as client:
        town = City(client, urls, keys, seed=args.seed, peak_rate=args.rate, behaviour=behaviour)
        await town.claim_projects(start, args.days, args.projects)
        town.plan_surge(start)
        await bad_outside_event(local_access(settings, DEV_OUTSIDE))
        try:
            await _simulate(town, anchor, start, end, console, args.progress)
        finally:
            now = anchor.at(time.time())
            write_anchor(clock_file, Anchor(time.time(), min(now, end), 1.0))
    _summary(town, start, end, args, console)
    return 0 if town.tally.failed == 0 else 1


async def _simulate(
    town: City, anchor: Anchor, start: datetime, end: datetime, console: Console, progress: bool
) -> None:
    columns = (
        TextColumn("[bold]{task.fields[moment]}"),
        BarColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeRemainingColumn(),
    )
    span = (end - start).total_seconds()
    with Progress(*columns, console=console, disable=not progress) as bar:
        task = bar.add_task("city", total=span, moment="", stats="")
        while True:
            now = min(anchor.at(time.time()), end)
            await town.advance(now)
            t = town.tally
            bar.update(
                task,
                completed=(now - start).total_seconds(),
                moment=f"{now.astimezone(CITY_TZ):%a %m-%d %H:%M}",
                stats=f"appeals {t.appeals}  actions {sum(t.actions.values())}  "
                f"refused {sum(t.refused.values())}  failed {t.failed}",
            )
            if now >= end:
                return
            await asyncio.sleep(TICK)  # pacing the simulation to the clock, not a wait for state


def _summary(
    town: City, start: datetime, end: datetime, args: argparse.Namespace, out: Console
) -> None:
    t = town.tally
    skew = t.clock_skew_seconds
    out.print(
        f"\nSimulated {start.astimezone(CITY_TZ):%Y-%m-%d %H:%M} to "
        f"{end.astimezone(CITY_TZ):%Y-%m-%d %H:%M} (Asia/Shanghai): {t.appeals} appeals, "
        f"{t.projects} projects; actions {dict(t.actions)}; refused {dict(t.refused)}; "
        f"failed {t.failed}; {town.pending} steps still ahead."
    )
    if skew is not None and abs(skew) > 600 * max(1.0, args.speed / 60):
        out.print(
            "[yellow]The platform's clock did not follow the demo's "
            f"(first appeal {skew:+.0f}s off): was it started by make up?[/]"
        )
    out.print(
        f"{args.late_district} was made to fall behind: its overdue appeals should raise "
        "AppealsOverdueHigh.\nWhere to look:\n"
        f"  counters      {args.analytics_url}/v1/counters\n"
        f"  metrics       {args.analytics_url}/metrics\n"
        f"  Prometheus    {args.prometheus_url}/alerts   and /graph\n"
        f"  Alertmanager  {args.alertmanager_url}\n"
        "  messages      .data/sinks/ (webhooks.jsonl, sms.jsonl, mail/)\n"
        f"  deliveries    {args.notifications_url}/v1/deliveries"
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="minsheng-demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--days", type=float, default=3.0, help="simulated days to run (3)")
    p.add_argument("--speed", type=float, default=200.0, help="simulated seconds per second")
    p.add_argument("--rate", type=float, default=40.0, help="appeals per hour at the peak")
    p.add_argument("--projects", type=int, default=20, help="secretary projects to claim")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--late-district", default=city.Behaviour.late_district)
    p.add_argument("--no-progress", dest="progress", action="store_false")
    for name, port in (
        ("appeals", 8001),
        ("projects", 8002),
        ("notifications", 8003),
        ("analytics", 8004),
        ("prometheus", 9090),
        ("alertmanager", 9093),
    ):
        p.add_argument(f"--{name}-url", default=f"http://127.0.0.1:{port}")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.days <= 0 or args.speed <= 0 or args.rate < 0:
        parser().error("--days and --speed must be positive, --rate not negative")
    sys.exit(asyncio.run(run(args, Settings(), Console())))
