"""Who may do what on the broker: one Kafka principal per service, one per outside system.

A service may write its own domain topic (where its outbox relay publishes) and the
dead-letter topics of what it consumes, and read only what it consumes, in consumer
groups whose names begin with its prefix. An outside system may write the intake topics
and nothing else. `admin` is the broker's super user: it creates topics, principals and
ACLs. Everything else is denied (`allow.everyone.if.no.acl.found=false`), and the broker
refuses clients that do not authenticate.

Principals and ACLs are created through the Admin API (CreateAcls and
AlterUserScramCredentials), so an outside system can be added while the broker runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka.protocol.admin import CreateAclsRequest, DescribeAclsRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from minsheng.kafka import KafkaAccess
from minsheng.topics import (
    APPEALS,
    INTAKE_APPEALS,
    INTAKE_PROJECTS,
    NOTIFICATIONS,
    OWNERS,
    PROJECTS,
    dlq,
)

ADMIN = "admin"
INTAKE = (INTAKE_APPEALS, INTAKE_PROJECTS)  # what an outside system may write
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")  # an outside system's principal
ITERATIONS = 8192  # SCRAM iterations (Kafka's minimum is 4096)

# Kafka's enumerations, as the ACL requests carry them
ANY = 1
TOPIC, GROUP = 2, 3
LITERAL, PREFIXED = 3, 4
ALL, READ, WRITE, DESCRIBE = 2, 3, 4, 8
ALLOW = 3
SCRAM_SHA_512 = 2


@dataclass(frozen=True)
class Grants:
    """What one principal may do; `prefix` names its consumer groups (and, with
    `owns_prefixed_topics`, topics it creates and manages itself, as Faust does)."""

    writes: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    prefix: str | None = None
    owns_prefixed_topics: bool = False


SERVICES: dict[str, Grants] = {
    "appeals": Grants(
        writes=(APPEALS, dlq(INTAKE_APPEALS)), reads=(INTAKE_APPEALS,), prefix="appeals"
    ),
    "projects": Grants(
        writes=(PROJECTS, dlq(INTAKE_PROJECTS)), reads=(INTAKE_PROJECTS,), prefix="projects"
    ),
    "notifications": Grants(
        writes=(NOTIFICATIONS, dlq(APPEALS), dlq(PROJECTS)),
        reads=(APPEALS, PROJECTS),
        prefix="notifications",
    ),
    # the Faust app id begins its group, its changelogs and its assignor's topic
    "analytics": Grants(
        writes=(dlq(APPEALS), dlq(PROJECTS), dlq(NOTIFICATIONS)),
        reads=(APPEALS, PROJECTS, NOTIFICATIONS),
        prefix="minsheng-analytics",
        owns_prefixed_topics=True,
    ),
}
OUTSIDE = Grants(writes=INTAKE)


def new_password() -> str:
    return secrets.token_urlsafe(24)


def acl_bindings(grants: Grants) -> list[tuple[int, str, int, int]]:
    """(resource type, name, pattern type, operation) of each ACL `grants` needs."""
    bindings = [(TOPIC, t, LITERAL, WRITE) for t in grants.writes]
    # a domain topic's owner reads it back, without a group: a relay that takes over
    # looks there for what the last leader published but did not mark (`relay.reconcile`)
    bindings += [(TOPIC, t, LITERAL, READ) for t in grants.writes if t in OWNERS]
    bindings += [(TOPIC, t, LITERAL, op) for t in grants.reads for op in (READ, DESCRIBE)]
    if grants.prefix is not None:
        bindings.append((GROUP, grants.prefix, PREFIXED, ALL))
        if grants.owns_prefixed_topics:
            bindings.append((TOPIC, grants.prefix, PREFIXED, ALL))
    return bindings


async def grant(admin: KafkaAccess, user: str, grants: Grants) -> None:
    """Creates the ACLs of `user` (creating one that exists changes nothing), and returns
    once the broker applies them: the controller has them first, the broker a moment
    later, and a client told "not authorised" meanwhile would give up."""
    wanted = set(acl_bindings(grants))
    client = admin.admin()
    await client.start()
    try:
        responses = await asyncio.gather(
            *(
                client._send_request(
                    CreateAclsRequest(kind, name, pattern, f"User:{user}", "*", op, ALLOW)
                )
                for kind, name, pattern, op in wanted
            )
        )
        failed = [r for response in responses for r in response.creation_responses if r[0]]
        if failed:
            raise RuntimeError(f"creating the ACLs of {user} failed: {failed}")

        async def applied() -> bool:
            filter_ = DescribeAclsRequest(ANY, None, ANY, f"User:{user}", None, ANY, ANY)
            response = await client._send_request(filter_)
            seen = {(r[0], r[1], r[2], acl[2]) for r in response.resources for acl in r[3]}
            return wanted <= seen

        await poll(applied, what=f"the ACLs of {user}")
    finally:
        await client.close()


async def poll(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    """Until `check()` is true (an exception counts as false until the deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            if await check():
                return
        except Exception:
            if loop.time() > deadline:
                raise
        if loop.time() > deadline:
            raise TimeoutError(f"{what}: not applied within {timeout:.0f}s")
        await asyncio.sleep(0.1)  # polling the broker, with a deadline


async def grant_services(admin: KafkaAccess) -> None:
    await asyncio.gather(*(grant(admin, user, g) for user, g in SERVICES.items()))


class AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest(Request[AlterUserScramCredentialsRequest_v0]):  # type: ignore[misc]
    """Sets SCRAM-SHA-512 passwords (aiokafka has the transport, not this request)."""

    API_KEY = 51

    def __init__(self, passwords: dict[str, str]) -> None:
        self.upsertions: list[tuple[Any, ...]] = []
        for user, password in passwords.items():
            salt = secrets.token_bytes(32)
            salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
            self.upsertions.append((user, SCRAM_SHA_512, ITERATIONS, salt, salted, {}))

    def build(
        self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]
    ) -> AlterUserScramCredentialsRequest_v0:
        return request_struct_class([], self.upsertions, {})


async def set_passwords(admin: KafkaAccess, passwords: dict[str, str]) -> None:
    """Creates the users or changes their passwords."""
    client = admin.admin()
    await client.start()
    try:
        response = await client._send_request(AlterUserScramCredentialsRequest(passwords))
    finally:
        await client.close()
    failed = [(user, message) for user, code, message, _ in response.results if code != 0]
    if failed:
        raise RuntimeError(f"setting SCRAM credentials failed: {failed}")


async def add_outside_system(admin: KafkaAccess, name: str) -> KafkaAccess:
    """A new principal that may write the intake topics only; returns its access (the
    password exists nowhere else: the broker keeps a salted hash)."""
    if name == ADMIN or name in SERVICES:
        raise ValueError(f"{name!r} is a principal of the platform itself")
    if not NAME.fullmatch(name):
        raise ValueError(f"{name!r}: use letters, digits, '.', '_' and '-' (up to 64)")
    password = new_password()
    await set_passwords(admin, {name: password})
    await grant(admin, name, OUTSIDE)
    access = admin.as_user(name, password)
    await until_accepted(access)
    return access


async def until_accepted(access: KafkaAccess) -> None:
    """Until the broker accepts `access`'s credentials: the controller has them when
    AlterUserScramCredentials returns, the broker a moment later."""

    async def accepted() -> bool:
        client = access.admin(request_timeout_ms=3000)
        try:
            await client.start()
            return True
        finally:
            with contextlib.suppress(Exception):
                await client.close()

    await poll(accepted, what=f"the credentials of {access.username}")
