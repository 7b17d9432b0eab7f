"""What the dev sinks received, as files under `$MINSHENG_DATA_DIR/sinks/`.

    mail/<n>.eml    each e-mail as it arrived        mail.jsonl   one line per e-mail
    webhooks.jsonl  one line per webhook request     sms.jsonl    one line per SMS request

One JSON object per line, flushed at once, so a developer can `tail -f` them and a test
can read them back. A phone number is written masked (139****5678) with its SHA-256,
never in full.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, TextIO

from minsheng.masking import mask_personal


def masked_number(to: str) -> str:
    """`+86 139 1234 5678` or `13912345678` -> `139****5678`, as `mask_personal` masks
    numbers (a landline: area code and last 2); what it does not know: the last 4."""
    digits = re.sub(r"\D", "", to)
    national = digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
    masked = mask_personal(national)
    return masked if masked != national else "****" + digits[-4:]


def number_digest(to: str) -> str:
    """SHA-256 of `to` as it was sent: lets a test match a number without storing it."""
    return hashlib.sha256(to.encode()).hexdigest()


class SinkFiles:
    """The sinks' folder; `append` adds a line to one of its JSON-lines files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.mail = folder / "mail"
        self.mail.mkdir(parents=True, exist_ok=True)
        self._open: dict[str, TextIO] = {}
        numbers = [int(p.stem) for p in self.mail.glob("*.eml") if p.stem.isdigit()]
        self._next_mail = max(numbers, default=0) + 1

    def append(self, name: str, record: dict[str, Any]) -> None:
        out = self._open.get(name)
        if out is None:
            out = self._open[name] = (self.folder / name).open("a", encoding="utf-8")
        out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        out.flush()

    def save_mail(self, content: bytes) -> tuple[int, Path]:
        """Writes the next `<n>.eml`; returns n and the path."""
        n, self._next_mail = self._next_mail, self._next_mail + 1
        path = self.mail / f"{n}.eml"
        path.write_bytes(content)
        return n, path

    def close(self) -> None:
        for out in self._open.values():
            out.close()
        self._open.clear()


class Tail:
    """Reads a JSON-lines file as it grows: each `new()` returns the complete lines added
    since the last call, so polling a long file costs only what was appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self.seen: list[dict[str, Any]] = []

    def new(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as source:
            source.seek(self._offset)
            chunk = source.read()
        end = chunk.rfind(b"\n") + 1  # not a line half written
        self._offset += end
        found = [json.loads(line) for line in chunk[:end].splitlines() if line.strip()]
        self.seen.extend(found)
        return found

    def all(self) -> list[dict[str, Any]]:
        """Every line so far."""
        self.new()
        return self.seen
