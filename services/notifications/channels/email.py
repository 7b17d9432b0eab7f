"""E-mail over SMTP (aiosmtplib): a plain-text message, STARTTLS and AUTH as configured.

In development the server is the local catcher (127.0.0.1:2525, no TLS, no auth).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from notifications.channels import Outgoing
from notifications.delivery import Answer
from notifications.settings import NotificationsSettings


class EmailChannel:
    def __init__(self, config: NotificationsSettings) -> None:
        self.config = config  # its smtp_* settings and the attempt timeout

    def compose(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.smtp_sender
        mail["To"] = message.address
        mail["Subject"] = message.title
        # stable across retries, like the webhook-id: a mailbox can drop the duplicate
        mail["Message-ID"] = make_msgid(idstring=message.delivery_id, domain="minsheng.local")
        mail["X-Minsheng-Delivery"] = message.delivery_id
        mail.set_content(message.body)
        return mail

    async def send(self, message: Outgoing) -> Answer:
        c = self.config
        try:
            await aiosmtplib.send(
                self.compose(message),
                hostname=c.smtp_host,
                port=c.smtp_port,
                start_tls=c.smtp_starttls,
                username=c.smtp_username,
                password=c.smtp_password,
                timeout=c.attempt_timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            return Answer(exc.code, protocol="smtp", error=f"{exc.code} {exc.message}"[:500])
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Answer.silence(f"{type(exc).__name__}: {exc}"[:500])
        return Answer(250, protocol="smtp")
