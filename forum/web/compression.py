"""Compressed responses for readers on slow links: Brotli where the client takes it,
else gzip, for pages, JSON, feeds and static files alike.

A body of known length is compressed whole; one sent in parts (but never an event
stream, whose events must go out as they happen) part by part. Static files under a
hashed name never change, so each is compressed once, at Brotli's best, and kept. A
compressed body has other bytes than the plain one, so its strong ETag becomes weak
(`matches` in `conditional.py` compares them weakly, as RFC 9110 says for
`If-None-Match`), and every answer says it varies by `Accept-Encoding`.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from typing import Protocol

import brotli
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope, Send

MINIMUM_SIZE = 500
# What the compressed static files may hold in all.
CACHE_LIMIT = 8 * 1024 * 1024
# Bodies of known length up to this are compressed in one piece; larger ones in parts.
WHOLE_LIMIT = 1024 * 1024
# Quick enough per request for pages and JSON; static files get the best, once.
DYNAMIC_BROTLI_QUALITY = 5
DYNAMIC_GZIP_LEVEL = 6
COMPRESSIBLE = (
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/atom+xml",
    "application/xml",
    "image/svg+xml",
)


def choose_encoding(accept_encoding: str) -> str | None:
    """`br` or `gzip` as the client's Accept-Encoding allows (q=0 refuses), Brotli first."""
    offered: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        offered[name.strip().lower()] = quality
    for encoding in ("br", "gzip"):
        if offered.get(encoding, offered.get("*", 0.0)) > 0:
            return encoding
    return None


def compress(body: bytes, encoding: str, *, best: bool = False) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, quality=11 if best else DYNAMIC_BROTLI_QUALITY))
    return gzip.compress(body, compresslevel=9 if best else DYNAMIC_GZIP_LEVEL, mtime=0)


def _streaming_compressor(encoding: str) -> tuple[Callable[[bytes], bytes], Callable[[], bytes]]:
    if encoding == "br":
        compressor = brotli.Compressor(quality=DYNAMIC_BROTLI_QUALITY)
        return (lambda data: bytes(compressor.process(data) + compressor.flush())), (
            lambda: bytes(compressor.finish())
        )
    gz = zlib.compressobj(DYNAMIC_GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return (lambda data: gz.compress(data) + gz.flush(zlib.Z_SYNC_FLUSH)), gz.flush


_READ = frozenset({b"content-type", b"content-encoding", b"content-length"})


def _add_vary(raw: list[tuple[bytes, bytes]]) -> None:
    """`Accept-Encoding` added to `Vary` as `MutableHeaders.add_vary_header` adds it: the
    values there were and then ours, in one header where the first one was."""
    at = [index for index, (name, _) in enumerate(raw) if name == b"vary"]
    if not at:
        raw.append((b"vary", b"Accept-Encoding"))
        return
    joined = b", ".join([*(raw[index][1] for index in at), b"Accept-Encoding"])
    for index in reversed(at[1:]):
        del raw[index]
    raw[at[0]] = (b"vary", joined)


def accepted_encoding(scope: Scope) -> str | None:
    """The encoding this request's client takes, read from the raw headers once: most
    readers' clients ask for none at all."""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return choose_encoding(value.decode("latin-1"))
    return None


class CompressedCache(Protocol):
    """Where compressed static files are kept (`forum.web.edge.HttpEdge`)."""

    def cached(self, key: tuple[str, str]) -> bytes | None: ...

    def keep(self, key: tuple[str, str], body: bytes) -> None: ...


class Responder:
    """Sits between the app and the server for one response (not a HEAD's)."""

    def __init__(self, owner: CompressedCache, encoding: str | None, send: Send) -> None:
        self.owner = owner
        self.encoding = encoding
        self.send = send
        self.start: Message | None = None
        self.parts: list[bytes] = []
        self.whole = False
        self.streaming: tuple[Callable[[bytes], bytes], Callable[[], bytes]] | None = None
        self.passthrough = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.begin(message)
            if self.passthrough:
                await self.send(message)
            return
        if message["type"] != "http.response.body" or self.passthrough:
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self.streaming is not None:
            process, finish = self.streaming
            chunk = process(body) if body else b""
            if not more:
                chunk += finish()
            await self.send({"type": "http.response.body", "body": chunk, "more_body": more})
            return
        self.parts.append(body)
        if more and self.whole:
            return
        if more:
            # A body in parts of unknown length: compress as it goes.
            assert self.start is not None  # noqa: S101 - the start came first
            assert self.encoding is not None  # noqa: S101 - passthrough otherwise
            headers = MutableHeaders(scope=self.start)
            self.mark(headers)
            del headers["content-length"]
            await self.send(self.start)
            self.streaming = _streaming_compressor(self.encoding)
            pending, self.parts = b"".join(self.parts), []
            await self.send(
                {
                    "type": "http.response.body",
                    "body": self.streaming[0](pending),
                    "more_body": True,
                }
            )
            return
        await self.finish_whole(b"".join(self.parts))

    def begin(self, message: Message) -> None:
        self.start = message
        raw = message.get("headers")
        if not isinstance(raw, list):
            raw = message["headers"] = list(raw or ())
        # One pass over the raw headers, the first of each as `Headers.get` reads it.
        found: dict[bytes, bytes] = {}
        for name, value in raw:
            if name in _READ and name not in found:
                found[name] = value
        content_type = found.get(b"content-type", b"").decode("latin-1")
        compressible = content_type.split(";")[0].strip() in COMPRESSIBLE
        if message["status"] in (204, 304) or not compressible or b"content-encoding" in found:
            self.passthrough = True
            if compressible:
                _add_vary(raw)
            return
        _add_vary(raw)
        if self.encoding is None:
            self.passthrough = True
            return
        length = found.get(b"content-length", b"").decode("latin-1")
        self.whole = length.isdigit() and int(length) <= WHOLE_LIMIT

    def mark(self, headers: MutableHeaders) -> None:
        assert self.encoding is not None  # noqa: S101 - only called when compressing
        headers["content-encoding"] = self.encoding
        etag = headers.get("etag")
        if etag and not etag.startswith("W/"):
            headers["etag"] = "W/" + etag

    async def finish_whole(self, body: bytes) -> None:
        assert self.start is not None  # noqa: S101 - the start came first
        assert self.encoding is not None  # noqa: S101 - passthrough otherwise
        headers = MutableHeaders(scope=self.start)
        if len(body) < MINIMUM_SIZE:
            await self.send(self.start)
            await self.send({"type": "http.response.body", "body": body})
            return
        immutable = "immutable" in headers.get("cache-control", "")
        etag = headers.get("etag")
        key = (self.encoding, etag) if immutable and etag else None
        compressed = self.owner.cached(key) if key else None
        if compressed is None:
            compressed = compress(body, self.encoding, best=immutable)
            if key:
                self.owner.keep(key, compressed)
        self.mark(headers)
        headers["content-length"] = str(len(compressed))
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": compressed})
