"""`python -m projects.keys` against a real database: the key it prints is one the
projects service accepts, and list and revoke act on the projects database."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from minsheng import auth
from minsheng.platform.postgres import PostgresServer
from minsheng.settings import Settings
from testkit.integration.helpers import run_module

pytestmark = pytest.mark.integration


async def test_a_created_key_opens_the_projects_database(postgres: PostgresServer) -> None:
    suffix = f"_k{uuid.uuid4().hex[:10]}"
    env = {"MINSHENG_DATABASE_URL": postgres.url, "MINSHENG_DATABASE_SUFFIX": suffix}
    code, key, _ = await run_module(
        "projects.keys", "create", "--role", "supervisor", "--name", "督查室 李四", env=env
    )
    assert code == 0
    assert key.startswith("msk_")

    dsn = Settings(database_url=postgres.url, database_suffix=suffix).database_for("projects")
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT to_regclass('projects') IS NOT NULL")
        assert await auth.lookup(conn, key) == auth.Principal("督查室 李四", "supervisor", None)
        code, listing, _ = await run_module("projects.keys", "list", env=env)
        assert code == 0
        key_id = listing.split("\t")[0]
        code, said, _ = await run_module("projects.keys", "revoke", key_id, env=env)
        assert (code, said) == (0, f"revoked {key_id} (督查室 李四)")
        assert await auth.lookup(conn, key) is None
    finally:
        await conn.close()


async def test_the_cli_names_itself_after_the_service() -> None:
    code, _, err = await run_module("projects.keys", env={})
    assert code == 2
    assert err.startswith("usage: minsheng-projects-keys")
