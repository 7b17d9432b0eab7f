"""The webhooks' HTTP/1.1 client against small real servers: what it writes, the
answers it understands, the connections it keeps, reopens and drops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from notifications.channels.posting import Poster, PostError, request_bytes

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Requests:
    """A connection's reader that keeps each whole request it reads, in `seen`."""

    def __init__(self, reader: asyncio.StreamReader, seen: list[bytes]) -> None:
        self.reader, self.seen = reader, seen

    async def next(self) -> bytes:
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        request = head + await self.reader.readexactly(length)
        self.seen.append(request)
        return request


Handler = Callable[[Requests, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server on a free port running `handler` per connection: its URL, and every
    request it read, in order."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(Requests(reader, seen), writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hooks/a?x=1", seen
    finally:
        srv.close()
        await srv.wait_closed()


def answering(answer: bytes, close_after: int | None = None) -> Handler:
    """Answers every request with `answer`; with `close_after`, drops the connection
    unanswered at that request (0: the first)."""

    async def handler(requests: Requests, writer: asyncio.StreamWriter) -> None:
        i = 0
        while True:
            await requests.next()
            if i == close_after:
                return
            writer.write(answer)
            await writer.drain()
            i += 1

    return handler


async def test_it_writes_one_request_and_reuses_the_connection() -> None:
    answer = b"HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy"
    async with server(answering(answer)) as (url, seen):
        poster = Poster(timeout=5, limit=4)
        first = await poster.post(url, b'{"a":1}', {"webhook-id": "ntf_1"})
        second = await poster.post(url, b"{}", {"webhook-id": "ntf_2"})
        kept = [len(idle) for idle in poster._idle.values()]
        await poster.close()
    assert (first.status, first.headers["retry-after"], first.ok) == (503, "7", False)
    assert second.status == 503
    host = url.split("/")[2]
    assert (
        seen[0]
        == (
            f"POST /hooks/a?x=1 HTTP/1.1\r\nHost: {host}\r\nUser-Agent: minsheng-notifications\r\n"
            'webhook-id: ntf_1\r\nContent-Length: 7\r\n\r\n{"a":1}'
        ).encode()
    )
    assert len(seen) == 2
    assert kept == [1]  # one origin, its one connection kept for the next request


async def test_chunked_and_connection_ended_answers_are_understood() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    async with server(answering(chunked)) as (url, _):
        poster = Poster(timeout=5, limit=4)
        assert (await poster.post(url, b"{}", {})).status == 200
        assert (await poster.post(url, b"{}", {})).status == 200  # the same connection
        await poster.close()

    async def ended(requests: Requests, writer: asyncio.StreamWriter) -> None:
        await requests.next()
        writer.write(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\n\r\nthanks")
        await writer.drain()

    async with server(ended) as (url, seen):
        poster = Poster(timeout=5, limit=4)
        assert (await poster.post(url, b"{}", {})).status == 202
        assert (await poster.post(url, b"{}", {})).status == 202  # on a new connection
        await poster.close()
    assert len(seen) == 2


async def test_an_idle_connection_the_server_dropped_is_replaced_unseen() -> None:
    # every connection answers its first request and drops the second unanswered
    async with server(answering(OK, close_after=1)) as (url, seen):
        poster = Poster(timeout=5, limit=4)
        replies = [await poster.post(url, b"{}", {"webhook-id": f"ntf_{i}"}) for i in range(3)]
        await poster.close()
    assert [r.status for r in replies] == [200, 200, 200]
    assert len(seen) == 5  # 1, (2 dropped, 2 again), (3 dropped, 3 again)


async def test_an_answer_cut_short_is_an_error_not_a_retry() -> None:
    async def cut(requests: Requests, writer: asyncio.StreamWriter) -> None:
        await requests.next()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok")

    async with server(cut) as (url, seen):
        poster = Poster(timeout=5, limit=4)
        with pytest.raises(PostError, match="connection lost"):
            await poster.post(url, b"{}", {})
        await poster.close()
    assert len(seen) == 1


async def test_garbage_is_an_error_and_silence_a_timeout_that_spends_the_connection() -> None:
    async def garbage(requests: Requests, writer: asyncio.StreamWriter) -> None:
        await requests.next()
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        await requests.reader.read()

    async with server(garbage) as (url, _):
        poster = Poster(timeout=5, limit=4)
        with pytest.raises(PostError, match=r"not an HTTP/1\.1 answer"):
            await poster.post(url, b"{}", {})
        await poster.close()

    hold = asyncio.Event()

    async def mute(requests: Requests, writer: asyncio.StreamWriter) -> None:
        await requests.next()
        await hold.wait()

    async with server(mute) as (url, _):
        poster = Poster(timeout=0.2, limit=4)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(poster.post(url, b"{}", {}), 5)
        assert not any(poster._idle.values())
        hold.set()
        await poster.close()


@pytest.mark.parametrize(
    ("url", "headers", "problem"),
    [
        ("ftp://example.org/x", {}, "not an http"),
        ("http:///nohost", {}, "not an http"),
        ("http://example.org/a b", {}, "spaces or control"),
        ("http://example.org/a\r\nX: y", {}, "spaces or control"),
        ("http://example.org/", {"webhook-id": "a\r\nX: y"}, "split the request"),
        ("http://example.org/", {"bad:name": "v"}, "split the request"),
    ],
)
def test_a_request_that_could_be_split_is_refused(
    url: str, headers: dict[str, str], problem: str
) -> None:
    with pytest.raises(PostError, match=problem):
        request_bytes(url, b"{}", headers)


async def test_a_refused_connection_is_an_os_error() -> None:
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()
    poster = Poster(timeout=5, limit=4)
    with pytest.raises(ConnectionRefusedError):
        await poster.post(f"http://127.0.0.1:{port}/", b"{}", {})


async def test_a_request_that_waited_out_its_time_for_a_slot_is_never_sent() -> None:
    """Sent after its time, it would be retried while its receiver may take it."""
    hold, arrived = asyncio.Event(), asyncio.Event()

    async def slow(requests: Requests, writer: asyncio.StreamWriter) -> None:
        await requests.next()
        arrived.set()
        await hold.wait()
        writer.write(OK)
        await writer.drain()

    async with server(slow) as (url, seen):
        poster = Poster(timeout=1.0, limit=1)
        first = asyncio.create_task(poster.post(url, b'{"n":1}', {}))
        await asyncio.wait_for(arrived.wait(), 5)  # the first holds the only slot
        poster.timeout = 0.2  # the second's time is up while the first holds it
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(poster.post(url, b'{"n":2}', {}), 5)
        assert not first.done()  # given up at its own time, not once the slot was free
        with pytest.raises(TimeoutError):
            await first
        hold.set()
        await poster.close()
    assert len(seen) == 1
    assert seen[0].endswith(b'{"n":1}')
