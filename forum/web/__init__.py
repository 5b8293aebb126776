"""HTTP: the JSON API under /api/ and the server-rendered pages. Handlers stay thin."""

# Registers the `{name:id}` path convertor before any module of this package makes a route.
from forum.web import params as _params  # noqa: F401
