"""Resolving a citizen's `contact_ref` to a phone number, at send time, through appeals.

The number is personal data and stays in the appeals database: notifications asks
`GET /v1/contacts/{contact_ref}` (a key of role `system`, the purpose in `X-Purpose`,
each look-up audited by appeals) just before an SMS goes, holds the number only in
memory for that send, and never stores or logs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from notifications.delivery import Answer


@dataclass(frozen=True)
class Found:
    phone: str


class Contacts(Protocol):
    async def resolve(self, contact_ref: str, purpose: str) -> Found | Answer:
        """The number, or the answer to report as the attempt's (404: none; retries)."""
        ...


class AppealsContacts:
    def __init__(self, client: aiohttp.ClientSession, base_url: str, key: str | None) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.key = key

    async def resolve(self, contact_ref: str, purpose: str) -> Found | Answer:
        if self.key is None:
            return Answer(401, error="no appeals key configured for contact look-ups")
        try:
            async with self.client.get(
                f"{self.base_url}/v1/contacts/{contact_ref}",
                headers={"Authorization": f"Bearer {self.key}", "X-Purpose": purpose},
            ) as response:
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Answer.silence(f"contact look-up: {type(exc).__name__}")
        if response.status == 200:
            try:
                phone = json.loads(body).get("phone")
            except (ValueError, AttributeError):
                phone = None
            if isinstance(phone, str) and phone:
                return Found(phone)
            return Answer(404, error="contact look-up: no phone")
        return Answer(response.status, error=f"contact look-up answered {response.status}")
