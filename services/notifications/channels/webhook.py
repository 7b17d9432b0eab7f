"""Webhooks signed per the Standard Webhooks specification.

Headers: `webhook-id` (the delivery id, the same on every retry, so a receiver can drop
duplicates), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
(`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}` with the recipient's
secret). Secrets are `whsec_` + base64, one per recipient, in a JSON file
{recipient_id: secret}; in development the file is generated on first start (and
completed for recipients added later), so the local sink can verify with the same file.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from notifications.channels import Outgoing
from notifications.channels.posting import Poster, PostError
from notifications.delivery import Answer, retry_after

PREFIX = "whsec_"


class SecretsError(ValueError):
    """The secrets file is unusable or lacks a recipient's secret."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret (decoded once per recipient, not per attempt)."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    key = secret if isinstance(secret, bytes) else secret_key(secret)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def load_secrets(path: Path, recipients: Iterable[str], *, generate: bool) -> dict[str, str]:
    """The secrets of `recipients`; with `generate`, missing ones (or the whole file) are
    created and written back (atomically, mode 0600). Without it, a missing file or
    secret is an error: a deployment's secrets are given, never invented.

    Generating holds a lock beside the file, so instances starting together agree: the
    second reads what the first wrote instead of signing with secrets of its own."""
    if not generate:
        return _read_secrets(path, recipients, generate=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _read_secrets(path, recipients, generate=True)


def _read_secrets(path: Path, recipients: Iterable[str], *, generate: bool) -> dict[str, str]:
    try:
        found: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError) as exc:
        raise SecretsError(f"{path}: {exc}") from exc
    if not isinstance(found, dict) or not all(
        isinstance(v, str) and v.startswith(PREFIX) for v in found.values()
    ):
        raise SecretsError(f'{path}: expected {{recipient: "whsec_..."}}')
    missing = [r for r in recipients if r not in found]
    if missing and not generate:
        raise SecretsError(f"{path}: no webhook secret for {', '.join(missing)}")
    if missing:
        found.update({r: new_secret() for r in missing})
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(found, indent=2, sort_keys=True))
        os.chmod(temporary, 0o600)
        temporary.replace(path)
    return found


class WebhookChannel:
    # the poster's timeout bounds each attempt, answer read included: the worker adds no
    # timer of its own (a second one per attempt was a tenth of its CPU)
    bounded = True

    def __init__(
        self, poster: Poster, secrets: dict[str, str], clock: Callable[[], datetime]
    ) -> None:
        self.poster = poster
        self.secrets = secrets
        self.keys = {recipient: secret_key(secret) for recipient, secret in secrets.items()}
        self.clock = clock

    async def send(self, message: Outgoing) -> Answer:
        key = self.keys.get(message.recipient)
        if key is None:
            return Answer(None, error=f"no webhook secret for {message.recipient}")
        body = message.payload.encode()  # sent as stored: no decoding and encoding again
        now = self.clock()
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message.delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(key, message.delivery_id, timestamp, body),
        }
        try:
            reply = await self.poster.post(message.address, body, headers)
        except TimeoutError:
            return Answer.silence(f"no answer within {self.poster.timeout:g}s")
        except (PostError, OSError) as exc:
            return Answer.silence(f"{type(exc).__name__}: {exc}"[:500])
        return Answer(
            reply.status,
            retry_after=retry_after(reply.headers.get("retry-after"), now),
            error=None if reply.ok else f"answered {reply.status}",
        )
