"""`minsheng-<service>-keys`: manage one HTTP service's API keys.

    create --role unit --unit 市住建局 --name "住建局 张三"   prints the new key, once
    list                                                  every key, by id, never the key
    revoke ID                                             ID: a prefix of the id from `list`

Only the SHA-256 hash of a key is stored (`minsheng.auth`), so a lost key cannot be
shown again: revoke it and create another. Works on the database the service uses
(`MINSHENG_DATABASE_URL`, migrated first, so it runs before the service ever started).
Every service keeps its keys the same way; a service's `keys` module is one line,
`main = keys_cli.entry_point(SERVICE, MIGRATIONS, __name__)`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import asyncpg

from minsheng import auth
from minsheng.db import Conn, open_database
from minsheng.reference import units
from minsheng.settings import Settings

ID_LENGTH = 12  # shown digits of the key's hash: enough to name one, useless to attack


class Refused(Exception):
    """A refusal to print to the operator (exit status 2)."""


def parser(service: str) -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog=f"minsheng-{service}-keys", description="Manage API keys.")
    commands = cli.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=get_args(auth.Role))
    create.add_argument("--name", required=True, help="who holds it; shown as the actor")
    create.add_argument("--unit", help="the handling unit (required for role unit)")
    commands.add_parser("list", help="list keys, without the keys themselves")
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", help="the id from `list`, or a unique prefix of it")
    return cli


async def create(conn: Conn, *, role: auth.Role, name: str, unit: str | None) -> str:
    if (role == "unit") != (unit is not None):
        raise Refused("--unit is given exactly for role unit")
    if unit is not None and unit not in units():
        raise Refused(f"unknown unit {unit}; valid: {', '.join(units())}")
    key = auth.new_key()
    await auth.register_key(conn, key, name=name, role=role, unit=unit)
    return key


async def listing(conn: Conn) -> list[str]:
    rows = await conn.fetch(
        """SELECT key_hash, name, role, unit, created_at, revoked_at FROM api_keys
           ORDER BY created_at, key_hash"""
    )
    return [
        "\t".join(
            [
                r["key_hash"][:ID_LENGTH],
                r["role"],
                r["unit"] or "-",
                r["name"],
                f"created {r['created_at']:%Y-%m-%d %H:%M}",
                f"revoked {r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "active",
            ]
        )
        for r in rows
    ]


async def revoke(conn: Conn, prefix: str) -> str:
    if len(prefix) < 6:
        raise Refused("give at least 6 characters of the id")
    found = await conn.fetch(
        "SELECT key_hash, name FROM api_keys WHERE key_hash LIKE $1 || '%' AND revoked_at IS NULL",
        prefix,
    )
    if len(found) != 1:
        raise Refused(f"{len(found)} active keys have an id starting {prefix}; need one")
    await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1", found[0]["key_hash"]
    )
    return f"revoked {found[0]['key_hash'][:ID_LENGTH]} ({found[0]['name']})"


async def execute(args: argparse.Namespace, pool: asyncpg.Pool) -> list[str]:
    """Runs one parsed command; returns the lines to print."""
    async with pool.acquire() as conn:
        if args.command == "create":
            return [await create(conn, role=args.role, name=args.name, unit=args.unit)]
        if args.command == "list":
            return await listing(conn)
        return [await revoke(conn, args.id)]


async def _main(
    service: str, migrations: Path, args: argparse.Namespace, settings: Settings
) -> list[str]:
    pool = await open_database(settings.database_for(service), service, migrations, min_size=1)
    try:
        return await execute(args, pool)
    finally:
        await pool.close()


def main(service: str, migrations: Path, argv: list[str] | None = None) -> int:
    """The whole CLI of `service`, whose database `migrations` set up; the exit status."""
    args = parser(service).parse_args(argv)
    try:
        lines = asyncio.run(_main(service, migrations, args, Settings()))
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def entry_point(service: str, migrations: Path, module: str) -> Callable[[list[str] | None], int]:
    """The console script's `main` of `service`; run at once (with the exit status) when
    `module`, the caller's `__name__`, is `__main__` (`python -m <service>.keys`)."""

    def service_main(argv: list[str] | None = None) -> int:
        return main(service, migrations, argv)

    if module == "__main__":
        sys.exit(service_main())
    return service_main
