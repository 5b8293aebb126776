"""Security headers on every HTTP response: pages, JSON, errors and static files."""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """The headers, encoded once: every response gets them, so they cost a list
    extension each (`forum.web.edge` adds them)."""

    def __init__(self, *, hsts: bool) -> None:
        self.headers = dict(HEADERS)
        if hsts:
            self.headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
        self._raw = [(name.encode(), value.encode()) for name, value in self.headers.items()]
        self._names = frozenset(name for name, _ in self._raw)

    def add(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Ours added to a response's raw headers; one a handler set stays."""
        # ASGI header names are lower-case bytes.
        present = self._names.intersection([name.lower() for name, _ in headers])
        if present:
            headers.extend(item for item in self._raw if item[0] not in present)
        else:
            headers.extend(self._raw)
