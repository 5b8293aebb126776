"""What an unexpected error becomes: one log line and one 500, written in one place.

The line names the request's id, the method, the path and the kind of exception; the
client gets the same id (`X-Request-Id` and the body), so a report can be matched to
the line. The traceback goes to a debug logger: a driver's exception carries the
statement and its bound values, which an error log should not. The 500 closes the
connection, so a client never sends its next request on a connection whose last
request failed halfway. `forum.web.edge` catches the error and writes both.
"""

from __future__ import annotations

import logging

log = logging.getLogger("forum.errors")
traces = logging.getLogger("forum.errors.traceback")
