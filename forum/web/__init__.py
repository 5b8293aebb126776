"""HTTP: the JSON API under /api/ and the server-rendered pages. Handlers stay thin."""

from forum.web import params as _params  # noqa: E402, F401 - registers the `id` path convertor before any route
