"""HTTP load from `wrk`, pinned to the generator's CPU, with the generator's own cost.

A Python client tops out near 1.2k requests a second on this machine, far below what a
bare Starlette endpoint serves, so a ratio measured with it compares the client with
itself. `wrk` (Debian's package) reaches the server's limit with one thread; its Lua
`done` hook prints the figures as JSON, and `os.wait4` gives the CPU it used, so every
figure comes with the share of its core the generator needed: above `GENERATOR_LIMIT`
the run measured the generator, and it is not reported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GENERATOR_LIMIT = 0.80

# `done` runs once per run with the merged statistics; `request`, when a script sets it,
# builds each request (a POST with the next account's token and a unique body).
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n@@{"requests": %d, "duration_us": %d, "status_errors": %d, '
    .. '"socket_errors": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

_POSTS = """
local tokens = {%(tokens)s}
local counter = 0
request = function()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1],
  }
  return wrk.format("POST", nil, headers, [==[%(prefix)s]==] .. counter .. [==[%(suffix)s]==])
end
"""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    status_errors: int
    """Answers of 400 or more: `wrk` counts them, the benchmark reports them."""
    socket_errors: int
    p50_ms: float
    p99_ms: float
    generator_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def generator_share(self) -> float:
        """The share of one core the generator used (it runs one thread)."""
        return self.generator_cpu_s / self.seconds

    @property
    def generator_bound(self) -> bool:
        return self.generator_share > GENERATOR_LIMIT


def available() -> bool:
    return shutil.which("wrk") is not None


def posts_script(tokens: list[str], body_prefix: str) -> str:
    """A script posting `{"body": body_prefix + n + "."}` with the tokens in turn."""
    prefix = json.dumps({"body": f"{body_prefix}@@"}).split("@@")
    return _POSTS % {
        "tokens": ", ".join(json.dumps(token) for token in tokens),
        "prefix": prefix[0],
        "suffix": "." + prefix[1],
    }


def run(
    url: str,
    *,
    seconds: float,
    connections: int,
    cpus: tuple[int, ...] = (),
    headers: dict[str, str] | None = None,
    script: str = "",
) -> Load:
    """Load `url` for `seconds` with `connections` connections on one `wrk` thread."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + _DONE)
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "30s",
        "-s",
        lua.name,
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if cpus:
        command = ["taskset", "-c", ",".join(map(str, cpus)), *command]
    try:
        started = time.perf_counter()
        process = subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
    finally:
        Path(lua.name).unlink()
    if process.returncode != 0 or "@@" not in output:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output[-2000:]}")
    figures = json.loads(output.rsplit("@@", 1)[1])
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6 or elapsed,
        status_errors=figures["status_errors"],
        socket_errors=figures["socket_errors"],
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        generator_cpu_s=usage.ru_utime + usage.ru_stime,
    )
