"""The catalogs are complete and in step with the code; no interface text escapes them;
the stylesheets read the same right to left."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from jinja2 import Environment

from forum.i18n import maintain
from forum.i18n.catalogs import LANGUAGES, po_path, script_catalog

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "frontend" / "templates"
STATIC = ROOT / "frontend" / "static"
TRANSLATED = [language for language in LANGUAGES if language != "en"]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog: Catalog) -> set[object]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


def test_the_template_is_up_to_date_with_the_code() -> None:
    committed = _ids(_read(maintain.TEMPLATE))
    fresh = _ids(maintain.extracted())
    assert fresh - committed == set(), "new interface text: run scripts/catalogs"
    assert committed - fresh == set(), "text gone from the code: run scripts/catalogs"


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_translates_every_message(language: str) -> None:
    template = _read(maintain.TEMPLATE)
    catalog = _read(po_path(language), language)
    missing = _ids(template) - _ids(catalog)
    assert missing == set(), f"{language} lacks {sorted(map(str, missing))[:5]}"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"fuzzy or empty: {message.id!r}")
            continue
        singular = message.id if isinstance(message.id, str) else message.id[0]
        wanted = _placeholders(singular) | (
            set() if isinstance(message.id, str) else _placeholders(message.id[1])
        )
        # A form may leave the count out ("une réponse"), never name another value.
        problems.extend(
            f"placeholders differ: {message.id!r} -> {text!r}"
            for text in strings
            if isinstance(text, str)
            and _placeholders(text) | {"n", "count"} != wanted | {"n", "count"}
        )
    assert problems == []


def test_a_catalog_missing_a_message_is_caught(tmp_path: Path) -> None:
    # The check above reads what it must: drop one message and it fails.
    catalog = _read(po_path("fr"), "fr")
    first = next(m for m in catalog if m.id)
    catalog.delete(first.id)
    assert _ids(_read(maintain.TEMPLATE)) - _ids(catalog) == {first.id}


def test_scripts_get_their_messages_with_a_form_per_plural_category() -> None:
    messages = script_catalog("fr")
    assert messages["New post by {name}."] == "Nouveau message de {name}."
    replies = messages["{n} reply"]
    assert isinstance(replies, dict)
    assert replies["one"] == "{n} réponse" and replies["other"] == "{n} réponses"
    assert replies["many"] == "{n} de réponses"
    # Only what the scripts use is sent to the browser.
    assert "Sign in to take part." not in messages
    assert "Reply" not in messages  # a live post comes as the server's markup


_CALLS_WITH_MESSAGE = {"ForumError": 1, "rate_limited": 1, "enforce": 4, "_refuse": 0}
# Where a message is handed on rather than written: the caller marked it.
_HANDED_ON = {
    ("forum/limits.py", "rate_limited"),
    ("forum/limits.py", "enforce"),
    ("forum/domain/textcheck.py", "_refuse"),
    ("forum/domain/textcheck.py", "clean_line"),
    ("forum/connection_caps.py", "admit"),
    ("forum/web/http.py", "validation_error"),
    ("forum/web/errors.py", "http_error"),
    ("forum/domain/sessions.py", "_require_chair"),
    ("forum/domain/bureaus.py", "check_bureau_sizes"),
}


def _marked(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "N_"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


class _MessageCalls(ast.NodeVisitor):
    """Calls that carry an error message, each with the function it is written in."""

    def __init__(self) -> None:
        self.owners: list[str] = [""]
        self.calls: list[tuple[str, ast.Call, ast.expr]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.owners.append(node.name)
        self.generic_visit(node)
        self.owners.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name):
            index = _CALLS_WITH_MESSAGE.get(node.func.id)
            if index is not None and len(node.args) > index:
                self.calls.append((self.owners[-1], node, node.args[index]))
        self.generic_visit(node)


def test_every_error_message_is_a_marked_msgid() -> None:
    unmarked: list[str] = []
    for path in sorted((ROOT / "forum").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        calls = _MessageCalls()
        calls.visit(ast.parse(path.read_text()))
        unmarked.extend(
            f"{name}:{call.lineno} {ast.unparse(message)[:60]}"
            for owner, call, message in calls.calls
            if not _marked(message) and (name, owner) not in _HANDED_ON
        )
    assert unmarked == []


class _Text(HTMLParser):
    """Text a reader sees outside `{% trans %}` and `{{ }}`: text nodes and the
    attributes a screen reader or a tooltip says."""

    SPOKEN = {"title", "aria-label", "alt", "placeholder"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_data(self, data: str) -> None:
        self.found.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend(value or "" for name, value in attrs if name in self.SPOKEN)


# The product's name is a name, not text to translate.
_ALLOWED_WORDS = {"Agora"}
_WORD = re.compile(r"[^\W\d_]{2,}")
_ATTRIBUTE = re.compile(r'(?:^|(?<=\x00))(?:\s[\w-]+="[^"<>]*")+')


_GETTEXT_CALLS = {"_", "gettext", "ngettext", "pgettext", "npgettext", "plural_forms"}
# A string literal of an expression that reads as a phrase (two words or more).
_PHRASE = re.compile(r"[^\W\d_]{2,}[\s\u00a0]+[^\W\d_]{2,}")


def _untranslated(source: str) -> list[str]:
    """Words of a template that no gettext call or trans block holds: text between
    tags, spoken attributes, and phrases written as string literals in expressions."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    outside: list[str] = []
    phrases: list[str] = []
    depth = 0
    calls: list[int] = []  # paren depths at which a gettext call's arguments end
    parens = 0
    tokens = [token for token in env.lex(source) if token[1] != "whitespace"]
    for index, (_, kind, value) in enumerate(tokens):
        before = tokens[index - 1] if index else (0, "", "")
        if kind == "name" and before[1] == "block_begin":
            depth += {"trans": 1, "endtrans": -1}.get(value, 0)
        elif kind == "data" and depth == 0:
            outside.append(value)
        elif kind == "operator" and value == "(":
            parens += 1
            if before[1] == "name" and before[2] in _GETTEXT_CALLS:
                calls.append(parens)
        elif kind == "operator" and value == ")":
            if calls and calls[-1] == parens:
                calls.pop()
            parens -= 1
        elif kind == "string" and not calls and _PHRASE.search(value):
            phrases.append(value)
    parser = _Text()
    # Expressions are gone; what is left between tags is the template's own text. A
    # macro may write attributes outside any tag (` aria-invalid="true"`): not text.
    parser.feed(_ATTRIBUTE.sub("", "\x00".join(outside)))
    words = [
        word for text in parser.found for word in _WORD.findall(text) if word not in _ALLOWED_WORDS
    ]
    return words + phrases


def test_the_checker_finds_text_outside_gettext() -> None:
    assert _untranslated('<p title="Hello">{{ _("Fine") }} Stray words</p>') == [
        "Hello",
        "Stray",
        "words",
    ]
    assert _untranslated("<p>{% trans %}Fine {{ x }}{% endtrans %} · #{{ n }}</p>") == []
    assert _untranslated('{% set t = {"k": "Two words", "j": _("Fine here")} %}') == ['"Two words"']
    assert _untranslated('{{ ngettext("One thing", "Many things", n) | e }}') == []
    assert _untranslated('{{ x | replace("_", " ") | join(", ") }}{{ y == "action_line" }}') == []


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_templates_have_no_text_outside_gettext(template: str) -> None:
    assert _untranslated((TEMPLATES / template).read_text()) == []


_PHYSICAL = re.compile(
    r"(?<![\w-])(?:(?:margin|padding|border|inset)-(?:left|right)[\w-]*|left|right)\s*:"
    r"|(?:text-align|float|clear)\s*:\s*(?:left|right)\b"
)


def test_the_physical_property_check_sees_them() -> None:
    assert _PHYSICAL.search(".a { margin-left: 1rem }")
    assert _PHYSICAL.search(".a { left: 0 }")
    assert _PHYSICAL.search(".a { text-align: right }")
    assert _PHYSICAL.search(".a { border-right-width: 1px }")
    assert not _PHYSICAL.search(".a { margin-inline-start: 1rem; inset-inline-start: 0 }")


@pytest.mark.parametrize("sheet", sorted(p.name for p in STATIC.glob("*.css")))
def test_stylesheets_use_logical_properties_only(sheet: str) -> None:
    found = [
        f"{sheet}:{number}: {line.strip()}"
        for number, line in enumerate((STATIC / sheet).read_text().splitlines(), 1)
        if _PHYSICAL.search(line)
    ]
    assert found == []


# "siège(s)", "occupé(s)", "puesto(s)": a plural written as a word and a bracket reads
# badly and is the catalog's job (ngettext, `{% pluralize %}`, `plural_forms`).
_BRACKET_PLURAL = re.compile(r"\w\((?:s|es|e|x)\)", re.IGNORECASE)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_writes_its_plural_in_brackets(language: str) -> None:
    catalog = _read(po_path(language), language)
    texts: list[str | None] = []
    for message in catalog:
        for text in (message.id, message.string):
            texts.extend(text if isinstance(text, tuple | list) else [text])
    assert [text for text in texts if text and _BRACKET_PLURAL.search(text)] == []
