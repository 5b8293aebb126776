"""The figures of `ws_fanout` in docs/benchmarks.md.

Only the block between the two markers of the "Live rooms" section is rewritten; the
prose around it, and every other section, stay as they are.
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any

from bench.servers import ROOT

PATH = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- ws_fanout:begin (written by `python -m bench.ws_fanout --write-docs`) -->"
END = "<!-- ws_fanout:end -->"
WIDTH = 88
INTRO = """# Benchmarks

Every figure on this page comes from the command shown in its section, run on this
project's machine: 2 CPUs, shared by the server under test and the clients that load
it, all on 127.0.0.1. Each section compares Agora with a bare server doing the least
the same job needs, measured in the same run, so the ratios say more than the absolute
numbers, which change with the machine.
"""
SECTION = f"""## Live rooms

{BEGIN}
{END}
"""


def _pair(a: dict[str, Any] | None, b: dict[str, Any] | None, key: str, fmt: str) -> str:
    return " / ".join("-" if r is None else format(r[key], fmt) for r in (a, b))


def render(run: dict[str, Any]) -> str:
    rows: list[dict[str, Any]] = run["results"]
    options = run["options"]
    machine = run["machine"]
    by_n: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_n.setdefault(row["listeners"], {})[row["server"]] = row
    versions = machine["versions"]
    pinned = options["server_cpus"]
    frame = next((r["frame_bytes"] for r in rows if r["frame_bytes"]), 0)
    summary = (
        f"Measured {run['started'][:10]} on {machine['cpus']} CPUs ({machine['cpu']}), "
        f"Python {machine['python']}, uvicorn {versions['uvicorn']} (websockets-sansio), "
        f"websockets {versions['websockets']}, revision {machine['revision']}. "
        + (
            f"The server runs on CPU {pinned[0]}, the listeners and speakers on the other. "
            if pinned
            else "The server and the clients share every CPU. "
        )
        + f"{round(options['rate'] * options['seconds'])} interventions at "
        f"{options['rate']:g}/s, {frame:.0f}-byte frames, listeners in {options['clients']} "
        + (
            "processes of `bench/lean_listener.c`."
            if list(options.get("listeners", ["python"])) == ["c"]
            else "processes of the `websockets` listener."
        )
        + (
            " The speakers: `websockets` clients in the bench's process."
            if options.get("speaker", "python") == "python"
            else " The speakers: one process of `bench/lean_listener.c --speak`."
        )
    )
    lines = [
        textwrap.fill(summary, WIDTH, break_on_hyphens=False),
        "",
        f"    .venv/bin/{run['command']}",
        "",
        "| N | delivered msg/s, Agora / bare | Agora / bare | p50 ms | p99 ms | lost "
        "| KiB per connection |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, servers in by_n.items():
        agora, bare = servers.get("agora"), servers.get("bare")
        ratio = (
            f"{agora['delivered_per_s'] / bare['delivered_per_s']:.0%}"
            if agora and bare and bare["delivered_per_s"]
            else "-"
        )
        lines.append(
            f"| {n} | {_pair(agora, bare, 'delivered_per_s', '.0f')} | {ratio} "
            f"| {_pair(agora, bare, 'p50_ms', '.0f')} | {_pair(agora, bare, 'p99_ms', '.0f')} "
            f"| {_pair(agora, bare, 'lost', 'd')} "
            f"| {_pair(agora, bare, 'kib_per_connection', '.0f')} |"
        )
    lines += [
        "",
        textwrap.fill(
            "Where the time goes (`asgi`: the bare relay on uvicorn and Starlette with "
            "Agora's per-connection queues, `bench/asgi_server.py`):",
            WIDTH,
        ),
        "",
        "| N | server | msg/s | server CPU µs per frame | p99 ms | KiB per connection "
        "| N joined in s | commit p50 ms | generator CPU share |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, servers in by_n.items():
        for name in ("agora", "asgi", "bare"):
            if name not in servers:
                continue
            row = servers[name]
            commit = f"{row['ack_p50_ms']:.0f}" if name == "agora" else "-"
            lines.append(
                f"| {n} | {name} | {row['delivered_per_s']:.0f} "
                f"| {row['server_cpu_us_per_frame']:.0f} | {row['p99_ms']:.0f} "
                f"| {row['kib_per_connection']:.0f} | {row['connect_s']:.1f} | {commit} "
                f"| {row.get('generator_share', math.nan):.0%} |"
            )
    busy = [r for r in rows if r.get("machine_busy_before", 0) > 0.25]
    if busy:
        worst = max(r["machine_busy_before"] for r in busy)
        note = (
            f"Other work was running on the machine before {len(busy)} of the "
            f"{len(rows)} measurements (up to {worst:.0%} of the CPUs busy): treat these "
            "figures as rough."
        )
        lines += ["", textwrap.fill(note, WIDTH, break_on_hyphens=False)]
    return "\n".join(lines)


def write(run: dict[str, Any]) -> None:
    text = PATH.read_text(encoding="utf-8") if PATH.exists() else INTRO
    if BEGIN not in text:
        text = text.rstrip("\n") + "\n\n" + SECTION
    block = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    text = block.sub(lambda _: f"{BEGIN}\n{render(run)}\n{END}", text)
    PATH.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
