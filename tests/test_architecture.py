"""Imports run one way: web, ws -> actions -> domain, db, broker (pyproject's contracts)."""

from __future__ import annotations

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
