"""SMS to citizens: the contact is resolved at send time, then a gateway adapter sends.

The adapter interface is one method, `send(to, text, reference) -> Answer`, so a
vendor's gateway is one adapter file. The one here speaks the platform's HTTP contract
(what the local gateway sink implements):

    POST <gateway_url>   Authorization: Bearer <token>
    {"to": "13912345678", "text": "...", "reference": "<delivery id>"}
    2xx {"message_id": "..."}: delivered; 429 / 5xx: retried (Retry-After honoured);
    any other 4xx: failed.

The number exists only inside `SmsChannel.send`; errors never include it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import aiohttp

from notifications.channels import Outgoing
from notifications.channels.contacts import Contacts, Found
from notifications.delivery import Answer, retry_after


class Gateway(Protocol):
    async def send(self, to: str, text: str, reference: str) -> Answer: ...


class HttpGateway:
    def __init__(
        self,
        client: aiohttp.ClientSession,
        url: str,
        token: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.url = url
        self.token = token
        self.clock = clock

    async def send(self, to: str, text: str, reference: str) -> Answer:
        try:
            async with self.client.post(
                self.url,
                json={"to": to, "text": text, "reference": reference},
                headers={"Authorization": f"Bearer {self.token}"},
            ) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Answer.silence(f"SMS gateway: {type(exc).__name__}")
        return Answer(
            response.status,
            retry_after=retry_after(response.headers.get("retry-after"), self.clock()),
            error=None if response.ok else f"SMS gateway answered {response.status}",
        )


class SmsChannel:
    def __init__(self, contacts: Contacts, gateway: Gateway) -> None:
        self.contacts = contacts
        self.gateway = gateway

    async def send(self, message: Outgoing) -> Answer:
        found = await self.contacts.resolve(message.address, f"notification {message.delivery_id}")
        if not isinstance(found, Found):
            return found
        return await self.gateway.send(found.phone, message.body, message.delivery_id)
