"""The pure rules of the public edge, apart from any web framework: which cross-origin
requests a browser may make (CORS), and how often one API key may write (a token bucket).

The middlewares of `minsheng.web` (and analytics' aiohttp views) apply them; here they
are plain functions of their inputs and an injected clock, so they are tested alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

METHODS = ("GET", "POST", "OPTIONS")
# what our routes read: the key, a body's type, the receipt's idempotency, a lookup's reason
HEADERS = ("authorization", "content-type", "idempotency-key", "x-purpose")
EXPOSED = ("Location", "Retry-After", "Idempotent-Replayed", "Allow")


@dataclass(frozen=True)
class Cors:
    """An explicit CORS policy: the origins named (`*` for any) may call with these
    methods and headers; every other origin gets no CORS header, so browsers refuse it.
    No credentials: our keys travel in `Authorization`, never in cookies."""

    origins: frozenset[str]
    max_age: int = 600

    @classmethod
    def of(cls, origins: Iterable[str], max_age: int = 600) -> Cors:
        return cls(frozenset(o.strip().rstrip("/") for o in origins if o.strip()), max_age)

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins

    def preflight(self, origin: str, method: str, headers: str) -> dict[str, str] | None:
        """The headers answering a preflight (`OPTIONS` with `Origin` and
        `Access-Control-Request-Method`), or None when it is refused."""
        asked = {h.strip().lower() for h in headers.split(",") if h.strip()}
        if not self.allows(origin) or method.upper() not in METHODS or asked - set(HEADERS):
            return None
        return {
            **self._origin(origin),
            "Access-Control-Allow-Methods": ", ".join(METHODS),
            "Access-Control-Allow-Headers": ", ".join(HEADERS),
            "Access-Control-Max-Age": str(self.max_age),
        }

    @staticmethod
    def refusal(origin: str, method: str) -> str:
        """The detail of a refused preflight's 403 problem."""
        return f"origin {origin} may not {method} here (see the CORS policy)"

    def response(self, origin: str | None) -> dict[str, str]:
        """The headers to add to an actual answer to a request from `origin`."""
        if origin is None or not self.allows(origin):
            return {}
        return {**self._origin(origin), "Access-Control-Expose-Headers": ", ".join(EXPOSED)}

    def _origin(self, origin: str) -> dict[str, str]:
        named = "*" not in self.origins
        return {"Access-Control-Allow-Origin": origin if named else "*"} | (
            {"Vary": "Origin"} if named else {}
        )


@dataclass
class TokenBucket:
    """`burst` requests at once per key, refilled at `rate` per second: the per-key rate
    limit of a public write. `take` answers 0 when the request may go, else the seconds
    until it could. Keys are kept only once they are known to be valid, so their number
    is bounded by the keys issued."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, when

    def take(self, key: str) -> float:
        now = self.clock()
        tokens, then = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate if self.rate > 0 else math.inf


def retry_after(seconds: float) -> str:
    """`Retry-After`'s value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds))) if math.isfinite(seconds) else "3600"
