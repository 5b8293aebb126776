"""Imports run one way: web, ws -> actions -> domain, db, broker (pyproject's contracts)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_layers_hold() -> None:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "import-linter is part of the test extras"
    result = subprocess.run(
        [command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_domain_imports_nothing_of_ours_but_errors() -> None:
    for path in (ROOT / "forum" / "domain").glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import forum", "from forum")):
                assert line.startswith(("from forum.domain", "from forum.errors")), (path, line)


def _contracts() -> list[dict[str, object]]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["contracts"])


def _page() -> str:
    return (ROOT / "docs" / "architecture.md").read_text()


def _picture() -> str:
    page = _page()
    start = page.index("```mermaid")
    return page[start : page.index("```", start + 3)]


def _short(module: str) -> str:
    return module.removeprefix("forum.")


def test_the_page_lists_every_contract_and_no_other() -> None:
    page = _page()
    table = page[page.index("| contract | kind |") :].split("\n\n", 1)[0]
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip() for line in table.splitlines()[2:]
    }
    contracts = {str(c["name"]): str(c["type"]) for c in _contracts()}
    assert contracts, "no contracts read"
    assert rows == contracts


def test_the_picture_names_every_module_the_contracts_name() -> None:
    words = set(re.findall(r"[a-z0-9_]+", _picture()))
    for contract in _contracts():
        for key in ("source_modules", "forbidden_modules", "modules"):
            for module in contract.get(key, []):  # type: ignore[attr-defined]
                assert _short(module) in words, (contract["name"], module)


def test_no_arrow_crosses_a_forbidden_contract() -> None:
    picture = _picture()
    members = {
        "beside": set(re.findall(r"[a-z0-9_]+", picture.split('beside["', 1)[1].split('"]')[0]))
    }
    arrows = re.findall(r"^\s*(\w+) --> (\w+)$", picture, flags=re.MULTILINE)
    assert len(arrows) >= 10

    def modules(node: str) -> set[str]:
        return members.get(node, {node})

    for contract in _contracts():
        if contract["type"] == "forbidden":
            sources = {_short(m) for m in contract["source_modules"]}  # type: ignore[attr-defined]
            forbidden = {_short(m) for m in contract["forbidden_modules"]}  # type: ignore[attr-defined]
        else:
            independent = {_short(m) for m in contract["modules"]}  # type: ignore[attr-defined]
            sources = forbidden = independent
        for origin, target in arrows:
            crossing = [
                (a, b)
                for a in modules(origin) & sources
                for b in modules(target) & forbidden
                if a != b
            ]
            assert not crossing, (contract["name"], origin, target)
