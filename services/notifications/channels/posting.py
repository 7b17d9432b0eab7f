"""A lean HTTP/1.1 client for webhook POSTs: pooled keep-alive connections, one request
at a time on each, answers parsed by httptools (the parser uvicorn serves with).

Why not aiohttp, which the SMS gateway and the contact look-ups use: a POST through its
`ClientSession` cost about 190 µs of CPU, a fifth of what a whole delivery costs; here a
request is one write of prebuilt bytes and a parser's callbacks. It does what a webhook
sender needs and no more: http and https, a body of known length, answers framed by
Content-Length, chunks or the connection's end, `Connection: close`, one total timeout
per request (the connect included). It does not follow redirects (a 3xx is the answer,
as Standard Webhooks senders treat it), use proxies or keep cookies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import httptools

USER_AGENT = "minsheng-notifications"


class PostError(Exception):
    """No usable answer: the URL, the connection or the bytes that came back."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case

    @property
    def ok(self) -> bool:
        return self.status < 400


@dataclass(frozen=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port: what a connection is kept for
    head: bytes  # request line and Host header


@lru_cache(maxsize=4096)
def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostError(f"not an http(s) URL: {url!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in path + parts.netloc):
        raise PostError(f"a URL with spaces or control characters: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: {USER_AGENT}\r\n"
    return _Target((parts.scheme, parts.hostname, port), head.encode("ascii", "strict"))


def request_bytes(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[_Target, bytes]:
    """The target of `url` and the whole request, headers refused if they could split it."""
    target = _target(url)
    lines = [target.head]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise PostError(f"a header that would split the request: {name!r}")
        lines.append(f"{name}: {value}\r\n".encode("latin-1"))
    lines.append(b"Content-Length: %d\r\n\r\n" % len(body))
    lines.append(body)
    return target, b"".join(lines)


class _Connection(asyncio.Protocol):
    """One keep-alive connection and the answer it is waiting for."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._waiter: asyncio.Future[Reply] | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._headers: dict[str, str] = {}
        self._status: int | None = None
        self._got_bytes = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def send(self, request: bytes) -> asyncio.Future[Reply]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._headers, self._status, self._got_bytes = {}, None, False
        self.transport.write(request)
        return self._waiter

    @property
    def silent(self) -> bool:
        """Nothing of the answer came: on a reused connection, a request to send again."""
        return not self._got_bytes

    def data_received(self, data: bytes) -> None:
        self._got_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(PostError(f"not an HTTP/1.1 answer: {exc}"))
            self.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()

    def on_message_complete(self) -> None:
        keep = self._parser.should_keep_alive()
        self._done()
        if not keep:
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        framed = "content-length" in self._headers or "transfer-encoding" in self._headers
        if self._status is not None and not framed:
            self._done()  # an answer that ends with its connection
        self._fail(PostError(f"connection lost: {exc or 'closed by the server'}"))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _done(self) -> None:
        waiter, status = self._waiter, self._status
        if waiter is not None and not waiter.done() and status is not None:
            waiter.set_result(Reply(status, self._headers))

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def expire(self) -> None:
        """The request's time is up: the answer is silence, the connection spent."""
        self._fail(TimeoutError())
        self.close()


class Poster:
    """POSTs over kept-alive connections: at most `limit` requests at once, idle
    connections kept per origin for the next request there."""

    def __init__(self, *, timeout: float, limit: int, tls: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self._slots = asyncio.Semaphore(limit)
        self._limit = limit
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls = tls

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """The answer; TimeoutError after `timeout` seconds, PostError or OSError when
        none came. The time is kept by one timer on the answer's future, not a timeout
        context (which cost as much as the rest of the request)."""
        target, request = request_bytes(url, body, headers)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        await _within(self._slots, deadline)
        try:
            return await self._post(target, request, deadline)
        finally:
            self._slots.release()

    async def _post(self, target: _Target, request: bytes, deadline: float) -> Reply:
        conn = self._take(target.origin)
        if conn is not None:
            try:
                return await self._exchange(target, conn, request, deadline)
            except PostError:
                if not conn.silent:
                    raise
                # the server closed the idle connection as the request went: once more
        async with asyncio.timeout_at(deadline):
            conn = await self._connect(target.origin)
        return await self._exchange(target, conn, request, deadline)

    async def _exchange(
        self, target: _Target, conn: _Connection, request: bytes, deadline: float
    ) -> Reply:
        answer = conn.send(request)
        timer = asyncio.get_running_loop().call_at(deadline, conn.expire)
        try:
            reply = await answer
        except BaseException:
            conn.close()  # a timeout or a cancellation leaves it mid-answer: not reusable
            raise
        finally:
            timer.cancel()
        if not conn.closed:
            self._keep(target.origin, conn)
        return reply

    async def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            tls = self._tls or ssl.create_default_context()
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Connection, host, port, ssl=tls)
        return conn

    def _take(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        return None

    def _keep(self, origin: tuple[str, str, int], conn: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < self._limit:
            idle.append(conn)
        else:
            conn.close()

    async def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                with contextlib.suppress(Exception):
                    conn.close()
        self._idle.clear()


async def _within(slots: asyncio.Semaphore, deadline: float) -> None:
    """Takes a slot, or raises TimeoutError at `deadline` with nothing sent (a request
    sent after its time would be retried while its receiver may take it). The timeout
    is paid only when the slot has to be waited for."""
    if not slots.locked():
        await slots.acquire()
        return
    async with asyncio.timeout_at(deadline):
        await slots.acquire()
