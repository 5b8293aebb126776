"""The speakers of `ws_fanout`: the connections that send the interventions.

Intervention `i` goes at `start + i / rate` from speaker `i mod S`, its body
`bench <i> <send time> …` (`time.monotonic()`, `%.6f`, padded to the body length with
the bench's topic), so that the listeners time it from its body; before the listeners
come, each speaker sends one warm-up intervention. Agora answers each with an ack
carrying its `ref` (committed) or an error frame with that `ref` (refused); the relays
answer nothing. Every speaker also reads everything the server sends it (Agora sends
it every event of the room, the relays every frame).

Two implementations, one report (`Spoken`). `c` (the default) is one process of
`bench/lean_listener.c` in its speaker mode (`--speak`), all the speakers on one epoll
loop, a child of the bench on the generator's CPUs; its CPU time (`getrusage`) from the
first send to its result is the speakers' CPU. `python` is the `websockets` client of
`bench/servers.py`, one connection each in the bench's own event loop, whose CPU is the
bench process's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed

from bench.listeners import JOIN_REF, OPEN_TIMEOUT_S, read_event
from bench.servers import Server, Speaker

KINDS = ("c", "python")
WARM_S = 0.5  # after the warm-ups, for their first-call costs to pass
# The C speakers read in rounds this far apart (the sends keep their own times): a
# speaker at saturation gets a frame every 2 ms, and a read per frame was most of their
# CPU. An answer is timed by the kernel's receive stamp of the read's last bytes, so
# this much late at most.
SPEAKER_NAP_US = 5000
TOPIC = (
    "On C7 e-government and WSIS paragraph 27b: remote participation must be the rule "
    "for the open forum, not the exception, so that southern civil society is heard."
)


def body(kind: str, index: int, sent: float, chars: int) -> str:
    head = f"{kind} {index} {sent:.6f} "
    return head + (TOPIC * (1 + chars // len(TOPIC)))[: max(0, chars - len(head))]


@dataclass
class Spoken:
    """What the speakers sent and what the server answered."""

    sent: list[float]  # the send time of each bench intervention, by index
    acks: dict[int, float] = field(default_factory=dict)  # committed: when the ack came
    refused: dict[int, str] = field(default_factory=dict)  # the error frame's code
    errors: list[dict[str, Any]] = field(default_factory=list)  # the first error frames
    closed: list[str] = field(default_factory=list)  # "code reason" of each closed speaker
    sample: dict[str, Any] | None = None  # the first intervention frame a speaker received
    received: int = 0  # frames the speakers read from the first send on
    # CPU time of the speakers' own process since the first send (0: the bench's own).
    cpu_s: float = 0.0
    sys_s: float = 0.0


class Speakers(Protocol):
    async def open(self) -> None:
        """Connect (and join) every speaker."""

    async def warm_up(self) -> None:
        """One intervention per speaker, before the listeners come."""

    async def speak(self, messages: int, rate: float, start: float, deadline: float) -> None:
        """Send the interventions (or have them sent) at the fixed rate."""

    async def finish(self) -> Spoken:
        """Once all are sent (and answered, or the deadline passed): the report."""

    async def close(self) -> None: ...


class PythonSpeakers:
    """The `websockets` speakers, in this process's event loop."""

    def __init__(self, server: Server, count: int, body_chars: int) -> None:
        self.server = server
        self.count = count
        self.body_chars = body_chars
        self.speakers: list[Speaker] = []
        self.sent: list[float] = []
        self.received_before = 0

    async def open(self) -> None:
        self.speakers = [await self.server.speaker(i) for i in range(self.count)]

    async def warm_up(self) -> None:
        for index, speaker in enumerate(self.speakers):
            text = body("warm", index, time.monotonic(), self.body_chars)
            await speaker.ws.send(self.server.speak_frame(index, text, warm=True))
        await asyncio.sleep(WARM_S)

    async def speak(self, messages: int, rate: float, start: float, deadline: float) -> None:
        self.received_before = sum(s.received for s in self.speakers)
        for index in range(messages):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            frame = self.server.speak_frame(index, body("bench", index, now, self.body_chars))
            self.sent.append(now)
            # A speaker the server closed (its reader records why) sends no more, as in C.
            with contextlib.suppress(ConnectionClosed):
                await self.speakers[index % len(self.speakers)].ws.send(frame)

    async def finish(self) -> Spoken:
        errors = [e for s in self.speakers for e in s.errors]
        return Spoken(
            sent=self.sent,
            acks={i: t for s in self.speakers for i, t in s.acks.items()},
            refused={
                e["ref"]: str(e.get("code", ""))
                for e in errors
                if isinstance(e.get("ref"), int) and 0 <= e["ref"] < len(self.sent)
            },
            errors=errors[:5],
            closed=[s.closed for s in self.speakers if s.closed],
            sample=next((s.sample for s in self.speakers if s.sample), None),
            received=sum(s.received for s in self.speakers) - self.received_before,
        )

    async def close(self) -> None:
        for speaker in self.speakers:
            await speaker.close()


class LeanSpeakers:
    """Every speaker in one process of `bench/lean_listener.c --speak`."""

    def __init__(self, server: Server, count: int, body_chars: int, binary: Path | str) -> None:
        if any(ch in TOPIC for ch in '"\\') or not TOPIC.isascii() or not TOPIC.isprintable():
            raise ValueError("the padding goes into the frames as it is: plain ASCII only")
        self.server = server
        self.count = count
        self.body_chars = body_chars
        self.binary = binary
        self.process: subprocess.Popen[str] | None = None
        self.stdin: IO[str] | None = None
        self.stdout: IO[str] | None = None
        self.ready: dict[str, Any] = {}

    def args(self, headers_file: str) -> list[str]:
        url = urlsplit(self.server.ws_url)
        if url.scheme != "ws" or url.hostname is None:
            raise ValueError(f"the C speakers speak ws:// to an IPv4 address, not {url}")
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        args = [
            str(self.binary),
            *("--speak", "1", "--host", url.hostname, "--port", str(url.port or 80)),
            *("--path", path, "--connections", str(self.count), "--concurrency", "32"),
            *("--timeout", str(OPEN_TIMEOUT_S), "--nap-us", str(SPEAKER_NAP_US)),
            *("--frame", self.server.speak_template()),
            *("--warm-frame", self.server.speak_template(warm=True)),
            *("--padding", TOPIC, "--body-chars", str(self.body_chars)),
            *("--headers-file", headers_file),
        ]
        join = self.server.speaker_join()
        if join is not None:
            frame = json.dumps({**join, "ref": JOIN_REF}, separators=(",", ":"))
            args += ["--join", frame, "--join-ref", JOIN_REF]
        return args

    def _event(self, name: str) -> dict[str, Any]:
        assert self.process is not None and self.stdout is not None
        return read_event(self.process, self.stdout, name, "the C speakers", "their")

    def _command(self, line: str) -> None:
        assert self.stdin is not None
        self.stdin.write(line + "\n")
        self.stdin.flush()

    def _start(self) -> dict[str, Any]:
        lines = []
        for index in range(self.count):
            headers = self.server.speaker_headers(index)
            if len(headers) > 1 or any(c in "\r\n" for h in headers.items() for c in "".join(h)):
                raise ValueError("one header line per speaker")
            lines += [f"{name}: {value}" for name, value in headers.items()] or [""]
        handle, path = tempfile.mkstemp(prefix="lean-speakers-", suffix=".txt")
        try:
            with os.fdopen(handle, "w") as file:
                file.write("".join(f"{line}\n" for line in lines))
            # A refusal's text comes from the server: not necessarily UTF-8.
            self.process = subprocess.Popen(
                self.args(path),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
            assert self.process.stdin is not None and self.process.stdout is not None
            self.stdin, self.stdout = self.process.stdin, self.process.stdout
            return self._event("ready")  # the file is read before
        finally:
            os.unlink(path)

    async def open(self) -> None:
        self.ready = await asyncio.to_thread(self._start)
        if self.ready["connected"] < self.count:
            raise RuntimeError(
                f"{self.count - self.ready['connected']} of {self.count} speakers could not "
                f"connect or join: {self.ready['errors']}"
            )

    async def warm_up(self) -> None:
        self._command("warm")
        await asyncio.sleep(WARM_S)

    async def speak(self, messages: int, rate: float, start: float, deadline: float) -> None:
        acks = int(self.server.acks)
        self._command(f"speak {messages} {rate!r} {start!r} {deadline!r} {acks}")

    async def finish(self) -> Spoken:
        result = await asyncio.to_thread(self._event, "result")
        errors = []
        for raw in result["errors"]:
            try:
                errors.append(json.loads(raw))
            except ValueError:
                errors.append({"raw": raw})
        answered = result["answered"]
        refused = {int(i): code for i, code in result["refused"].items()}
        return Spoken(
            sent=result["sent"],
            acks={i: t for i, t in enumerate(answered) if t is not None and i not in refused},
            refused=refused,
            errors=errors,
            closed=result["closed"],
            sample=json.loads(result["sample"]) if result["sample"] else None,
            received=result["received"],
            cpu_s=result["cpu_s"],
            sys_s=result["sys_s"],
        )

    async def close(self) -> None:
        if self.process is None:
            return
        assert self.stdin is not None and self.stdout is not None
        with contextlib.suppress(BrokenPipeError):  # it may have ended already
            self._command("exit")
        with contextlib.suppress(BrokenPipeError):
            self.stdin.close()
        try:
            await asyncio.to_thread(self.process.wait, 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
        self.stdout.close()


def make(kind: str, server: Server, count: int, body_chars: int, binary: str | None) -> Speakers:
    if kind == "c":
        if binary is None:
            raise ValueError("the C speakers need the compiled bench/lean_listener.c")
        return LeanSpeakers(server, count, body_chars, binary)
    return PythonSpeakers(server, count, body_chars)
