"""Which language a reader gets: their profile's, else the switcher's cookie, else the
best of `Accept-Language`, else English."""

from __future__ import annotations

from babel.core import negotiate_locale

from forum.i18n.catalogs import DEFAULT_LANGUAGE, LANGUAGES

LANGUAGE_COOKIE = "forum_lang"
# A header is the client's to write: read a bounded part of it.
_MAX_HEADER = 1000
_MAX_RANGES = 20


def supported(value: str | None) -> str | None:
    """`value` if it names a language of the interface (a cookie, a profile, a form)."""
    if value is None:
        return None
    value = value.strip().lower()
    return value if value in LANGUAGES else None


def parse_accept_language(header: str | None) -> list[str]:
    """The language ranges of an `Accept-Language` header, most wanted first (RFC 9110
    §12.5.4); malformed parts are skipped, `q=0` means "not this"."""
    if not header:
        return []
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:_MAX_HEADER].split(",")[:_MAX_RANGES]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or not all(c.isascii() and (c.isalnum() or c == "-") for c in tag):
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if not 0 < quality <= 1:
            continue
        ranges.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranges)]


def from_accept_language(header: str | None) -> str | None:
    preferred = parse_accept_language(header)
    return negotiate_locale(preferred, list(LANGUAGES), sep="-") if preferred else None


def choose_language(*, profile: str | None, cookie: str | None, accept_language: str | None) -> str:
    return (
        supported(profile)
        or supported(cookie)
        or from_accept_language(accept_language)
        or DEFAULT_LANGUAGE
    )
