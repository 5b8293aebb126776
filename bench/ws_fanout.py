"""Fan-out of a live room: Agora against a bare `websockets` broadcast server.

    python -m bench.ws_fanout            # N = 100, 1000, 3000 (about 7 minutes)
    python -m bench.ws_fanout --quick    # N = 100 only
    python -m bench.ws_fanout --listener c,python   # both listeners, one after the other

For each N and each server (a fresh process each time, on 127.0.0.1): connect N
listeners in `--clients` processes, then send `rate * seconds` interventions at a
fixed rate, each carrying its send time, and measure what the listeners receive:
delivered frames per second, latency from send to receipt (p50, p99), messages lost
(N x sent minus received, counted by `seq`), and the server's resident memory per
connection (RSS before and after the listeners connect, divided by N).

The servers: Agora (`run.py`, its defaults, a fresh SQLite database), the bare
`websockets.broadcast()` relay (`bench/bare_server.py`) and the same relay on uvicorn and
Starlette (`bench/asgi_server.py`), which separates what the ASGI stack costs from what
Agora does. With two CPUs or more the server runs on the first and the clients on the
others (`--no-pin` to share them).

The listeners are `bench/lean_listener.c` (compiled with gcc on first use), one epoll
process per `--clients`, or with `--listener python` the `websockets` client; see
`bench/listeners.py`. The speakers are the same program in its speaker mode, one
process, or with `--speakers python` `websockets` clients in this process; see
`bench/speakers.py`. The generator's share of its CPUs (listeners and speakers) is
reported: above 80% it measured itself, and `--write-docs` refuses.

The interventions come from several speakers in turn: the product allows one person 20
interventions a minute and one connection 40 frames in 10 s, and the benchmark keeps
those limits. Prints a table; writes everything to bench/results/ws_fanout-*.json, and
with `--write-docs` the figures to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench import listeners, speakers
from bench import ws_fanout_docs as docs
from bench.servers import (
    ROOT,
    Agora,
    Relay,
    Server,
    cpu_seconds,
    machine_busy,
    rss_bytes,
)

RESULTS = Path(__file__).resolve().parent / "results"
RELAYS = {"bare": "bench.bare_server", "asgi": "bench.asgi_server"}
SIZES = (100, 1000, 3000)
PER_SPEAKER = 15  # bench interventions per speaker: under 20 a minute with the warm-up
SETTLE_S = 1.0
BUSY_WARNING = 0.25
GENERATOR_LIMIT = 0.80  # above it, a run measured its own listeners
LEAD_S = 0.2


# What Agora's listeners receive for an intervention; the bare server sends the same
# (the frame Agora sent in the same run replaces this one when there is one).
BARE_TEMPLATE: dict[str, Any] = {
    "user_id": 3,
    "name": "Bench speaker0",
    "family": "government",
    "seat": "participant",
    "body": "",
    "on_floor": False,
    "type": "intervention",
    "op": "post",
    "room": 1,
    "seq": 0,
    "actor": 3,
    "at": "2005-11-16T09:00:00.000000+00:00",
}


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    rate: float
    seconds: float
    clients: int
    grace: float
    body_chars: int
    servers: tuple[str, ...] = ("agora", "bare", "asgi")
    # The server's CPUs; the clients get the others. Empty: everyone shares every CPU.
    server_cpus: tuple[int, ...] = ()
    # Agora on a fresh database of this PostgreSQL server, with a Redis of its own.
    postgres: str | None = None
    workers: tuple[int, ...] = (1,)
    listeners: tuple[str, ...] = ("c",)
    speaker: str = "c"  # the speakers: c (lean_listener.c --speak) or python

    @property
    def messages(self) -> int:
        return round(self.rate * self.seconds)

    @property
    def speakers(self) -> int:
        return math.ceil(self.messages / PER_SPEAKER)


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_listeners(
    server: Server, n: int, clients: int, listener: str, binary: str | None
) -> list[tuple[multiprocessing.process.BaseProcess, Connection]]:
    context = multiprocessing.get_context("spawn")
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    shares = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    for share in shares:
        if not share:
            continue
        plan = listeners.Plan(
            url=server.ws_url,
            connections=share,
            headers=server.listener_headers(),
            join=server.listener_join(),
            listener=listener,
            binary=binary,
        )
        mine, theirs = context.Pipe()
        process = context.Process(target=listeners.run, args=(plan, theirs), daemon=True)
        process.start()
        workers.append((process, mine))
    return workers


async def measure(
    server: Server, n: int, options: Options, listener: str = "c", binary: str | None = None
) -> dict[str, Any]:
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    voices = speakers.make(options.speaker, server, options.speakers, options.body_chars, binary)
    server.cpus = set(options.server_cpus) or None
    busy = await asyncio.to_thread(machine_busy)
    if busy > BUSY_WARNING:
        print(
            f"  warning: the machine is {busy:.0%} busy before {server.name} N={n}: other "
            "work is running, the figures will be off",
            file=sys.stderr,
            flush=True,
        )
    await server.start(options.speakers)
    try:
        await voices.open()
        await voices.warm_up()
        rss_before = rss_bytes(server.pid)

        workers = start_listeners(server, n, options.clients, listener, binary)
        ready = [(await asyncio.to_thread(pipe.recv))[1] for _, pipe in workers]
        connected = sum(r["connected"] for r in ready)
        if connected < n:
            errors = [e for r in ready for e in r["errors"]]
            print(f"  {server.name}: {n - connected} of {n} listeners failed: {errors}")
        await asyncio.sleep(SETTLE_S)
        rss_after = rss_bytes(server.pid)
        print(
            f"  {server.name} N={n}: {connected} {listener} listeners in "
            f"{max(r['connect_s'] for r in ready):.1f} s; speaking",
            file=sys.stderr,
            flush=True,
        )

        # Every process of the server (uvicorn's workers, Redis) and of the generator
        # (the speakers here, the listeners' processes) is counted, from /proc.
        pids = server.server_pids()
        cpu_before = cpu_of(pids)
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.monotonic() + LEAD_S
        deadline = start + options.messages / options.rate + options.grace
        for _, pipe in workers:
            pipe.send(("go", options.messages, deadline))
        await voices.speak(options.messages, options.rate, start, deadline)
        results = [(await asyncio.to_thread(pipe.recv))[1] for _, pipe in workers]
        spoken = await voices.finish()
        sent = spoken.sent
        server.sample = spoken.sample
        cpu_after = cpu_of(pids)
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        by_process = {pid: cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after}
        cpu_used = sum(by_process.values())
        # The C speakers' process since its first send, and this one's meanwhile.
        speakers_cpu = (
            spoken.cpu_s
            + (own_after.ru_utime + own_after.ru_stime)
            - (own_before.ru_utime + own_before.ru_stime)
        )
        rss_end = rss_bytes(server.pid)
        for _, pipe in workers:
            pipe.send(("exit",))
    finally:
        await voices.close()
        await server.stop()
        for process, _ in workers:
            await asyncio.to_thread(process.join, 10)
            if process.is_alive():
                process.terminate()

    latencies = sorted(x for r in results for x in r["latencies"])
    received = sum(r["received"] for r in results)
    last = max((r["last"] for r in results if r["received"]), default=sent[-1])
    acks = sorted(t - sent[i] for i, t in spoken.acks.items() if 0 <= i < len(sent))
    closed: dict[str, int] = {}
    by_index: dict[int, int] = {}
    for r in results:
        for code, count in r["closed"].items():
            closed[code] = closed.get(code, 0) + count
        for index, count in r["by_index"].items():
            by_index[index] = by_index.get(index, 0) + count
    # Which interventions some listeners missed, and how many listeners got each.
    short = {i: by_index.get(i, 0) for i in range(len(sent)) if by_index.get(i, 0) < connected}
    span = last - sent[0]
    return {
        "server": server.name,
        "listeners": n,
        "listener": listener,
        "connected": connected,
        "machine_busy_before": round(busy, 3),
        "sent": len(sent),
        "speaker": options.speaker,
        "speaker_errors": spoken.errors[:5],
        "speaker_closed": spoken.closed,
        "acked": len(acks),
        # Interventions the server committed (acked) and refused (an error frame).
        "committed": len(acks),
        "refused": len(spoken.refused),
        "refusals": dict(list(spoken.refused.items())[:20]),
        "short": dict(list(short.items())[:20]),
        "offered_per_s": connected * options.rate,
        "delivered": received,
        "delivered_per_s": received / span if span > 0 else math.nan,
        "lost": connected * len(sent) - received,
        "duplicates": sum(r["duplicates"] for r in results),
        "closed": closed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else math.nan) * 1000,
        "ack_p50_ms": percentile(acks, 0.50) * 1000,
        "ack_p99_ms": percentile(acks, 0.99) * 1000,
        "span_s": span,
        "frame_bytes": sum(r["frame_bytes"] for r in results) / received if received else 0,
        "connect_s": max(r["connect_s"] for r in ready),
        "rss_before_mib": rss_before / 2**20,
        "rss_after_mib": rss_after / 2**20,
        "rss_end_mib": rss_end / 2**20,
        "kib_per_connection": (rss_after - rss_before) / max(1, connected) / 1024,
        "server_cpu_s": cpu_used,
        "server_cpu_us_per_frame": cpu_used / received * 1e6 if received else math.nan,
        "client_cpu_s": [round(r["cpu_s"], 2) for r in results],
        # Of which in the kernel (reads, TCP).
        "client_sys_s": [round(r.get("sys_s", math.nan), 2) for r in results],
        # The C listener's wake-ups (epoll_wait() calls with events) and read() calls.
        "client_wakeups": sum(r.get("wakeups", 0) for r in results),
        "client_reads": sum(r.get("reads", 0) for r in results),
        "speakers_cpu_s": round(speakers_cpu, 3),
        "speakers_sys_s": round(spoken.sys_s, 3),
        "speakers_received": spoken.received,
        "speakers_cpu_us_per_received": speakers_cpu / spoken.received * 1e6
        if spoken.received
        else math.nan,
        # The speakers' CPU per intervention sent (they also read every room event).
        "speakers_cpu_us_per_sent": speakers_cpu / len(sent) * 1e6 if sent else math.nan,
        "server_cpu_by_process_s": [round(v, 2) for v in by_process.values()],
        "generator_cpu_s": speakers_cpu + sum(r["cpu_s"] for r in results),
        # The share of the generator's CPUs (those this process may run on) it used
        # while the interventions were delivered: near 1, it was the limit.
        "generator_share": (speakers_cpu + sum(r["cpu_s"] for r in results))
        / (span * len(os.sched_getaffinity(0)))
        if span > 0
        else math.nan,
        "generator_cpu_us_per_frame": (speakers_cpu + sum(r["cpu_s"] for r in results))
        / received
        * 1e6
        if received
        else math.nan,
    }


def cpu_of(pids: list[int]) -> dict[int, float]:
    used = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            used[pid] = cpu_seconds(pid)
    return used


COLUMNS: list[tuple[str, str, Callable[[dict[str, Any]], str]]] = [
    ("server", "<6", lambda r: r["server"]),
    ("lstn", "<6", lambda r: r.get("listener", "python")),
    ("N", ">5", lambda r: str(r["listeners"])),
    ("offered/s", ">9", lambda r: f"{r['offered_per_s']:.0f}"),
    ("deliv/s", ">8", lambda r: f"{r['delivered_per_s']:.0f}"),
    ("p50 ms", ">7", lambda r: f"{r['p50_ms']:.1f}"),
    ("p99 ms", ">7", lambda r: f"{r['p99_ms']:.1f}"),
    ("lost", ">6", lambda r: str(r["lost"])),
    ("KiB/conn", ">8", lambda r: f"{r['kib_per_connection']:.1f}"),
    ("join s", ">6", lambda r: f"{r['connect_s']:.1f}"),
    ("srv CPU s", ">9", lambda r: f"{r['server_cpu_s']:.1f}"),
    ("us/frame", ">8", lambda r: f"{r['server_cpu_us_per_frame']:.1f}"),
    ("gen us/f", ">8", lambda r: f"{r.get('generator_cpu_us_per_frame', math.nan):.1f}"),
    ("gen %", ">5", lambda r: f"{r.get('generator_share', math.nan):.0%}"),
    (
        "ack p50",
        ">7",
        lambda r: f"{r['ack_p50_ms']:.1f}" if r["server"].startswith("agora") else "-",
    ),
]


def table(rows: list[dict[str, Any]]) -> str:
    lines = [" ".join(f"{name:{align}}" for name, align, _ in COLUMNS)]
    lines += [" ".join(f"{cell(r):{align}}" for _, align, cell in COLUMNS) for r in rows]
    by_n: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_n.setdefault((r["listeners"], r.get("listener", "python")), {})[r["server"]] = r
    for (n, listener), pair in by_n.items():
        if "agora" in pair and "bare" in pair and pair["bare"]["delivered_per_s"]:
            ratio = pair["agora"]["delivered_per_s"] / pair["bare"]["delivered_per_s"]
            lines.append(
                f"N={n} ({listener} listener): Agora delivers {ratio:.0%} of the bare server's rate"
            )
    return "\n".join(lines)


def raise_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head} with local changes" if changed else head


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "revision": revision(),
        "versions": {p: version(p) for p in ("uvicorn", "websockets", "starlette", "sqlalchemy")},
    }


async def main(options: Options, argv: list[str], *, write_docs: bool = False) -> None:
    files = raise_file_limit()
    needed = max(options.sizes) + 100
    if files < needed:
        sys.exit(f"open files limited to {files}; {needed} needed")
    lean = "c" in options.listeners or options.speaker == "c"
    binary = str(listeners.build()) if lean else None
    print(
        f"{options.messages} interventions at {options.rate:g}/s from {options.speakers} "
        f"{options.speaker} speakers; {', '.join(options.listeners)} listeners in "
        f"{options.clients} processes"
    )
    server_cpus = set(options.server_cpus)
    if server_cpus:
        clients = os.sched_getaffinity(0) - server_cpus
        os.sched_setaffinity(0, clients)  # the listener processes inherit this
        print(f"server on CPU {sorted(server_cpus)}, clients on CPUs {sorted(clients)}")
    print(table([]))
    rows: list[dict[str, Any]] = []
    template = dict(BARE_TEMPLATE)
    started = datetime.now(UTC)
    for n in options.sizes:
        runs = [
            (kind, w, listener)
            for listener in options.listeners
            for kind in options.servers
            for w in (options.workers if kind == "agora" else (1,))
        ]
        for name, workers, listener in runs:
            server = (
                Agora(postgres=options.postgres, workers=workers)
                if name == "agora"
                else Relay(name, RELAYS[name], template)
            )
            rows.append(await measure(server, n, options, listener, binary))
            print(table(rows[-1:]).splitlines()[1], flush=True)
            row = rows[-1]
            if row["speaker_closed"] or row["closed"] or row["speaker_errors"]:
                print(
                    f"  closed speakers: {row['speaker_closed']}, closed listeners: "
                    f"{row['closed']}, speaker errors: {row['speaker_errors']}",
                    file=sys.stderr,
                )
            if server.sample is not None:
                template = server.sample
    print()
    print(table(rows))
    run = {
        "command": " ".join(["python -m bench.ws_fanout", *argv]),
        "started": started.isoformat(),
        "options": asdict(options),
        "machine": machine(),
        "results": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"ws_fanout-{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(run, indent=2) + "\n")
    print(f"\nwritten to {path.relative_to(ROOT)}")
    bound = [r for r in rows if r.get("generator_share", 0) > GENERATOR_LIMIT]
    if write_docs and len(options.listeners) > 1:
        sys.exit("not written to docs: the page takes the runs of one listener")
    if write_docs and bound:
        sys.exit(
            f"not written to docs: the generator used more than {GENERATOR_LIMIT:.0%} of its "
            f"CPUs in {len(bound)} run(s), which then measured the generator"
        )
    if write_docs:
        docs.write(run)
        print(f"figures written to {docs.PATH.relative_to(ROOT)}")


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(description="Fan-out of a live room: Agora vs bare.")
    parser.add_argument("--quick", action="store_true", help="N = 100 only")
    parser.add_argument(
        "--sizes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=SIZES,
        help="listener counts, comma-separated",
    )
    parser.add_argument("--rate", type=float, default=20.0, help="interventions per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to speak")
    parser.add_argument("--clients", type=int, default=2, help="listener processes")
    parser.add_argument(
        "--grace",
        type=float,
        default=30.0,
        help="seconds to wait for stragglers after the last send",
    )
    parser.add_argument("--body-chars", type=int, default=160, help="intervention length")
    parser.add_argument(
        "--servers",
        default="agora,bare,asgi",
        help="which servers to measure: agora, bare (websockets), asgi (uvicorn relay)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="put the figures in docs/benchmarks.md (between its ws_fanout markers)",
    )
    parser.add_argument(
        "--postgres",
        help="run Agora on a fresh database of this PostgreSQL server (a URL), with a Redis "
        "of its own, instead of SQLite",
    )
    parser.add_argument(
        "--workers",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=(1,),
        help="Agora's worker counts to measure, comma-separated (more than 1: --postgres)",
    )
    parser.add_argument(
        "--listener",
        default="c",
        help="the listeners: c (bench/lean_listener.c, compiled with gcc) or python "
        "(the websockets client); c,python measures each in turn",
    )
    parser.add_argument(
        "--speakers",
        default="c",
        choices=speakers.KINDS,
        help="the speakers: c (bench/lean_listener.c --speak, one process) or python "
        "(websockets clients in the bench's process)",
    )
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the server share every CPU with the clients",
    )
    args = parser.parse_args(argv)
    cpus = tuple(sorted(os.sched_getaffinity(0)))
    if set(args.servers.split(",")) - {"agora", *RELAYS}:
        parser.error("--servers: agora, bare, asgi")
    kinds = tuple(args.listener.split(","))
    if not kinds or set(kinds) - set(listeners.KINDS):
        parser.error("--listener: c, python or both")
    if max(args.workers) > 1 and not args.postgres:
        parser.error("--workers above 1 needs --postgres (and runs a Redis of its own)")
    if not 0 < args.seconds <= 30 or args.rate <= 0:
        parser.error("speak for at most 30 s (the limit of 20 interventions a minute)")
    return Options(
        sizes=(100,) if args.quick else args.sizes,
        rate=args.rate,
        seconds=args.seconds,
        clients=args.clients,
        grace=args.grace,
        body_chars=args.body_chars,
        servers=tuple(args.servers.split(",")),
        postgres=args.postgres,
        workers=args.workers,
        listeners=kinds,
        speaker=args.speakers,
        # With more than one CPU, the server gets the first and the clients the others.
        server_cpus=cpus[:1] if args.pin and len(cpus) > 1 else (),
    )


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:]), sys.argv[1:], write_docs="--write-docs" in sys.argv))
