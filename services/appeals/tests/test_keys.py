"""`python -m appeals.keys` against a real database: create prints a working key once,
list never shows it, revoke makes it useless."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from minsheng import auth
from minsheng.platform.postgres import PostgresServer
from minsheng.settings import Settings
from testkit.integration.helpers import run_module

pytestmark = pytest.mark.integration


async def keys(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    return await run_module("appeals.keys", *args, env=env)


async def test_create_list_and_revoke_a_unit_key(postgres: PostgresServer) -> None:
    suffix = f"_k{uuid.uuid4().hex[:10]}"
    env = {"MINSHENG_DATABASE_URL": postgres.url, "MINSHENG_DATABASE_SUFFIX": suffix}
    code, key, _ = await keys(
        env, "create", "--role", "unit", "--unit", "市住建局", "--name", "王五"
    )
    assert code == 0
    assert key.startswith("msk_")

    dsn = Settings(database_url=postgres.url, database_suffix=suffix).database_for("appeals")
    conn = await asyncpg.connect(dsn)
    try:
        assert await auth.lookup(conn, key) == auth.Principal("王五", "unit", "市住建局")
        code, listing, _ = await keys(env, "list")
        assert code == 0
        assert key not in listing
        key_id, role, unit, name, *_ = listing.split("\t")
        assert (role, unit, name) == ("unit", "市住建局", "王五")
        assert listing.endswith("active")

        code, said, _ = await keys(env, "revoke", key_id)
        assert (code, said) == (0, f"revoked {key_id} (王五)")
        assert await auth.lookup(conn, key) is None
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "--role", "unit", "--name", "x"), "--unit is given exactly for role unit"),
        (("create", "--role", "unit", "--unit", "市魔法部", "--name", "x"), "unknown unit"),
        (("revoke", "abcdef"), "0 active keys"),
    ],
)
async def test_refusals_exit_2_with_a_reason(
    postgres: PostgresServer, args: tuple[str, ...], message: str
) -> None:
    env = {
        "MINSHENG_DATABASE_URL": postgres.url,
        "MINSHENG_DATABASE_SUFFIX": f"_k{uuid.uuid4().hex[:10]}",
    }
    code, _, err = await keys(env, *args)
    assert code == 2
    assert message in err
