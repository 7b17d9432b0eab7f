"""`GET /v1/contacts/{contact_ref}`: a citizen's phone number, for those who must call.

Personal data stays in the appeals database: events and the notifications service carry
only the opaque `contact_ref`. Those who must reach the citizen read the number here, at
the moment they need it (`appeals.contacting` says who): notifications before an SMS,
an operator for a call-back, the unit handling the appeal. Every read names its reason
(`X-Purpose`, required) and, but for notifications, its appeal (`appeal_id`); every
lookup, allowed or refused, is a row of `contact_lookups` (who, which appeal, when, why),
so who read whose number can be answered later. The number is never logged.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query
from pydantic import BaseModel

from appeals.contacting import refusal
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
    appeal_id: str
    phone: str


def dialable(phone: str) -> str:
    """The stored number as a gateway takes it: digits, with a leading + kept."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}" if phone.strip().startswith("+") else digits


def build_contacts_router(pool: Any, g: Guards) -> APIRouter:
    """`pool` returns the live pool; any valid key is audited, only those
    `appeals.contacting` admits are answered."""
    router = APIRouter(prefix="/v1")

    @router.get(
        "/contacts/{contact_ref}",
        response_model=Contact,
        responses={
            403: {"description": "This key may not read this contact (recorded too)"},
            404: {"description": "No such contact of that appeal, or no phone given"},
        },
    )
    async def get_contact(
        contact_ref: Annotated[str, Path(pattern=REF, max_length=66)],
        who: Annotated[auth.Principal, Depends(g.any_key)],
        at: Annotated[datetime, Depends(now)],
        x_purpose: Annotated[
            Text,
            Header(
                min_length=1,
                max_length=MAX_PURPOSE,
                description="Why, e.g. `notification <id>`, `callback`: recorded with the read.",
            ),
        ],
        appeal_id: Annotated[
            Text | None,
            Query(
                max_length=64,
                description="The appeal the contact is read for; required but for `system`.",
            ),
        ] = None,
    ) -> dict[str, str]:
        async with pool().acquire() as conn, conn.transaction():
            found = await store.contact_of(conn, contact_ref, appeal_id)
            refused = refusal(who, appeal_id, found.holder if found else None)
            phone = found.phone if found and refused is None else None
            lookup = store.Lookup(
                contact_ref=contact_ref,
                appeal_id=found.holder.appeal_id if found and refused is None else appeal_id,
                key_name=who.name,
                role=who.role,
                unit=who.unit,
                purpose=x_purpose,
                allowed=refused is None,
                found=phone is not None,
                at=at,
            )
            await store.record_lookup(conn, lookup)
        if refused is not None:
            raise Problem(403, "Forbidden", refused)
        if found is None or phone is None:
            raise Problem(404, "Not Found", f"no phone for contact {contact_ref}")
        return {
            "contact_ref": contact_ref,
            "appeal_id": found.holder.appeal_id,
            "phone": dialable(phone),
        }

    return router
