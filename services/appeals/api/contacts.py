"""`GET /v1/contacts/{contact_ref}`: a citizen's phone number, for the `system` role only.

Personal data stays in the appeals database: events and the notifications service carry
only the opaque `contact_ref`, and notifications asks here at the moment it sends an SMS,
keeping nothing. Every lookup, allowed or refused, is a row of `contact_lookups`, so who
read whose number and why can be answered later. The number is never logged.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from pydantic import BaseModel

from appeals.store import contacts as store
from minsheng import auth
from minsheng.clock import now
from minsheng.inputs import Text
from minsheng.problems import Problem
from minsheng.service import Guards

MAX_PURPOSE = 200  # characters of X-Purpose
REF = r"^c_[0-9a-f]{1,64}$"


class Contact(BaseModel):
    contact_ref: str
    phone: str


def dialable(phone: str) -> str:
    """The stored number as a gateway takes it: digits, with a leading + kept."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}" if phone.strip().startswith("+") else digits


def build_contacts_router(pool: Any, g: Guards) -> APIRouter:
    """`pool` returns the live pool; any valid key is audited, only `system` is answered."""
    router = APIRouter(prefix="/v1")

    @router.get(
        "/contacts/{contact_ref}",
        response_model=Contact,
        responses={403: {"description": "Not a system key"}, 404: {"description": "Unknown"}},
    )
    async def get_contact(
        contact_ref: Annotated[str, Path(pattern=REF, max_length=66)],
        who: Annotated[auth.Principal, Depends(g.any_key)],
        at: Annotated[datetime, Depends(now)],
        x_purpose: Annotated[
            Text | None,
            Header(max_length=MAX_PURPOSE, description="Why, e.g. `notification <id>`."),
        ] = None,
    ) -> dict[str, str]:
        allowed = who.role == "system"
        async with pool().acquire() as conn, conn.transaction():
            phone = await store.phone_of(conn, contact_ref) if allowed else None
            await store.record_lookup(
                conn,
                contact_ref=contact_ref,
                key_name=who.name,
                role=who.role,
                purpose=x_purpose,
                allowed=allowed,
                found=phone is not None,
                at=at,
            )
        if not allowed:
            raise Problem(403, "Forbidden", f"role {who.role!r} may not read contacts")
        if phone is None:
            raise Problem(404, "Not Found", f"no phone for contact {contact_ref}")
        return {"contact_ref": contact_ref, "phone": dialable(phone)}

    return router
