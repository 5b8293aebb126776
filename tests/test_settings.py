"""Settings come from FORUM_* variables: every number is tunable, and documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from forum.settings import Settings

OPERATIONS = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
BASE = {"FORUM_SECRET_KEY": "k" * 32, "FORUM_DATABASE_URL": "sqlite:///x.db"}


def _numbers() -> list[dataclasses.Field[object]]:
    return [f for f in dataclasses.fields(Settings) if f.type in ("int", "float")]


def test_every_number_is_read_from_its_variable() -> None:
    numbers = _numbers()
    assert len(numbers) >= 20  # the limits, caps and timeouts, not an empty loop
    environ = dict(BASE)
    for index, setting in enumerate(numbers):
        environ[f"FORUM_{setting.name.upper()}"] = str(1000 + index)
    settings = Settings.from_env(environ)
    for index, setting in enumerate(numbers):
        value = getattr(settings, setting.name)
        assert value == 1000 + index, setting.name
        assert type(value).__name__ == setting.type, setting.name


def test_unset_and_blank_variables_keep_the_defaults() -> None:
    blank = {f"FORUM_{f.name.upper()}": " " for f in _numbers()}
    settings = Settings.from_env({**BASE, **blank})
    for setting in _numbers():
        assert getattr(settings, setting.name) == setting.default, setting.name


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(FORUM_[A-Z_]+)`", OPERATIONS.read_text()))
    missing = [
        f"FORUM_{f.name.upper()}"
        for f in dataclasses.fields(Settings)
        if f.name != "extra" and f"FORUM_{f.name.upper()}" not in documented
    ]
    assert not missing
