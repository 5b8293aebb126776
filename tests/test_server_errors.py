"""An unexpected error, made for real by a database that lost a table: one clean 500
(JSON for the API, a page for pages) naming a request id, one short log line with the
same id, and a connection that is closed cleanly rather than broken."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tests.support import Client, LiveServer


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self) -> list[str]:
        return [self.format(record) for record in self.records if record.levelno >= logging.ERROR]


@pytest.fixture
def logged() -> Iterator[Records]:
    """Records of the forum's loggers and of uvicorn's (which does not propagate)."""
    handler = Records()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


async def lose_a_table(server: LiveServer) -> None:
    async with server.state["sessionmaker"]() as session, session.begin():
        await session.execute(text("ALTER TABLE action_lines RENAME TO action_lines_gone"))


async def exchange(server: LiveServer, raw: bytes) -> tuple[bytes, bytes]:
    """Send raw requests on one connection; (everything answered, what came after the
    first response: b"" when the server closed the connection cleanly)."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(raw)
        await writer.drain()
        answered = await asyncio.wait_for(reader.read(), 10)  # until the server closes
    finally:
        writer.close()
    head, _, rest = answered.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    return answered, rest[length:]


async def test_an_unexpected_error_is_one_clean_500_and_one_log_line(
    server: LiveServer, http: Client, logged: Records
) -> None:
    await lose_a_table(server)
    response = await http.get("/api/action-lines")
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    request_id = response.headers["x-request-id"]
    error = response.json()["error"]
    assert error["code"] == "server_error" and error["request_id"] == request_id
    assert request_id in error["message"]
    assert "content-security-policy" in response.headers
    [line] = logged.errors()
    assert request_id in line and "/api/action-lines" in line
    assert len(line) < 300 and "Traceback" not in line
    # The client opens a fresh connection for the next request, which works.
    assert (await http.get("/healthz")).status_code == 200


async def test_the_connection_of_a_500_is_closed_cleanly_not_reused(
    server: LiveServer, logged: Records
) -> None:
    await lose_a_table(server)
    # Two requests sent at once on one keep-alive connection: the first fails.
    raw = (
        b"GET /api/action-lines HTTP/1.1\r\nHost: forum\r\n\r\n"
        b"GET /api/groups HTTP/1.1\r\nHost: forum\r\n\r\n"
    )
    answered, after = await exchange(server, raw)
    assert answered.startswith(b"HTTP/1.1 500 ")
    assert b"\r\nconnection: close\r\n" in answered.lower()
    assert b'"code":"server_error"' in answered
    # One whole response, then the end of the stream: not a second answer read as
    # part of the first, nor a reset.
    assert after == b""
    assert len(logged.errors()) == 1


async def test_a_page_that_fails_is_a_500_page(
    server: LiveServer, http: Client, logged: Records
) -> None:
    await lose_a_table(server)
    response = await http.get("/", headers={"accept": "text/html"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    request_id = response.headers["x-request-id"]
    assert request_id in response.text and "<html" in response.text.lower()
    [line] = logged.errors()
    assert request_id in line
