"""Keeping the catalogs in step with the code: `scripts/catalogs` runs `main()`.

`extract()` writes the template (`messages.pot`) from what babel.cfg names; the test
of the catalogs extracts again into a temporary file and compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CommandLineInterface, parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from forum.i18n.catalogs import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, po_path

ROOT = LOCALE_DIR.parents[1]
TEMPLATE = LOCALE_DIR / "messages.pot"
_HEADER = """\
# Interface text of Agora, extracted by scripts/catalogs; see docs/i18n.md.
# This file is distributed under the same license as the Agora project.
#"""


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "--quiet", *args])  # type: ignore[no-untyped-call]


def extracted() -> Catalog:
    """Every msgid of the code, templates and page scripts, as babel.cfg maps them."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    catalog = Catalog(
        project="Agora", copyright_holder="Agora contributors", header_comment=_HEADER
    )
    # `plural_forms(singular, plural)` in templates: a plural message for a script.
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "plural_forms": (1, 2)}
    found = extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=keywords,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def extract(output: Path = TEMPLATE) -> Path:
    with output.open("wb") as handle:
        # File names only: a line moved is not a change of the catalogs.
        write_po(handle, extracted(), width=79, sort_by_file=True, include_lineno=False)
    return output


def update() -> None:
    """Bring every catalog up to the template: new messages untranslated (never a
    fuzzy guess), gone ones dropped; English says its msgids."""
    for language in LANGUAGES:
        path = po_path(language)
        command = "update" if path.exists() else "init"
        _babel(
            command,
            "--input-file",
            str(TEMPLATE),
            "--output-dir",
            str(LOCALE_DIR),
            "--locale",
            language,
            *(["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []),
        )
    path = po_path(DEFAULT_LANGUAGE)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=DEFAULT_LANGUAGE)
    for message in catalog:
        if not message.id or message.string and any(message.string):
            continue
        message.string = message.id if isinstance(message.id, str) else tuple(message.id)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=79)


def main() -> None:
    extract()
    update()
    sys.stdout.write(f"{TEMPLATE.relative_to(ROOT)} and {len(LANGUAGES)} catalogs updated\n")


if __name__ == "__main__":
    main()
