"""Load test of the discussions: reading a 200-post thread (JSON and HTML) and posting,
against a bare Starlette endpoint measured in the same run.

    .venv/bin/python -m bench.discussions [--seconds 10] [--read-connections 64]
                                          [--writers 16] [--write-docs] [--note TEXT]
                                          [--only SCENARIO] [--sqlite-synchronous FULL]

Both servers run `uvicorn` in their own process on a free port of 127.0.0.1: Agora is
`run.py` on a fresh SQLite database in a temporary directory, with the product's
defaults (rate limits included). Its accounts and their bearer tokens, and the
200-post thread, are written through the product's own actions before it starts. The
bare server (`bench/discussions_bare.py`) serves the bytes Agora answered for the
thread, and parses posts without storing them.

Signed out, a thread is served from the worker's memory while its board is unchanged
(docs/discussions.md, "Reading"); a signed-in reader's page is put together for them
on every request from what the worker keeps for the board (their name, CSRF token and
buttons put in), so the signed-in HTML scenario measures that assembly and the
reader's own parts.

The load is `wrk` (bench/wrk.py), pinned to the CPUs the servers do not use, with
the share of its core it needed beside each figure; `--write-docs` refuses a run whose
generator went above 80 %. Posts rotate over the accounts' tokens, each with a body of
its own; the generator is one address and a few accounts, so the post limits are raised
through their settings (`FORUM_POST_LIMIT`, `FORUM_POST_IP_LIMIT`).
`--sqlite-synchronous` sets SQLite's `synchronous` pragma (`FORUM_SQLITE_SYNCHRONOUS`,
FULL by default) and `--only` runs the scenarios whose name contains its text.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from bench import wrk
from bench.servers import tree_cpu_seconds
from forum.broker.memory import MemoryBroker
from forum.db.engine import create_engine, make_sessionmaker
from forum.db.migrate import upgrade
from forum.db.seed import seed_structure
from tests import factory

ROOT = Path(__file__).resolve().parent.parent
THREAD_POSTS = 200
ACCOUNTS = 64  # the posts rotate over them
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


@dataclass(frozen=True)
class Scenario:
    name: str
    agora: str
    bare: str
    connections: int
    headers: dict[str, str] | None = None
    script: str = ""


@dataclass(frozen=True)
class Measured:
    scenario: Scenario
    agora: wrk.Load
    bare: wrk.Load
    agora_cpu_s: float
    bare_cpu_s: float

    @property
    def generator_bound(self) -> bool:
        return self.agora.generator_bound or self.bare.generator_bound


def measure(
    scenario: Scenario, agora: int, bare: int, cpus: tuple[int, ...], seconds: float
) -> Measured:
    """The same load on Agora, then on the bare server, each with its server's CPU."""
    loads: list[tuple[wrk.Load, float]] = []
    for url, pid in ((scenario.agora, agora), (scenario.bare, bare)):
        before = sum(tree_cpu_seconds(pid).values())
        load = wrk.run(
            url,
            seconds=seconds,
            connections=scenario.connections,
            cpus=cpus,
            headers=scenario.headers,
            script=scenario.script,
        )
        loads.append((load, sum(tree_cpu_seconds(pid).values()) - before))
    (ours, ours_cpu), (reference, reference_cpu) = loads
    return Measured(scenario, ours, reference, ours_cpu, reference_cpu)


def pinned(command: list[str], cpus: tuple[int, ...]) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, cpus)), *command] if cpus else command


async def run(args: argparse.Namespace) -> list[Measured]:
    workdir = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    database_url = f"sqlite+aiosqlite:///{workdir / 'agora.db'}"
    thread_id, tokens = await prepare(database_url, ACCOUNTS)
    # With two CPUs or more the servers get the first, the generator the others.
    available = tuple(sorted(os.sched_getaffinity(0)))
    server_cpus, generator_cpus = (
        (available[:1], available[1:]) if args.pin and len(available) > 1 else ((), ())
    )

    agora_port, bare_port = free_port(), free_port()
    # A post per account is limited to 20 a minute and per address to 120 (the
    # defaults); the generator is one account pool on one address, so both are raised
    # through their settings to what the run can ask for.
    most = str(int(args.seconds * 2000) + 1)
    env = {
        **os.environ,
        "FORUM_DATABASE_URL": database_url,
        "FORUM_DATA_DIR": str(workdir),
        "FORUM_SECRET_KEY": secrets.token_urlsafe(32),
        "FORUM_POST_IP_LIMIT": most,
        "FORUM_POST_LIMIT": most,
        "FORUM_SQLITE_SYNCHRONOUS": args.sqlite_synchronous,
    }
    run_py = [sys.executable, "run.py", "--port", str(agora_port), "--log-level", "warning"]
    agora = start(pinned(run_py, server_cpus), env, agora_port)
    captured = workdir / "captured"
    captured.mkdir()
    results: list[Measured] = []
    try:
        agora_url = f"http://127.0.0.1:{agora_port}"
        bare_url = f"http://127.0.0.1:{bare_port}"
        member = {"Authorization": f"Bearer {tokens[0]}"}
        async with httpx.AsyncClient(timeout=30) as client:
            thread_json = await client.get(f"{agora_url}/api/threads/{thread_id}")
            assert len(thread_json.json()["posts"]) == THREAD_POSTS
            thread_html = await client.get(f"{agora_url}/threads/{thread_id}")
            assert len(re.findall('class="post ', thread_html.text)) == THREAD_POSTS
            member_html = await client.get(f"{agora_url}/threads/{thread_id}", headers=member)
            assert len(re.findall('class="post ', member_html.text)) == THREAD_POSTS
            assert 'name="csrf_token"' in member_html.text  # rendered for this reader
        (captured / "thread.json").write_bytes(thread_json.content)
        (captured / "thread.html").write_bytes(thread_html.content)
        (captured / "member.html").write_bytes(member_html.content)
        bare_py = [
            sys.executable,
            "bench/discussions_bare.py",
            "--port",
            str(bare_port),
            "--captured",
            str(captured),
        ]
        bare = start(pinned(bare_py, server_cpus), env, bare_port)
        try:
            reads = args.read_connections
            scenarios = [
                Scenario(
                    "read 200-post thread, JSON",
                    f"{agora_url}/api/threads/{thread_id}",
                    f"{bare_url}/thread.json",
                    reads,
                ),
                Scenario(
                    "read 200-post thread, HTML",
                    f"{agora_url}/threads/{thread_id}",
                    f"{bare_url}/thread.html",
                    reads,
                ),
                Scenario(
                    "read 200-post thread, HTML, signed in",
                    f"{agora_url}/threads/{thread_id}",
                    f"{bare_url}/member.html",
                    reads,
                    headers=member,
                ),
                Scenario(
                    "post a reply",
                    f"{agora_url}/api/threads/{thread_id}/posts",
                    f"{bare_url}/posts",
                    args.writers,
                    script=wrk.posts_script(tokens, f"{BODY}\nLoad "),
                ),
            ]
            results = [
                measure(scenario, agora.pid, bare.pid, generator_cpus, args.seconds)
                for scenario in scenarios
                if args.only in scenario.name
            ]
        finally:
            stop(bare)
    finally:
        stop(agora)
    return results


def table(results: list[Measured]) -> str:
    lines = [
        "| scenario | conns | Agora req/s | p50 ms | p99 ms | CPU/req | bare req/s | bare p99 ms "
        "| bare CPU/req | ratio | generator (Agora, bare) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results:
        ours, bare = row.agora, row.bare
        flag = " **generator-bound**" if row.generator_bound else ""
        lines.append(
            f"| {row.scenario.name} | {row.scenario.connections} | {ours.rps:,.0f} "
            f"| {ours.p50_ms:.1f} | {ours.p99_ms:.1f} "
            f"| {row.agora_cpu_s / max(1, ours.requests) * 1e6:,.0f} µs "
            f"| {bare.rps:,.0f} | {bare.p99_ms:.1f} "
            f"| {row.bare_cpu_s / max(1, bare.requests) * 1e6:,.0f} µs "
            f"| {ours.rps / bare.rps:.2f} "
            f"| {ours.generator_share:.0%}, {bare.generator_share:.0%}{flag} "
            f"| {ours.status_errors + ours.socket_errors} / "
            f"{bare.status_errors + bare.socket_errors} |"
        )
    return "\n".join(lines)


SECTION = """## Discussions

Reading a 200-post thread (JSON API and HTML page, signed out and signed in) and
posting a reply, against a bare Starlette endpoint in the same run
(`bench/discussions_bare.py`: the same response bytes from memory; posts parsed, not
stored). Both on uvicorn in their own process on 127.0.0.1, {pinning} The load is
`wrk` with one thread: {reads} connections for reads, {writers} writers for posts (each
post with the next of {accounts} accounts' tokens and a body of its own), {seconds} s per
scenario and server. Agora runs `run.py` with its defaults on SQLite, the post limits
raised through their settings (`FORUM_POST_LIMIT`, `FORUM_POST_IP_LIMIT`) so that no
request is refused; a post is validated, rendered, written with its revision and search
entry, and published. "CPU/req" is the server's CPU time (every process of its tree)
divided by the requests it answered; "generator" is the share of its core `wrk` used,
and a run above {limit:.0%} is not published (it would measure the generator).

Command:

    .venv/bin/python -m bench.discussions --seconds {seconds} --write-docs

{table}

Measured {when} at {revision} on {cpus} CPUs.{note}
"""


def write_docs(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    # Replace our table only, up to the next heading ("## " or "### "): the sections and
    # subsections written by hand after it stay as they are.
    pattern = re.compile(r"^## Discussions\n.*?(?=^###? |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario and server")
    parser.add_argument("--read-connections", type=int, default=64)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--note", default="", help="what else ran on the machine")
    parser.add_argument("--only", default="", help="run the scenarios whose name has this")
    parser.add_argument("--sqlite-synchronous", default="FULL", choices=["FULL", "EXTRA", "NORMAL"])
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="let servers and wrk share CPUs"
    )
    args = parser.parse_args()
    if not wrk.available():
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    results = asyncio.run(run(args))
    text = table(results)
    print(text)
    if not args.write_docs:
        return
    if any(row.generator_bound for row in results):
        sys.exit(f"not written: the generator used more than {wrk.GENERATOR_LIMIT:.0%} of its core")
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    write_docs(
        SECTION.format(
            pinning="the servers on the first CPU and `wrk` on the others."
            if args.pin
            else "sharing every CPU with `wrk`.",
            reads=args.read_connections,
            writers=args.writers,
            accounts=ACCOUNTS,
            seconds=f"{args.seconds:g}",
            limit=wrk.GENERATOR_LIMIT,
            table=text,
            when=time.strftime("%Y-%m-%d", time.gmtime()),
            revision=revision or "an unknown revision",
            cpus=os.cpu_count(),
            note=f" {args.note}" if args.note else "",
        )
    )


if __name__ == "__main__":
    main()
