"""The lock files name an exact, hashed version of every dependency pyproject.toml asks
for, one that the declared range admits: an install from the lock is the declared one."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def declared() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    app = [Requirement(r) for r in project["dependencies"]]
    extras = project["optional-dependencies"]
    test = app + [Requirement(r) for r in extras["test"]]
    mutation = test + [Requirement(r) for r in extras["mutation"]]
    return {"app.lock": app, "test.lock": test, "mutation.lock": mutation}


@pytest.mark.parametrize("lock", ["app.lock", "test.lock", "mutation.lock"])
def test_every_dependency_is_pinned_within_its_range(lock: str) -> None:
    pinned = pins(lock)
    for requirement in declared()[lock]:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is missing from requirements/{lock}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock} pins {requirement.name}=={pinned[name]}, "
            f"outside {requirement.specifier}: run scripts/lock"
        )


@pytest.mark.parametrize("lock", ["app.lock", "test.lock", "mutation.lock"])
def test_every_pin_has_a_hash(lock: str) -> None:
    text = (ROOT / "requirements" / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    for entry in entries:
        if PIN.match(entry):
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_test_lock_agrees_with_the_app_lock() -> None:
    app, test = pins("app.lock"), pins("test.lock")
    assert {name: test.get(name) for name in app} == app


def test_the_mutation_lock_agrees_with_the_test_lock() -> None:
    test, mutation = pins("test.lock"), pins("mutation.lock")
    assert {name: mutation.get(name) for name in test} == test
