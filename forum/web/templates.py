"""Jinja2 templates (autoescaped) and the values every page needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from jinja2 import BytecodeCache, Environment, FileSystemLoader, pass_context
from jinja2.bccache import Bucket
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from forum import csrf
from forum.auth import CSRF_COOKIE, SESSION_COOKIE, Principal
from forum.errors import ForumError
from forum.i18n.catalogs import LANGUAGES, plural_categories, script_catalog
from forum.i18n.reader import Reader
from forum.web.assets import Assets
from forum.web.http import app_state, secure_cookies
from forum.web.labels import LABELS
from forum.web.locale import browser_reader
from forum.web.refusals import audit_refusal
from forum.web.return_to import here

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
TEMPLATES_DIR = FRONTEND / "templates"
STATIC_DIR = FRONTEND / "static"
# Read once: a changed file gets a new name at the next start.
ASSETS = Assets(STATIC_DIR)


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept for the process, shared by every application it makes
    (the test suite makes one per test): compiling is most of a page's first render.
    Jinja keys each entry by the template's source, so an edited file compiles anew."""

    def __init__(self) -> None:
        self._codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._codes.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._codes[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser's session (forum/csrf.py). Signed out, that of a
    pre-session nonce, made on first use and set as a cookie by `render`.

    A caller signed in by bearer token gets none, and no cookie: no browser attaches
    that header by itself, so their forms are not checked (`read_form`)."""
    caller = request.scope.get("forum.principal")
    if isinstance(caller, Principal) and caller.kind == "bearer":
        return ""
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


def _reader(context: Context) -> Reader:
    found = context.get("reader")
    return found if isinstance(found, Reader) else Reader()


# One environment serves every reader at once, so the gettext callables and the date
# filters take the language from the template's context (its `reader`), never from the
# environment. Jinja's newstyle wrappers call them with the context and escape the
# translation's placeholders' values (autoescape stays on).
@pass_context
def _gettext(context: Context, message: str) -> str:
    return _reader(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, number: int) -> str:
    return _reader(context).ngettext(singular, plural, number)


@pass_context
def _datetime(context: Context, value: Any) -> str:
    return _reader(context).datetime(value)


@pass_context
def _local_time(context: Context, value: Any) -> Markup:
    """`<time>` of an instant: its text for the reader, told again by locale.js in the
    browser's time zone when the server does not know the reader's."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}" data-local="datetime">{}</time>').format(
        _isoformat(value), _reader(context).datetime(value)
    )


@pass_context
def _local_clock(context: Context, value: Any) -> Markup:
    """`<time>` of an instant today, as a time of day with its zone ("10:05 UTC")."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}" data-local="time">{}</time>').format(
        _isoformat(value), _reader(context).clock(value)
    )


@pass_context
def _date(context: Context, value: Any) -> str:
    return _reader(context).date(value)


@pass_context
def _time(context: Context, value: Any) -> str:
    return _reader(context).time(value)


@pass_context
def _number(context: Context, value: Any) -> str:
    return _reader(context).number(value)


@pass_context
def _plural_forms(context: Context, singular: str, plural: str) -> dict[str, str]:
    """A plural message for a page's script: its form for each plural category of the
    reader's language, keyed as `Intl.PluralRules` names them."""
    return plural_categories(_reader(context).language, singular, plural)


@pass_context
def _script_strings(context: Context) -> dict[str, object]:
    """The JSON catalog a page's scripts read (`<script type="application/json">`)."""
    reader = _reader(context)
    return {"language": reader.language, "messages": script_catalog(reader.language)}


def _isoformat(value: Any) -> str:
    return str(value.isoformat() if hasattr(value, "isoformat") else value)


def make_templates() -> Jinja2Templates:
    # Autoescape everything: no template decides for itself whether user text is safe.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=_COMPILED,
    )
    # `{% trans %}` blocks are read with their whitespace collapsed, as extracted.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        datetime=_datetime,
        local_time=_local_time,
        local_clock=_local_clock,
        date=_date,
        time=_time,
        number=_number,
        isoformat=_isoformat,
    )
    templates = Jinja2Templates(env=env)
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.globals["static"] = ASSETS.url
    templates.env.globals["languages"] = LANGUAGES
    templates.env.globals["labels"] = LABELS
    templates.env.globals["script_strings"] = _script_strings
    templates.env.globals["plural_forms"] = _plural_forms
    templates.env.globals["return_here"] = here
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
    found = context.get("reader") or request.scope.get("forum.reader")
    shown_to = found if isinstance(found, Reader) else browser_reader(request)
    context["reader"] = shown_to
    response = templates.TemplateResponse(request, name, context, status_code=status)
    return finish_page(request, response, shown_to)


def finish_page(request: Request, response: Response, shown_to: Reader) -> Response:
    """The headers of every page, however its body was made."""
    # The words depend on who asks and in which language.
    response.headers.setdefault("vary", "Accept-Language, Cookie")
    response.headers["content-language"] = shown_to.language
    set_csrf_cookie(request, response, secure=secure_cookies(request))
    return response
