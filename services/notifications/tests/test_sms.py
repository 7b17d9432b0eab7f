"""The SMS channel with a fake contact look-up and gateway: the number goes only to the
gateway, and a look-up's refusal is the attempt's answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from notifications.channels import Outgoing
from notifications.channels.contacts import Found
from notifications.channels.sms import SmsChannel
from notifications.delivery import Answer, classify

MESSAGE = Outgoing("ntf_1", "139****5678", "c_ref", "title", "您的诉求已办结", "{}")


@dataclass
class FakeContacts:
    answer: Found | Answer
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def resolve(self, contact_ref: str, purpose: str) -> Found | Answer:
        self.asked.append((contact_ref, purpose))
        return self.answer


@dataclass
class FakeGateway:
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def send(self, to: str, text: str, reference: str) -> Answer:
        self.sent.append((to, text, reference))
        return Answer(200)


async def test_the_number_resolved_at_send_time_goes_to_the_gateway_only() -> None:
    contacts, gateway = FakeContacts(Found("13912345678")), FakeGateway()
    answer = await SmsChannel(contacts, gateway).send(MESSAGE)
    assert classify(answer) == "delivered"
    assert contacts.asked == [("c_ref", "notification ntf_1")]
    assert gateway.sent == [("13912345678", "您的诉求已办结", "ntf_1")]
    assert "13912345678" not in repr(answer)


async def test_an_unknown_contact_fails_and_an_unreachable_appeals_retries() -> None:
    gateway = FakeGateway()
    unknown = await SmsChannel(FakeContacts(Answer(404, error="no phone")), gateway).send(MESSAGE)
    assert classify(unknown) == "failed"
    down = await SmsChannel(FakeContacts(Answer.silence("refused")), gateway).send(MESSAGE)
    assert classify(down) == "retry"
    assert gateway.sent == []
