"""The message catalogs, compiled from their .po files once per process.

Compiling three .po files costs a few milliseconds, so there is no build step and no
compiled file to keep in step with its source: `forum/locale/<lang>/LC_MESSAGES/
messages.po` is the one truth, and `scripts/catalogs` keeps it in step with the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
# The languages offered, each named in itself, in the order the switcher lists them.
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español"}
DEFAULT_LANGUAGE = "en"
_SAMPLES = (*range(0, 200), 1_000_000)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


@cache
def translations(language: str) -> Translations:
    buffer = BytesIO()
    write_mo(buffer, catalog(language))
    buffer.seek(0)
    return Translations(buffer, domain="messages")


@cache
def locale(language: str) -> Locale:
    return Locale.parse(language)


def load_catalogs() -> None:
    """Compile every language's catalog now (each is kept for the process)."""
    for language in LANGUAGES:
        translations(language)
        script_catalog(language)


def _is_script_message(locations: Sequence[tuple[str, int]]) -> bool:
    return any(path.endswith(".js") for path, _ in locations)


@cache
def _samples(language: str) -> dict[str, int]:
    """A number of each CLDR plural category of `language`."""
    rule = locale(language).plural_form
    samples: dict[str, int] = {}
    for number in _SAMPLES:
        samples.setdefault(rule(number), number)
    return samples


def plural_categories(language: str, singular: str, plural: str) -> dict[str, str]:
    """A plural message as its form for each CLDR category of `language`, so that a
    browser picks one with `Intl.PluralRules` and never evaluates a plural formula."""
    found = translations(language)
    return {
        category: found.ngettext(singular, plural, number)
        for category, number in _samples(language).items()
    }


@cache
def script_catalog(language: str) -> dict[str, str | dict[str, str]]:
    """What the page's JavaScript needs of `language`: each msgid found in a .js file,
    translated; a plural message as its forms by category (`plural_categories`)."""
    found = translations(language)
    result: dict[str, str | dict[str, str]] = {}
    for message in catalog(language):
        if not message.id or not _is_script_message(message.locations):
            continue
        if isinstance(message.id, tuple | list):
            singular, plural = message.id[0], message.id[1]
            result[singular] = plural_categories(language, singular, plural)
        else:
            result[message.id] = found.gettext(message.id)
    return result
