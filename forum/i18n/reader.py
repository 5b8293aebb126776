"""A reader's language and time zone, and the interface text and dates shown to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from babel.support import Translations

from forum.i18n.catalogs import DEFAULT_LANGUAGE, LANGUAGES, locale, translations
from forum.i18n.negotiate import choose_language, supported


@cache
def time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_time_zone(name: str | None) -> str | None:
    """`name` if it is an IANA zone this server knows, else None."""
    if not name or len(name) > 64 or name not in time_zones():
        return None
    return name


@cache
def _zone(name: str | None) -> tzinfo:
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def as_datetime(value: datetime | str) -> datetime:
    """Stored times are UTC; some reach templates naive, or as ISO 8601 text."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Reader:
    """Who reads a page, an error or a frame: in which language, in which time zone
    (None: not known, shown in UTC)."""

    language: str = DEFAULT_LANGUAGE
    time_zone: str | None = None

    @classmethod
    def of(cls, language: str | None, time_zone: str | None = None) -> Reader:
        return cls(supported(language) or DEFAULT_LANGUAGE, valid_time_zone(time_zone))

    @property
    def translations(self) -> Translations:
        return translations(self.language)

    @property
    def locale(self) -> Locale:
        return locale(self.language)

    @property
    def direction(self) -> str:
        return "rtl" if self.locale.text_direction == "rtl" else "ltr"

    @property
    def zone(self) -> tzinfo:
        return _zone(self.time_zone)

    @property
    def language_name(self) -> str:
        return LANGUAGES[self.language]

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, number: int) -> str:
        return self.translations.ngettext(singular, plural, number)

    def date(self, value: datetime | str) -> str:
        return format_date(as_datetime(value).astimezone(self.zone), "medium", self.locale)

    def time(self, value: datetime | str) -> str:
        """A time of day to the second, as a transcript shows it."""
        return format_time(as_datetime(value), "HH:mm:ss", tzinfo=self.zone, locale=self.locale)

    def clock(self, value: datetime | str) -> str:
        """A time of day with its zone: "10:05 UTC"."""
        moment = as_datetime(value)
        when = format_time(moment, "short", tzinfo=self.zone, locale=self.locale)
        return f"{when} {format_time(moment, 'z', tzinfo=self.zone, locale=self.locale)}"

    def datetime(self, value: datetime | str) -> str:
        """Date and time of day, with the zone: "1 déc. 2026, 10:05 UTC"."""
        moment = as_datetime(value)
        when = str(self.locale.datetime_formats["medium"]).format(
            format_time(moment, "short", tzinfo=self.zone, locale=self.locale),
            format_date(moment.astimezone(self.zone), "medium", self.locale),
        )
        zone = format_time(moment, "z", tzinfo=self.zone, locale=self.locale)
        return f"{when} {zone}"

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)


def reader_of(
    *,
    language: str | None,
    time_zone: str | None,
    cookie: str | None,
    accept_language: str | None,
) -> Reader:
    """The reader of a request or a WebSocket handshake: the profile's `language` and
    `time_zone` (None when signed out or unset), the switcher's `cookie`, the header."""
    chosen = choose_language(profile=language, cookie=cookie, accept_language=accept_language)
    return Reader.of(chosen, time_zone)
