"""Configuration: one frozen dataclass read from FORUM_* environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_PARALLELISM, DEFAULT_TIME_COST

DEFAULT_DATA_DIR = Path("var")
# Where `run.py` serves without options; see `default_public_url`.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _load_or_create_secret(data_dir: Path) -> str:
    """A key made once per installation, kept beside the database, never in the code."""
    path = data_dir / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting at once must agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    secret_key: str = ""
    data_dir: Path = DEFAULT_DATA_DIR
    broker_url: str = "memory://"
    # How long an SQLite write waits for another process's lock before it fails.
    db_busy_timeout: float = 30.0
    # Origins allowed to open a WebSocket or post a form. Empty: the request's own origin.
    allowed_origins: tuple[str, ...] = ()
    # Cookies get `Secure` when the forum is served over HTTPS (behind a proxy too).
    secure_cookies: bool = False
    session_max_age: int = 14 * 24 * 3600
    seed: bool = True
    # SQLite's `synchronous` pragma: FULL (the default) syncs the WAL at every commit, so
    # an acknowledged write survives a power cut; NORMAL survives a killed process only.
    sqlite_synchronous: str = "FULL"
    # WebSocket limits, passed to uvicorn explicitly: its defaults (16 MiB frames,
    # 20 s pings) are too loose for a room of people on slow links.
    ws_max_size: int = 16 * 1024
    ws_ping_interval: float = 10.0
    ws_ping_timeout: float = 10.0
    ws_send_queue: int = 256
    # Requests a client may make: bodies, logins, posts.
    max_request_bytes: int = 256 * 1024
    # Failed sign-ins per window: for one account from one address; for one account
    # from anywhere; and from one address across accounts, high enough for a hall of
    # delegates behind one address to mistype without locking each other out.
    login_attempts: int = 5
    login_account_attempts: int = 20
    login_ip_attempts: int = 100
    login_window: float = 15 * 60
    register_attempts: int = 10
    register_window: float = 3600
    post_limit: int = 20
    # Per address too, generously: a delegation or a conference hall shares one address.
    post_ip_limit: int = 120
    post_window: float = 60
    # Frames one WebSocket may send per window (pings included), and how many refused
    # in a row close it as a flood rather than a person typing fast.
    ws_frames_per_window: int = 40
    ws_frame_window: float = 10.0
    ws_flood_tolerance: int = 50
    # Previews in the same window: several per post, rendered and never stored.
    preview_limit: int = 60
    preview_ip_limit: int = 600
    # How long a worker serves a signed-out thread page on the board counter it heard
    # from the broker before asking the database again (forum/board_versions.py): the
    # longest a lost publish can leave that page behind.
    board_trust_s: float = 2.0
    # How long a worker answers who a session is (and their roles on a board) from
    # memory before asking the database again (forum/session_cache.py): the longest a
    # sign-out or a role change made through another worker goes unseen here.
    session_trust_s: float = 2.0
    # argon2id's cost per password hash: passes, memory in KiB, lanes. The library's
    # recommended parameters; a cheaper hash only where no real password is kept (the
    # test suite hashes thousands). Hashes of another cost are redone at sign-in.
    password_time_cost: int = DEFAULT_TIME_COST
    password_memory_cost: int = DEFAULT_MEMORY_COST
    password_parallelism: int = DEFAULT_PARALLELISM
    # The forum's address as its readers reach it: feeds build absolute links from it,
    # never from the request's Host header, which the client writes.
    public_url: str = DEFAULT_PUBLIC_URL
    # Open connections (room WebSockets and event streams together), per worker. A
    # conference hall behind one address holds hundreds of people; signed-out readers
    # have budgets of their own so that they cannot take signed-in people's places.
    max_connections: int = 10_000
    max_signed_out_connections: int = 2_000
    max_connections_per_address: int = 1_000
    max_signed_out_connections_per_address: int = 200
    max_connections_per_account: int = 16
    # A consultation proposed with less notice than this is marked short-notice to both
    # sides and in the schedule (seed 002: "about two weeks in advance" was too little).
    consultation_min_notice_days: int = 14
    extra: dict[str, Any] = field(default_factory=dict)

    def uvicorn_ws_options(self) -> dict[str, Any]:
        """WebSocket options for uvicorn, explicit: its defaults are 16 MiB frames,
        compression on and 20 s pings, too loose for rooms of people on slow links."""
        return {
            "ws": "websockets-sansio",
            "ws_max_size": self.ws_max_size,
            "ws_per_message_deflate": False,
            "ws_ping_interval": self.ws_ping_interval,
            "ws_ping_timeout": self.ws_ping_timeout,
        }

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(overrides.pop("data_dir", env.get("FORUM_DATA_DIR", DEFAULT_DATA_DIR)))
        database_url = (
            overrides.pop("database_url", None)
            or env.get("FORUM_DATABASE_URL")
            or (f"sqlite+aiosqlite:///{data_dir / 'agora.db'}")
        )
        secret_key = (
            overrides.pop("secret_key", None)
            or env.get("FORUM_SECRET_KEY")
            or _load_or_create_secret(data_dir)
        )
        origins = env.get("FORUM_ALLOWED_ORIGINS", "")
        values: dict[str, Any] = {
            "database_url": normalize_database_url(database_url),
            "secret_key": secret_key,
            "data_dir": data_dir,
            "broker_url": env.get("FORUM_BROKER_URL", "memory://"),
            "allowed_origins": tuple(
                o.strip().rstrip("/") for o in origins.split(",") if o.strip()
            ),
            "secure_cookies": _bool(env.get("FORUM_SECURE_COOKIES", "0")),
            "seed": _bool(env.get("FORUM_SEED", "1")),
            "public_url": normalize_public_url(env.get("FORUM_PUBLIC_URL") or DEFAULT_PUBLIC_URL),
            "sqlite_synchronous": env.get("FORUM_SQLITE_SYNCHRONOUS", "FULL").strip().upper(),
        }
        # Every number is tunable, so that a summit can raise a limit (or a benchmark run
        # without spoofing addresses) by its FORUM_<NAME> variable alone.
        for setting in fields(cls):
            kind = _NUMBERS.get(str(setting.type))
            raw = env.get(f"FORUM_{setting.name.upper()}", "").strip()
            if kind is not None and raw:
                values[setting.name] = kind(raw)
        values.update(overrides)
        return cls(**values)


_NUMBERS: dict[str, type[int] | type[float]] = {"int": int, "float": float}


def normalize_database_url(url: str) -> str:
    """Accept the plain URLs people paste and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def normalize_public_url(url: str) -> str:
    """`http(s)://host[:port][/path]` without a trailing slash; anything else is a
    mistake in the configuration, refused at start rather than written into links."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"FORUM_PUBLIC_URL must be an http or https URL, not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"FORUM_PUBLIC_URL takes no query, fragment or credentials: {url!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def default_public_url(host: str, port: int) -> str:
    """The URL of the address the server listens on. A wildcard address (0.0.0.0, ::)
    names no host a reader could use, so it stands for the loopback one: a server open
    to the network should say its public URL (FORUM_PUBLIC_URL)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - compared, not bound
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
