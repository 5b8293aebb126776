"""Load test of the discussions: reading a 200-post thread (JSON and HTML) and posting,
against a bare Starlette endpoint measured in the same run.

    .venv/bin/python -m bench.discussions [--requests 2000] [--concurrency 16]
                                          [--seconds 15] [--write-docs] [--note TEXT]
                                          [--only SCENARIO] [--sqlite-synchronous FULL]

Both servers run `uvicorn` in their own process on a free port of 127.0.0.1: Agora is
`run.py` on a fresh SQLite database in a temporary directory, with the product's
defaults (rate limits included). Its accounts and their bearer tokens, and the
200-post thread, are written through the product's own actions before it starts. The
bare server (`bench/discussions_bare.py`) serves the bytes Agora answered for the
thread, and parses posts without storing them.

Signed out, a thread is served from the worker's memory while its board is unchanged
(docs/discussions.md, "Reading"); a signed-in reader's page is rendered for them on
every request, so the signed-in HTML scenario measures the whole read: the queries,
the rows and the template.

The client is one `httpx.AsyncClient` driving `--concurrency` tasks; each scenario
stops after `--requests` requests or `--seconds` seconds, whichever comes first.
Posts rotate over enough accounts that the per-account limit (20 a minute) is never
the bottleneck: a 429 would count as an error. They all come from 127.0.0.1, so the
per-address limit is raised (`FORUM_POST_IP_LIMIT`) to the number of requests.
`--sqlite-synchronous` sets SQLite's `synchronous` pragma (`FORUM_SQLITE_SYNCHRONOUS`,
FULL by default) and `--only` runs the scenarios whose name contains its text.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from forum.broker.memory import MemoryBroker
from forum.db.engine import create_engine, make_sessionmaker
from forum.db.migrate import upgrade
from forum.db.seed import seed_structure
from tests import factory

ROOT = Path(__file__).resolve().parent.parent
THREAD_POSTS = 200
POSTS_PER_ACCOUNT_MINUTE = 20  # Settings.post_limit per Settings.post_window
BODY = (
    "The **Tunis Agenda** asks for an open, inclusive process. Community networks and "
    "[public access points](https://example.org/access) need spectrum, backhaul and "
    "local content:\n\n- licences for community radio\n- universal service funds\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def prepare(database_url: str, accounts: int) -> tuple[int, list[str]]:
    """Accounts with bearer tokens, and a thread of THREAD_POSTS posts, nested."""
    engine = create_engine(database_url)
    await upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        await seed_structure(session)
    made = [
        await factory.make_person(
            sessionmaker,
            lifetime=timedelta(days=1),
            family="civil_society",
            name=f"Bench {n}",
            email=f"bench{n}@example.org",
            organization="Benchmark",
            password=None,
        )
        for n in range(accounts)
    ]
    async with sessionmaker() as session:
        thread_id, _posts = await factory.make_thread(
            session,
            MemoryBroker(),
            [person.user for person in made],
            posts=THREAD_POSTS,
            title="Bench",
            body=BODY,
        )
    await engine.dispose()
    return thread_id, [person.token for person in made]


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000


async def load(
    name: str,
    client: httpx.AsyncClient,
    make_request: object,
    *,
    total: int,
    seconds: float,
    concurrency: int,
    expect: int,
) -> Result:
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    send = make_request

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            n = next(counter)
            if n >= total:
                return
            started = time.perf_counter()
            response = await send(client, n)  # type: ignore[operator]
            latencies.append(time.perf_counter() - started)
            if response.status_code != expect:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(latencies), errors, time.perf_counter() - started, latencies)


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{command[1]} exited with {process.returncode}") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{command[1]} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def run(args: argparse.Namespace) -> list[tuple[Result, Result]]:
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    database_url = f"sqlite+aiosqlite:///{workdir / 'agora.db'}"
    # Enough accounts that no account posts more than its limit in a minute.
    accounts = max(4, args.requests // (POSTS_PER_ACCOUNT_MINUTE - 2) + 1)
    thread_id, tokens = await prepare(database_url, accounts)

    agora_port, bare_port = free_port(), free_port()
    env = {
        **os.environ,
        "FORUM_DATABASE_URL": database_url,
        "FORUM_DATA_DIR": str(workdir),
        "FORUM_SECRET_KEY": secrets.token_urlsafe(32),
        "FORUM_POST_IP_LIMIT": str(args.requests + 1),
        "FORUM_SQLITE_SYNCHRONOUS": args.sqlite_synchronous,
    }
    agora = start(
        [sys.executable, "run.py", "--port", str(agora_port), "--log-level", "warning"],
        env,
        agora_port,
    )
    captured = workdir / "captured"
    captured.mkdir()
    results: list[tuple[Result, Result]] = []
    try:
        agora_url = f"http://127.0.0.1:{agora_port}"
        bare_url = f"http://127.0.0.1:{bare_port}"
        limits = httpx.Limits(max_connections=args.concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            thread_json = await client.get(f"{agora_url}/api/threads/{thread_id}")
            assert len(thread_json.json()["posts"]) == THREAD_POSTS
            thread_html = await client.get(f"{agora_url}/threads/{thread_id}")
            assert len(re.findall('class="post ', thread_html.text)) == THREAD_POSTS
            member = {"Authorization": f"Bearer {tokens[0]}"}
            member_html = await client.get(f"{agora_url}/threads/{thread_id}", headers=member)
            assert len(re.findall('class="post ', member_html.text)) == THREAD_POSTS
            assert 'name="csrf_token"' in member_html.text  # rendered for this reader
            (captured / "thread.json").write_bytes(thread_json.content)
            (captured / "thread.html").write_bytes(thread_html.content)
            (captured / "member.html").write_bytes(member_html.content)
            bare = start(
                [
                    sys.executable,
                    "bench/discussions_bare.py",
                    "--port",
                    str(bare_port),
                    "--captured",
                    str(captured),
                ],
                env,
                bare_port,
            )
            try:
                options = {
                    "total": args.requests,
                    "seconds": args.seconds,
                    "concurrency": args.concurrency,
                }

                def get(url: str, headers: dict[str, str] | None = None) -> object:
                    return lambda c, n: c.get(url, headers=headers)

                def post(url: str, *, auth: bool) -> object:
                    def send(c: httpx.AsyncClient, n: int) -> object:
                        headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
                        return c.post(
                            url,
                            json={"body": f"{BODY}\nLoad {n}."},
                            headers=headers if auth else {},
                        )

                    return send

                scenarios = [
                    (
                        "read 200-post thread, JSON",
                        get(f"{agora_url}/api/threads/{thread_id}"),
                        get(f"{bare_url}/thread.json"),
                        200,
                    ),
                    (
                        "read 200-post thread, HTML",
                        get(f"{agora_url}/threads/{thread_id}"),
                        get(f"{bare_url}/thread.html"),
                        200,
                    ),
                    (
                        "read 200-post thread, HTML, signed in",
                        get(f"{agora_url}/threads/{thread_id}", member),
                        get(f"{bare_url}/member.html"),
                        200,
                    ),
                    (
                        "post a reply",
                        post(f"{agora_url}/api/threads/{thread_id}/posts", auth=True),
                        post(f"{bare_url}/posts", auth=False),
                        201,
                    ),
                ]
                for name, agora_request, bare_request, status in scenarios:
                    if args.only not in name:
                        continue
                    ours = await load(name, client, agora_request, expect=status, **options)
                    reference = await load(name, client, bare_request, expect=status, **options)
                    results.append((ours, reference))
            finally:
                stop(bare)
    finally:
        stop(agora)
    return results


def table(results: list[tuple[Result, Result]], args: argparse.Namespace) -> str:
    lines = [
        "| scenario | Agora req/s | Agora p50 ms | Agora p99 ms | bare req/s | bare p99 ms "
        "| req/s ratio (Agora / bare) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ours, bare in results:
        lines.append(
            f"| {ours.name} | {ours.rps:.0f} | {ours.p50:.1f} | {ours.pct(0.99):.1f} "
            f"| {bare.rps:.0f} | {bare.pct(0.99):.1f} | {ours.rps / bare.rps:.2f} "
            f"| {ours.errors} / {bare.errors} |"
        )
    return "\n".join(lines)


SECTION = """## Discussions

Reading a 200-post thread (JSON API and HTML page, signed out and signed in) and
posting a reply, against a bare Starlette endpoint in the same run
(`bench/discussions_bare.py`: the same response bytes from memory; posts parsed, not
stored). Both on uvicorn in their own process on 127.0.0.1, one Python client
(`httpx`, {concurrency} concurrent requests, at most {requests} requests or {seconds} s
per scenario). Agora runs `run.py` with its defaults on SQLite; a post is validated,
rendered, written with its revision and search entry, and published. Signed out, a
thread comes from the worker's memory while its board is unchanged (one query for the
board's `seq`); signed in, the page is rendered for its reader on every request.

Command:

    .venv/bin/python -m bench.discussions --requests {requests} \\
        --concurrency {concurrency} --seconds {seconds} --write-docs

{table}

Measured {when} on {cpus} CPUs.{note} The client shares the machine: its own cost
bounds the bare server's figures.
"""


def write_docs(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    # Replace our section only, up to the next "## " heading; others stay as they are.
    pattern = re.compile(r"^## Discussions\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--note", default="", help="what else ran on the machine")
    parser.add_argument("--only", default="", help="run the scenarios whose name has this")
    parser.add_argument("--sqlite-synchronous", default="FULL", choices=["FULL", "EXTRA", "NORMAL"])
    args = parser.parse_args()
    results = asyncio.run(run(args))
    text = table(results, args)
    print(text)
    if args.write_docs:
        write_docs(
            SECTION.format(
                concurrency=args.concurrency,
                requests=args.requests,
                seconds=f"{args.seconds:g}",
                table=text,
                when=time.strftime("%Y-%m-%d", time.gmtime()),
                cpus=os.cpu_count(),
                note=f" {args.note}" if args.note else "",
            )
        )


if __name__ == "__main__":
    main()
