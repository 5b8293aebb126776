"""Mutation testing of one module with mutmut, against the tests that exercise it.

`scripts/mutation` runs this once per module, each in a fresh `mutants/` tree: mutmut
reads its configuration from pyproject.toml ([tool.mutmut]) when it is imported, and
this sets the two settings that differ per module before it runs: which file is
mutated and which test files the run may pick from. mutmut then runs, for each
mutant, only the tests that called the mutated function (it records that once, with
the clean code), in this process's forks, one at a time.

    python scripts/mutation.py forum/auth.py     # run, then print the survivors' diffs
    python scripts/mutation.py --survivors forum/auth.py ['*x_unsign*' ...]
        # once tests are added: run again, against the plan's tests as they are now,
        # only the mutants of the last run that were not killed (those matching)
    python scripts/mutation.py --list            # the modules with a test plan
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

# The test files each module is checked against: those that drive the module's code
# through a real server or a real database. PostgreSQL and browser variants are left
# out (pyproject's [tool.mutmut] pytest_add_cli_args): the code paths they add are in
# the database layer, not in these modules.
PLAN: dict[str, list[str]] = {
    "forum/auth.py": [
        "tests/test_auth.py",
        "tests/test_accounts.py",
        "tests/test_csrf.py",
        "tests/test_account_lifecycle.py",
        "tests/test_api_profile.py",
        "tests/test_ws_access.py",
    ],
    "forum/db/principals.py": [
        "tests/test_auth.py",
        "tests/test_csrf.py",
        "tests/test_account_lifecycle.py",
        "tests/test_session_cache.py",
        "tests/test_ws_access.py",
    ],
    "forum/web/security.py": ["tests/test_http_security.py"],
    "forum/web/edge.py": [
        "tests/test_http_edge.py",
        "tests/test_http_security.py",
        "tests/test_compression.py",
        "tests/test_server_errors.py",
    ],
    "forum/web/sse.py": [
        "tests/test_discussions_live.py",
        "tests/test_sse_limits.py",
        "tests/test_contacts_api.py",
        "tests/test_connection_caps.py",
    ],
    "forum/ws/presence_merge.py": [
        "tests/test_ws_presence.py",
        "tests/test_ws_spectators.py",
        "tests/test_ws_rooms.py",
        "tests/test_ws_joins_batched.py",
    ],
    "forum/ws/delivery.py": [
        "tests/test_ws_delivery.py",
        "tests/test_ws_direct.py",
        "tests/test_ws_saturation.py",
    ],
    "forum/ws/ordering.py": [
        "tests/test_ws_delivery.py",
        "tests/test_ws_rooms.py",
        "tests/test_ws_restart.py",
    ],
    "forum/ws/direct_send.py": [
        "tests/test_ws_direct.py",
        "tests/test_ws_delivery.py",
        "tests/test_ws_connection.py",
    ],
    "forum/actions/accounts.py": [
        "tests/test_accounts.py",
        "tests/test_auth.py",
        "tests/test_account_lifecycle.py",
        "tests/test_actions_people.py",
        "tests/test_actions_lookups.py",
        "tests/test_actions_structure.py",
        "tests/test_login_limits.py",
        "tests/test_security_log.py",
        "tests/test_ws_abuse.py",
    ],
    "forum/actions/groups.py": [
        "tests/test_groups.py",
        "tests/test_actions_structure.py",
        "tests/test_actions_lookups.py",
    ],
    "forum/actions/positions.py": [
        "tests/test_discussions_positions.py",
        "tests/test_discussions_withdraw.py",
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
    again = argv[:1] == ["--survivors"]
    if again:
        argv = argv[1:]
    if not argv or argv[0] not in PLAN or (argv[1:] and not again):
        usage = "usage: mutation.py MODULE | --survivors MODULE [PATTERN...], MODULE one of"
        print(f"{usage}: {' '.join(PLAN)}", file=sys.stderr)
        return 2
    module, patterns = argv[0], argv[1:] or ["*"]
    before = _exit_codes(module) if again else {}
    if again:
        names = [
            name
            for name, status in _statuses(module).items()
            if status != "killed" and any(fnmatch(name, pattern) for pattern in patterns)
        ]
        if not names:
            print(f"{module}: every mutant of the last run was killed")
            return 0
    else:
        # A fresh tree: mutmut's record of which tests call which function is made for
        # one selection of tests, and each module has its own.
        shutil.rmtree("mutants", ignore_errors=True)
        names = [module.removesuffix(".py").replace("/", ".") + ".*"]
    from mutmut import configuration

    config = configuration.config()
    config.only_mutate = [module]
    config.pytest_add_cli_args_test_selection = PLAN[module]

    from mutmut.__main__ import cli

    cli(["run", "--max-children", "1", *names], standalone_mode=False)
    if again:
        # mutmut forgets every verdict when the selection of tests changes; those of the
        # mutants already killed stand (a test added kills more, never fewer).
        _keep_verdicts(module, before, names)
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


def _meta(module: str) -> Path:
    return Path("mutants") / f"{module}.meta"


def _exit_codes(module: str) -> dict[str, int | None]:
    codes: dict[str, int | None] = json.loads(_meta(module).read_text())["exit_code_by_key"]
    return codes


def _keep_verdicts(module: str, before: dict[str, int | None], rerun: list[str]) -> None:
    record = json.loads(_meta(module).read_text())
    record["exit_code_by_key"] = {
        name: code if name in rerun else before.get(name, code)
        for name, code in record["exit_code_by_key"].items()
    }
    _meta(module).write_text(json.dumps(record, indent=4))


def _statuses(module: str) -> dict[str, str]:
    """Each mutant of `module` and what became of it, from mutmut's record of the run."""
    from mutmut.stats import status_by_exit_code

    return {name: status_by_exit_code[code] for name, code in _exit_codes(module).items()}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
