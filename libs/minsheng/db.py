"""Database plumbing shared by the services: own database, versioned migrations, pool.

Migrations are plain numbered SQL files (`NNN_name.sql`) applied in order, each in its
own transaction, recorded in `schema_migrations`. We chose a forty-line migrator over
Alembic or yoyo because the services use raw SQL through asyncpg (no ORM models to
autogenerate from) and because it runs inside the service's own start-up under an
advisory lock, so two instances starting together never race.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

# A connection of its own or one borrowed from a pool: the functions taking one don't care.
Conn = asyncpg.Connection | PoolConnectionProxy

LIBRARY_MIGRATIONS = Path(__file__).parent / "migrations"
_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 0x6D696E73  # "mins": one advisory lock for all migrators of a database


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    path: Path


def columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column: the arrays of an `INSERT ... SELECT FROM unnest(...)`,
    which writes a batch in one statement where `executemany` runs one per row."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def discover(component: str, folder: Path) -> list[Migration]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise ValueError(f"migration file {path} is not named NNN_name.sql")
        found.append(Migration(component, int(match.group(1)), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {folder}")
    return found


async def ensure_database(url: str) -> None:
    """Creates the URL's database if it does not exist (servers in compose start empty)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            # another instance won: after its commit, or (a unique violation of the
            # catalogue) while both were creating it
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def migrate(conn: asyncpg.Connection, migrations: list[Migration]) -> list[Migration]:
    """Applies what is missing; returns what it applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   component text NOT NULL,
                   version integer NOT NULL,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (component, version))"""
        )
        done = {
            (r["component"], r["version"])
            for r in await conn.fetch("SELECT component, version FROM schema_migrations")
        }
        applied = []
        for m in migrations:
            if (m.component, m.version) in done:
                continue
            async with conn.transaction():
                await conn.execute(m.path.read_text())
                await conn.execute(
                    "INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)",
                    m.component,
                    m.version,
                    m.path.name,
                )
            log.info("applied migration %s/%s", m.component, m.path.name)
            applied.append(m)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def open_database(
    url: str,
    service: str,
    service_migrations: Path | None,
    *,
    min_size: int = 2,
    max_size: int = 10,
) -> asyncpg.Pool:
    """Creates the database if needed, migrates it (library first), returns a pool."""
    await ensure_database(url)
    migrations = discover("minsheng", LIBRARY_MIGRATIONS)
    if service_migrations is not None:
        migrations += discover(service, service_migrations)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, migrations)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, reset=_keep_session)
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """A pool connection goes back as it is, without asyncpg's default reset query (a
    round trip on every release, as many as the request's own statements on the busiest
    routes). Nothing of ours leaves session state on a pool connection: no LISTEN, SET,
    session advisory lock or cursor outside a transaction (the relay and the migrator
    use connections of their own); asyncpg still rolls back a transaction left open."""
