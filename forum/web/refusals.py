"""One line in the security log (forum/audit.py) for each refused HTTP request that
matters for security, whether it is answered as JSON, as an error page, or as the form
shown again with its message."""

from __future__ import annotations

from starlette.requests import Request

from forum.audit import audited, log_refusal
from forum.auth import Principal
from forum.errors import ForumError
from forum.web.http import client_ip

_LOGGED = "forum.refusal_logged"


def audit_refusal(request: Request, error: ForumError) -> None:
    if not audited(error) or request.scope.get(_LOGGED):
        return
    request.scope[_LOGGED] = True
    # Only a caller already looked up: a refusal costs no query, and answers while the
    # database is down.
    caller = request.scope.get("forum.principal")
    log_refusal(
        str(error.code),
        ip=client_ip(request),
        origin=request.headers.get("origin"),
        user_id=caller.user.id if isinstance(caller, Principal) else error.subject_id,
        path=request.url.path,
        detail=request.method,
    )
