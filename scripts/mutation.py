"""Mutation testing of one module with mutmut, against the tests that exercise it.

`scripts/mutation` runs this once per module, each in a fresh `mutants/` tree: mutmut
reads its configuration from pyproject.toml ([tool.mutmut]) when it is imported, and
this sets the two settings that differ per module before it runs: which file is
mutated and which test files the run may pick from. mutmut then runs, for each
mutant, only the tests that called the mutated function (it records that once, with
the clean code), in this process's forks, one at a time.

    python scripts/mutation.py forum/auth.py     # run, then print the survivors' diffs
    python scripts/mutation.py --list            # the modules with a test plan
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# The test files each module is checked against: those that drive the module's code
# through a real server or a real database. PostgreSQL and browser variants are left
# out (pyproject's [tool.mutmut] pytest_add_cli_args): the code paths they add are in
# the database layer, not in these modules.
PLAN: dict[str, list[str]] = {
    "forum/auth.py": [
        "tests/test_accounts.py",
        "tests/test_csrf.py",
        "tests/test_account_lifecycle.py",
        "tests/test_api_profile.py",
        "tests/test_ws_access.py",
    ],
    "forum/web/security.py": ["tests/test_http_security.py"],
    "forum/web/sse.py": ["tests/test_discussions_live.py", "tests/test_sse_limits.py"],
    "forum/actions/accounts.py": [
        "tests/test_accounts.py",
        "tests/test_account_lifecycle.py",
        "tests/test_actions_people.py",
        "tests/test_actions_lookups.py",
        "tests/test_login_limits.py",
    ],
    "forum/actions/groups.py": [
        "tests/test_groups.py",
        "tests/test_actions_structure.py",
        "tests/test_actions_lookups.py",
    ],
    "forum/actions/positions.py": [
        "tests/test_discussions_positions.py",
        "tests/test_actions_discussions.py",
        "tests/test_actions_lookups.py",
    ],
    "forum/actions/profile.py": ["tests/test_actions_people.py", "tests/test_api_profile.py"],
    "forum/actions/secretariat.py": [
        "tests/test_actions_people.py",
        "tests/test_pages_secretariat.py",
    ],
    "forum/actions/contacts.py": ["tests/test_contacts_api.py", "tests/test_pages_contacts.py"],
}


def main(argv: list[str]) -> int:
    if argv == ["--list"]:
        print("\n".join(PLAN))
        return 0
    if len(argv) != 1 or argv[0] not in PLAN:
        print(f"usage: mutation.py MODULE, one of: {' '.join(PLAN)}", file=sys.stderr)
        return 2
    module = argv[0]
    from mutmut import configuration

    config = configuration.config()
    config.only_mutate = [module]
    config.pytest_add_cli_args_test_selection = PLAN[module]

    from mutmut.__main__ import cli

    prefix = module.removesuffix(".py").replace("/", ".") + ".*"
    cli(["run", "--max-children", "1", prefix], standalone_mode=False)
    statuses = _statuses(module)
    counts = Counter(statuses.values())
    print(f"\n{module}: {len(statuses)} mutants, " + ", ".join(sorted_counts(counts)))
    for name, status in sorted(statuses.items()):
        if status != "killed":
            print(f"\n--- {status}: {name}")
            cli(["show", name], standalone_mode=False)
    return 0


def sorted_counts(counts: Counter[str]) -> list[str]:
    return [f"{status} {count}" for status, count in sorted(counts.items())]


def _statuses(module: str) -> dict[str, str]:
    """Each mutant of `module` and what became of it, from mutmut's record of the run."""
    from mutmut.stats import status_by_exit_code

    meta = Path("mutants") / f"{module}.meta"
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    return {name: status_by_exit_code[code] for name, code in codes.items()}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
