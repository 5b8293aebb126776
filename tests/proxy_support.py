"""The shipped nginx site file (docs/nginx/agora.conf), run by Debian's nginx in a
prefix of its own: only the addresses and the certificate's paths are changed."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SITE = Path(__file__).parent.parent / "docs" / "nginx" / "agora.conf"
IN_CI = os.environ.get("CI", "").lower() == "true"

MAIN = """\
daemon off;
master_process off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/agora.conf;
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        if IN_CI:
            pytest.fail("nginx is required in CI (.ci/run installs nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    return found


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{SITE.name} no longer has exactly one {old!r}"
    return text.replace(old, new)


@dataclass
class Proxy:
    prefix: Path
    https_port: int
    http_port: int
    cert: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def ws_url(self) -> str:
        return f"wss://127.0.0.1:{self.https_port}"

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def command(self, *extra: str) -> list[str]:
        conf = str(self.prefix / "nginx.conf")
        error_log = str(self.prefix / "error.log")
        return [nginx_binary(), "-p", str(self.prefix), "-c", conf, "-e", error_log, *extra]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_proxy(prefix: Path, upstream_port: int) -> Proxy:
    """The site file pointed at `upstream_port`, listening on free loopback ports, with
    a self-signed certificate for 127.0.0.1."""
    prefix.mkdir(parents=True, exist_ok=True)
    cert, key = prefix / "cert.pem", prefix / "key.pem"
    subprocess.run(
        [
            shutil.which("openssl") or "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    proxy = Proxy(prefix, free_port(), free_port(), cert)
    site = SITE.read_text()
    site = _replace_once(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    site = _replace_once(site, "listen 443 ssl;", f"listen 127.0.0.1:{proxy.https_port} ssl;")
    site = _replace_once(site, "listen 80;", f"listen 127.0.0.1:{proxy.http_port};")
    site = _replace_once(site, "/etc/ssl/agora/fullchain.pem", str(cert))
    site = _replace_once(site, "/etc/ssl/agora/privkey.pem", str(key))
    (prefix / "agora.conf").write_text(site)
    (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix))
    return proxy


@asynccontextmanager
async def running(proxy: Proxy) -> AsyncIterator[Proxy]:
    """nginx in the foreground, one process, until the block ends."""
    process = await asyncio.create_subprocess_exec(
        *proxy.command(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        for _ in range(200):
            if process.returncode is not None:
                break
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", proxy.https_port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            break
        if process.returncode is not None:
            assert process.stderr is not None
            raise RuntimeError(f"nginx stopped: {(await process.stderr.read()).decode()}")
        yield proxy
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)
