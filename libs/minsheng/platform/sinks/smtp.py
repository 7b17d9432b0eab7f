"""The SMTP catcher: every e-mail is accepted and kept as `mail/<n>.eml` plus a line of
`mail.jsonl`, so nothing a developer's services send leaves the machine."""

from __future__ import annotations

import email
import email.policy
import logging
import time
from collections.abc import Callable

from aiosmtpd.smtp import SMTP, Envelope, Session

from minsheng.platform.sinks.files import SinkFiles

log = logging.getLogger("minsheng.sinks")


class Catcher:
    """An aiosmtpd handler (its `handle_DATA` hook) writing to the sink's files."""

    def __init__(self, files: SinkFiles, clock: Callable[[], float] = time.time) -> None:
        self.files = files
        self.clock = clock

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        n, path = self.files.save_mail(content)
        self.files.append(
            "mail.jsonl",
            {
                "n": n,
                "file": str(path),
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(message.get("Subject", "")),
                "received_at": self.clock(),
            },
        )
        log.info("mail %d to %s: %s", n, ", ".join(envelope.rcpt_tos), message.get("Subject"))
        return "250 Message accepted for delivery"
