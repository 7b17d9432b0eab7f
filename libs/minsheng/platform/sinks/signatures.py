"""Standard Webhooks signatures, checked the way a receiving system would check them.

The dev sink has its own implementation of the specification (not the sender's), so a
test of the notifications service against it is a test against the spec: the signed
content is `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 with the bytes of the
`whsec_<base64>` secret, sent as space-separated `v1,<base64>` in `webhook-signature`,
and a timestamp too far from now is refused (replay protection).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from pathlib import Path

PREFIX = "whsec_"
TOLERANCE = 300.0  # seconds either side of now, as the specification recommends


def secret_bytes(secret: str) -> bytes:
    """The key of a `whsec_<base64>` secret; ValueError if it is not one."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ and base64") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one message (tests and the benchmark send it)."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secret: str | None,
    msg_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float,
    tolerance: float = TOLERANCE,
) -> bool:
    """True if one of the `v1` signatures matches and the timestamp is recent enough."""
    if not (secret and msg_id and timestamp and signature):
        return False
    try:
        sent_at = int(timestamp)
        expected = sign(secret, msg_id, sent_at, body)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return any(hmac.compare_digest(given, expected) for given in signature.split())


class SecretsFile:
    """`{recipient_id: "whsec_..."}`, re-read when the file changes: the notifications
    service may write it (first start) after the sink started."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._secrets: dict[str, str] = {}

    def get(self, recipient: str) -> str | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                loaded = json.loads(self.path.read_text())
            except (OSError, ValueError):
                return None  # half written: the next request reads it again
            self._secrets = {str(k): str(v) for k, v in dict(loaded).items()}
            self._stamp = stamp
        return self._secrets.get(recipient)
