"""A post's preview: the HTML its body would be stored as, written nowhere.

The preview is made by `render_body`, the very function a post's action stores the
output of, so what a writer previews is what readers will read. Rendering costs
about 20 µs a byte on hostile input, so previews are counted like posts, more
generously (people preview several times before they post): per account and per
address; a body refused as a post counts as no preview.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

from forum.db.models import User
from forum.domain.textcheck import clean_body
from forum.errors import N_
from forum.limits import Limit, rate_limited
from forum.text import render_body
from forum.web.forms import field
from forum.web.http import app_state, client_ip


async def preview_html(request: Request, user: User, body: str) -> str:
    """The stored HTML of `body`; refused (422, 413) as the post would be, or 429."""
    state = app_state(request)
    settings = state["settings"]
    # Checked before it is counted (a body refused as a post counts as no preview),
    # counted before it is rendered (the rendering is what a flood would cost).
    clean_body(body)
    retry_after = await state["limiter"].hit(
        Limit(f"preview:user:{user.id}", settings.preview_limit, settings.post_window),
        Limit(f"preview:ip:{client_ip(request)}", settings.preview_ip_limit, settings.post_window),
    )
    if retry_after is not None:
        raise rate_limited(retry_after, N_("Too many previews; try again in {seconds} s."))
    return (await render_body(body)).html


def wants_preview(form: FormData) -> bool:
    """The form's *Preview* button, rather than the one that posts, was pressed."""
    return field(form, "preview") == "1"
