"""Which sites may send a browser's writes and open its WebSockets.

One check for HTTP and WebSocket alike. Browsers send `Origin` on every cross-origin
request and on every POST, and `Sec-Fetch-Site` on every request; a client that sends
neither is not a browser, and cannot be made to act for someone who did not mean to.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

_HTTP_SCHEME = {"ws": "http", "wss": "https"}


def allowed_origin(connection: HTTPConnection, allowed: tuple[str, ...]) -> bool:
    """Exactly the forum's own origin (the scheme and Host the browser connected to),
    or one of `allowed` (a proxy in front may serve the forum under another name)."""
    origin = connection.headers.get("origin")
    if origin is not None:
        origin = origin.rstrip("/")
        if origin in allowed:
            return True
    # An operator's allowed origin may be another site; anything else cross-site is not.
    if connection.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return False
    if origin is None:
        return True
    scheme = _HTTP_SCHEME.get(connection.url.scheme, connection.url.scheme)
    host = connection.headers.get("host", "")
    return bool(host) and origin.lower() == f"{scheme}://{host.lower()}"
