"""The records an evaluation run produces: one per case, one per suite, one per run (read by eval/suites/report.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .metrics import Violation


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One asked question (or one expected fact of it): pass/fail, why, and what the answer said."""

    kind: str  # fact | turn | turn-abstain | unanswerable | seed | seed-disagreement | disagreement | miss (datasets)
    case_id: str
    question: str
    passed: bool
    detail: str
    excerpt: str


@dataclass(slots=True)
class SuiteResult:
    name: str
    metrics: dict[str, float]
    cases: list[CaseResult] = field(default_factory=list)
    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    info: dict[str, object] = field(default_factory=dict)  # sizes and timings of the run
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class EvalRun:
    suites: list[SuiteResult]
    violations: list[Violation]  # against the gate the run was checked with
    below_target: list[Violation] = field(default_factory=list)  # always against the targets

    @property
    def ok(self) -> bool:
        return not self.violations
