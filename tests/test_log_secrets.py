"""No secret reaches a log line, also while the database fails (RELIABILITY row 16).

A driver error's message carries the statement's bound values unless the engine hides
them; the server logs that message with the traceback of a failed request. Here the
database really fails in the middle of registration, sign-in and posting: on SQLite a
trigger makes the insert fail (it calls a function that does not exist), on PostgreSQL
a trigger terminates the server's own connection (`pg_terminate_backend`) as an
administrator would.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text

from forum.auth import SESSION_COOKIE
from forum.db.engine import create_engine
from forum.db.models import AuthSession, Post, User
from tests.factory import PASSWORD
from tests.support import Client, LiveServer, client, registration

_HEX_DIGEST = re.compile(r"\b[0-9a-f]{64}\b")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


class Records(logging.Handler):
    """Every record, as a handler would write it: message and traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[Records]:
    """The records of our loggers (through caplog, at every level) and of uvicorn's,
    which do not propagate to the root logger."""
    caplog.set_level(logging.DEBUG)
    records = Records()
    uvicorn = logging.getLogger("uvicorn")
    root = logging.getLogger()
    uvicorn.addHandler(records)
    root.addHandler(records)
    try:
        yield records
    finally:
        uvicorn.removeHandler(records)
        root.removeHandler(records)


async def break_inserts(database_url: str, table: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            if database_url.startswith("sqlite"):
                await connection.execute(
                    text(
                        f"CREATE TRIGGER fault_{table} BEFORE INSERT ON {table} "
                        "BEGIN SELECT injected_fault(); END"
                    )
                )
                return
            await connection.execute(
                text(
                    "CREATE OR REPLACE FUNCTION cut_connection() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN "
                    "PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$"
                )
            )
            await connection.execute(
                text(
                    f"CREATE TRIGGER fault_{table} BEFORE INSERT ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION cut_connection()"
                )
            )
    finally:
        await engine.dispose()


async def mend_inserts(database_url: str, table: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            on = "" if database_url.startswith("sqlite") else f" ON {table}"
            await connection.execute(text(f"DROP TRIGGER fault_{table}{on}"))
    finally:
        await engine.dispose()


async def count(server: LiveServer, model: type[User] | type[AuthSession] | type[Post]) -> int:
    async with server.state["sessionmaker"]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def assert_clean(lines: list[str], *secrets: str) -> None:
    assert lines, "the failure was not logged at all"
    for line in lines:
        assert "$argon2" not in line, line
        assert not _HEX_DIGEST.search(line), line
        assert not _ADDRESS.search(line), line
        for secret in secrets:
            assert secret not in line, line


def assert_server_error(response_status: int, body: dict[str, object]) -> None:
    """A clean refusal, never an acknowledgement of what was not stored: a connection
    cut under the request (PostgreSQL) is `unavailable`, another failure a 500."""
    error = body["error"]
    assert isinstance(error, dict)
    if response_status == 503:
        assert error == {
            "code": "unavailable",
            "message": "The database is unavailable; try again shortly.",
            "retry_after_ms": 5000,
        }
        return
    assert response_status == 500
    assert error["code"] == "server_error"
    assert error["message"] == f"Something went wrong on our side (request {error['request_id']})."


async def test_a_failed_registration_logs_no_address_password_or_hash(
    server: LiveServer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await break_inserts(database_url, "users")
    body = registration(password="a passphrase nobody guesses")
    before = await count(server, User)
    with all_logs(caplog) as logs:
        async with client(server) as http:
            response = await http.post("/api/accounts", json=body)
    assert_server_error(response.status_code, response.json())
    assert await count(server, User) == before
    assert_clean(logs.lines, body["email"], body["password"])
    # The fault gone, the same registration goes through: the pool replaced the
    # connection that was cut.
    await mend_inserts(database_url, "users")
    async with client(server) as http:
        assert (await http.post("/api/accounts", json=body)).status_code == 201


async def test_a_failed_sign_in_logs_no_token_hash_or_address(
    server: LiveServer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with client(server) as http:
        person = await http.register()
    await break_inserts(database_url, "auth_sessions")
    sessions = await count(server, AuthSession)
    with all_logs(caplog) as logs:
        async with client(server) as http:
            for path in ("/api/auth/login", "/api/auth/token"):
                response = await http.post(
                    path, json={"email": person["email"], "password": PASSWORD}
                )
                assert_server_error(response.status_code, response.json())
                assert SESSION_COOKIE not in response.cookies
    assert await count(server, AuthSession) == sessions
    assert_clean(logs.lines, person["email"], PASSWORD)


async def test_a_failed_post_logs_no_cookie_or_token(
    server: LiveServer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    http: Client
    async with client(server) as http:
        await http.signup()
        cookie = http.cookies[SESSION_COOKIE]
        csrf = http.csrf
        assert csrf is not None
        await break_inserts(database_url, "posts")
        posts = await count(server, Post)
        with all_logs(caplog) as logs:
            response = await http.post(
                "/api/action-lines/C3/threads", json={"title": "Libraries", "body": "Open late"}
            )
        assert_server_error(response.status_code, response.json())
    assert await count(server, Post) == posts
    assert_clean(logs.lines, cookie, csrf, PASSWORD)
