"""HTTP: the JSON API under /api/ and the server-rendered pages. Handlers stay thin."""
