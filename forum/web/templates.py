"""Jinja2 templates (autoescaped) and the values every page needs."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from forum.auth import CSRF_COOKIE
from forum.web.http import secure_cookies

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
TEMPLATES_DIR = FRONTEND / "templates"
STATIC_DIR = FRONTEND / "static"


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, made on first use and set as a cookie by `render`."""
    request.scope["forum.csrf_used"] = True
    token = request.cookies.get(CSRF_COOKIE) or request.scope.get("forum.new_csrf")
    if not token:
        token = request.scope["forum.new_csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_token_used(request: Request) -> bool:
    """Whether this response holds the browser's CSRF token: then it is for them alone."""
    return bool(request.scope.get("forum.csrf_used"))


def make_templates() -> Jinja2Templates:
    # Autoescape everything: no template decides for itself whether user text is safe.
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    templates = Jinja2Templates(env=env)
    templates.env.globals["csrf_token"] = csrf_token
    return templates


def set_csrf_cookie(request: Request, response: Response, *, secure: bool) -> None:
    new = request.scope.get("forum.new_csrf")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="lax", secure=secure, path="/"
        )


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    templates = cast(Jinja2Templates, request.app.state.templates)
    response = templates.TemplateResponse(request, name, context, status_code=status)
    set_csrf_cookie(request, response, secure=secure_cookies(request))
    return response
