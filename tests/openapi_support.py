"""A bounded schemathesis run against a live server: every generated request's answer
must be what `/openapi.json` says (status, content type, headers, body), and never a 500.

The run is small and deterministic so it can sit in the suite: each operation gets a
few generated cases of valid data and a few of invalid data (derandomized, no shrinking,
no example database), once with generated path parameters and once with the ids of real
objects, so that the 2xx answers are checked as well as the refusals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)


def body_is_documented(ctx: Any, response: Any, case: Any) -> None:
    """Schemathesis checks a body's type and shape only where the document declares
    content for its status, and passes any other: an undescribed body is a mismatch."""
    declared = case.operation.definition.raw.get("responses", {}).get(str(response.status_code))
    if declared is not None and response.content and not declared.get("content"):
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code} with a body "
            f"({response.headers.get('content-type')}) that the document does not describe"
        )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    body_is_documented,
]


@dataclass
class Report:
    cases: int = 0
    answers: dict[str, set[int]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def add_failure(self, key: str, text: str) -> None:
        self.failures.setdefault(key, text)

    def summary(self) -> str:
        return "\n\n".join(f"== {key}\n{text}" for key, text in sorted(self.failures.items()))


def run_conformance(
    base_url: str,
    *,
    token: str | None = None,
    known: Mapping[str, Any] | None = None,
    max_examples: int = 3,
    last: tuple[str, ...] = (),
) -> Report:
    """Run the operations of the server's document; return what was sent and found.

    Signed out (no `token`), an operation that needs an account is only asked enough to
    see its 401; signed in, one that needs none is left out (the signed-out run has it).
    `known` maps path parameter names to ids of real objects; `last` names operations
    run after all others, in that order, as they take away what the others need (the
    caller's role, the session itself).
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    operations.sort(key=lambda op: last.index(op.label) + 1 if op.label in last else 0)
    report = Report()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with requests.Session() as session:

        def test(case: Any) -> None:
            _call(case, base_url, session, headers, report)

        for operation in operations:
            auth = _auth(operation)
            if token and auth == "none":
                continue
            if not token and auth == "required":
                _explore(operation.as_strategy(), test, 2)
                continue
            names = [p.name for p in operation.path_parameters]
            known_ids = {n: known[n] for n in names if known and n in known}
            # (path parameters fixed, examples): generated ids mostly find nothing, so a
            # couple of them suffice where real ones are known.
            variants: list[tuple[dict[str, Any], int]] = [({}, max_examples)]
            if names and len(known_ids) == len(names):
                variants = [({}, 2), (known_ids, max_examples)]
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for fixed, examples in variants:
                    if mode is GenerationMode.NEGATIVE and not _negatable(operation, fixed):
                        continue
                    strategy = operation.as_strategy(
                        generation_mode=mode, path_parameters=fixed or None
                    )
                    _explore(strategy, test, examples)
    return report


def _auth(operation: Any) -> str:
    """What the document says the operation needs: "none", "optional" or "required"."""
    security = operation.definition.raw.get("security")
    if not security:
        return "none"
    return "optional" if {} in security else "required"


def _negatable(operation: Any, fixed: Collection[str]) -> bool:
    """Whether anything is left to make invalid: a path segment that may be any string
    cannot be, and hypothesis would search long for nothing."""
    free_path = [
        p
        for p in operation.path_parameters
        if p.name not in fixed and p.definition.get("schema") != {"type": "string"}
    ]
    return bool(free_path or list(operation.query) or list(operation.headers) or operation.body)


def _explore(strategy: st.SearchStrategy[Any], test: Callable[[Any], None], n: int) -> None:
    @hypothesis.settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def explore(case: Any) -> None:
        test(case)

    # Nothing to make invalid (an operation without parameters or body): nothing to run.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        explore()


def _call(
    case: Any,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    report: Report,
) -> None:
    report.cases += 1
    try:
        response = case.call_and_validate(
            base_url=base_url, session=session, headers=headers, checks=CHECKS, timeout=10
        )
    except FailureGroup as group:
        for failure in group.exceptions:
            key = f"{case.operation.label}: {failure.title}"
            report.add_failure(key, str(group))
        return
    except requests.RequestException as exc:
        report.add_failure(f"{case.operation.label}: {type(exc).__name__}", str(exc))
        return
    report.answers.setdefault(case.operation.label, set()).add(response.status_code)
