"""Resolving a citizen's `contact_ref` to a phone number, at send time, through appeals.

The number is personal data and stays in the appeals database: notifications asks
`GET /v1/contacts/{contact_ref}` (a key of role `system`, the purpose in `X-Purpose`,
each look-up audited by appeals) just before an SMS goes, holds the number only in
memory for that send, and never stores or logs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from notifications.delivery import Answer


@dataclass(frozen=True)
class Found:
    phone: str


class Contacts(Protocol):
    async def resolve(self, contact_ref: str, purpose: str) -> Found | Answer:
        """The number, or the answer to report as the attempt's (404: none; retries)."""
        ...


class AppealsContacts:
    def __init__(self, client: httpx.AsyncClient, base_url: str, key: str | None) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.key = key

    async def resolve(self, contact_ref: str, purpose: str) -> Found | Answer:
        if self.key is None:
            return Answer(401, error="no appeals key configured for contact look-ups")
        try:
            response = await self.client.get(
                f"{self.base_url}/v1/contacts/{contact_ref}",
                headers={"Authorization": f"Bearer {self.key}", "X-Purpose": purpose},
            )
        except httpx.HTTPError as exc:
            return Answer.silence(f"contact look-up: {type(exc).__name__}")
        if response.status_code == 200:
            phone = response.json().get("phone")
            if isinstance(phone, str) and phone:
                return Found(phone)
            return Answer(404, error="contact look-up: no phone")
        return Answer(
            response.status_code, error=f"contact look-up answered {response.status_code}"
        )
