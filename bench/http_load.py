"""A lean HTTP/1.1 load generator: keep-alive connections sending prebuilt requests.

On a 2-core machine the load generator shares the CPUs with the server it measures;
httpx spends about as much CPU per request as the service does, so it would halve the
figure it reports. This client does only what a benchmark needs (fixed requests,
Content-Length bodies, no redirects, no TLS), like `wrk` does, at a fraction of the cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection broke or the answer was not HTTP/1.1 we understand."""


def build_post(url: str, path: str, body: Any, headers: dict[str, str]) -> bytes:
    """The bytes of one POST with a JSON body, ready to be written again and again."""
    host = urlsplit(url).netloc
    payload = json.dumps(body, ensure_ascii=False).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def build_get(url: str, path: str) -> bytes:
    """The bytes of one GET, ready to be written again and again."""
    return f"GET {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n\r\n".encode()


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Writes `request`, returns (status, body); reconnects if the server closed."""
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(request)
        try:
            status_line = await self._reader.readuntil(b"\r\n")
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            await self.close()
            raise HttpError(f"connection lost: {exc}") from exc
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            await self.close()
            raise HttpError(f"not an HTTP answer: {status_line!r}")
        length, closing = 0, False
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                closing = True
            elif name == b"transfer-encoding":
                await self.close()
                raise HttpError("chunked answers are not supported")
        body = await self._reader.readexactly(length)
        if closing:
            await self.close()
        return int(parts[1]), body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


class Pool:
    """Idle keep-alive connections to one server, opened as concurrency demands."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._idle: list[Connection] = []
        self._all: list[Connection] = []

    async def send(self, request: bytes) -> tuple[int, bytes]:
        if self._idle:
            connection = self._idle.pop()
        else:
            connection = Connection(self.url)
            self._all.append(connection)
        try:
            return await connection.send(request)
        finally:
            self._idle.append(connection)

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()
