"""Jinja2 templates (autoescaped) and the values every page needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from forum import csrf
from forum.auth import CSRF_COOKIE, SESSION_COOKIE
from forum.errors import ForumError
from forum.web.assets import Assets
from forum.web.http import app_state, secure_cookies
from forum.web.refusals import audit_refusal

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
TEMPLATES_DIR = FRONTEND / "templates"
STATIC_DIR = FRONTEND / "static"
# Read once: a changed file gets a new name at the next start.
ASSETS = Assets(STATIC_DIR)


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser's session (forum/csrf.py). Signed out, that of a
    pre-session nonce, made on first use and set as a cookie by `render`."""
    request.scope["forum.csrf_used"] = True
    secret = app_state(request)["settings"].secret_key
    nonce = request.cookies.get(CSRF_COOKIE) or request.scope.get("forum.new_csrf")
    token = csrf.expected_token(
        secret, session_cookie=request.cookies.get(SESSION_COOKIE), nonce=nonce
    )
    if token is None:
        nonce = request.scope["forum.new_csrf"] = csrf.new_nonce()
        token = csrf.presession_token(secret, nonce)
    return token


def csrf_token_used(request: Request) -> bool:
    """Whether this response holds the browser's CSRF token: then it is for them alone."""
    return bool(request.scope.get("forum.csrf_used"))


def make_templates() -> Jinja2Templates:
    # Autoescape everything: no template decides for itself whether user text is safe.
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    templates = Jinja2Templates(env=env)
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.globals["static"] = ASSETS.url
    return templates


def set_csrf_cookie(request: Request, response: Response, *, secure: bool) -> None:
    new = request.scope.get("forum.new_csrf")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="lax", secure=secure, path="/"
        )


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page; a form shown again with its refusal (`error` in the context) is logged
    like any other refusal."""
    error = context.get("error")
    if isinstance(error, ForumError):
        audit_refusal(request, error)
    templates = cast(Jinja2Templates, request.app.state.templates)
    response = templates.TemplateResponse(request, name, context, status_code=status)
    set_csrf_cookie(request, response, secure=secure_cookies(request))
    return response
