"""Static files under names that carry their content's hash, cached for a year.

A page names `static('forum.css')`, which is `/static/forum.<hash>.css`: the hash is
of the file's bytes, read once at start, so a changed file has a new name and a
browser on a slow link never asks again for one it has. The plain name is served too
(`no-cache`: revalidated by its ETag each time), for whatever links to it directly.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9]+)$")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class Assets:
    """The static files of one directory and their hashed names."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.names: dict[str, str] = {}
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                name = path.relative_to(directory).as_posix()
                stem, dot, suffix = name.rpartition(".")
                hashed = f"{stem}.{_digest(path)}.{suffix}" if dot else f"{name}.{_digest(path)}"
                self.names[name] = hashed
        self._real = {hashed: name for name, hashed in self.names.items()}

    def url(self, name: str) -> str:
        """The address of a static file, under its hashed name; an unknown name is a
        mistake in a template, and fails the page at once rather than linking nowhere."""
        return f"/static/{self.names[name]}"

    def real_name(self, requested: str) -> str | None:
        """The file a hashed name stands for, if it is the current one."""
        return self._real.get(requested)


class AssetFiles(StaticFiles):
    """`StaticFiles` that answers hashed names with the file, cached for a year."""

    def __init__(self, assets: Assets) -> None:
        super().__init__(directory=assets.directory)
        self.assets = assets

    async def get_response(self, path: str, scope: Scope) -> Response:
        real = self.assets.real_name(path)
        if real is None and _HASHED.match(path):
            # An old hash: a page cached before a release. Serve today's file, briefly.
            match = _HASHED.match(path)
            assert match is not None  # noqa: S101 - matched just above
            plain = f"{match['stem']}{match['suffix']}"
            if plain in self.assets.names:
                response = await super().get_response(plain, scope)
                response.headers["cache-control"] = REVALIDATE
                return response
        response = await super().get_response(real or path, scope)
        if response.status_code in (200, 304):
            response.headers["cache-control"] = IMMUTABLE if real else REVALIDATE
        return response
