"""Scopes: which documents a question may draw on, as one typed record (schema.Scope), read from what a caller gives
(`sources=[ids]`, a `where` filter expression) and tested against a document's evidence profile and grade.

A `where` expression is clauses joined by "and" (or ";"), each on one field of the evidence:

    peer_reviewed                      (or peer_reviewed=false; "not peer_reviewed")
    type=case series|case report       evidence kinds by design, as documents/grade.py names them
    level<=4                           grade levels: <=, <, >=, >, =N, =N..M, =N|M
    date>=2020   date<=2023-06   date=2019..2021   date=2024

Clauses on the same field narrow each other ("date>=2020 and date<=2023"). Resolving a scope against an index
(unknown ids, no match) is index/scope.py's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from ..errors import ScopeError
from ..schema import EvidenceGrade, EvidenceProfile, Scope
from .grade import KIND_NAMES, UNKNOWN_KIND, design_of, kind_of

Check = Callable[[EvidenceProfile, EvidenceGrade], bool]
Sources = Sequence[str] | str | None  # what callers name documents with: ids (one id alone is one document)
Where = str | Scope | None  # a filter expression, or a Scope already made
LEVELS = range(1, 10)
FIELDS = "peer_reviewed, type, level, date"
EXAMPLE = "peer_reviewed and level<=4 and date>=2020"
_SPLIT = re.compile(r"(?:^|\s+)and(?:\s+|$)|\s*;\s*", re.IGNORECASE)
_CLAUSE = re.compile(r"^(?P<field>[a-z_ -]+?)\s*(?P<op><=|>=|==|=|<|>|:)\s*(?P<value>.+)$", re.IGNORECASE)
_PEER_FLAG = re.compile(r"^(?P<negated>not\s+)?(?:peer[ _-]?reviewed|reviewed)$", re.IGNORECASE)
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_ISO = re.compile(r"^\d{4}(?:-\d{2}){0,2}$")
_ALTERNATIVES = re.compile(r"\s*(?:\||,|\bor\b)\s*", re.IGNORECASE)


def scope_of(sources: Sources, where: Where) -> Scope | None:
    """The one Scope for what a caller gave: document ids and a filter (an expression or a Scope), narrowing each
    other; None when neither was given (the whole library). An empty id list is refused, not read as "everything"."""
    named = _sources(sources)
    if isinstance(where, str):
        where = parse_where(where) if where.strip() else None
    elif where is not None and not isinstance(where, Scope):
        raise ScopeError(f"A scope filter must be an expression such as {EXAMPLE!r}, not {type(where).__name__}.")
    if named is None:
        return where
    return narrow(Scope(sources=named), where) if where is not None else Scope(sources=named)


def _sources(sources: Sources) -> tuple[str, ...] | None:
    if sources is None:
        return None
    if isinstance(sources, str):
        sources = [sources]
    if not all(isinstance(s, str) for s in sources):
        raise ScopeError("sources must be document ids (text), e.g. sources=['beckett-2024-upadacitinib-myositis-case-series'].")
    named = tuple(dict.fromkeys(s.strip() for s in sources if s.strip()))
    if not named:
        raise ScopeError("sources names no document: give at least one document id, or leave sources out to search the whole library.")
    return named


def parse_where(text: str) -> Scope:
    """The Scope a filter expression describes (module docstring); ScopeError naming the clause and the fields."""
    scope = Scope()
    for clause in (c.strip() for c in _SPLIT.split(text.strip())):
        if not clause:
            raise ScopeError(f"The filter {text!r} has an empty clause. Join clauses with 'and', e.g. {EXAMPLE!r}.")
        scope = narrow(scope, _clause(clause, text))
    return scope


def _clause(clause: str, text: str) -> Scope:
    flag = _PEER_FLAG.match(clause)
    if flag:
        return Scope(peer_reviewed=not flag.group("negated"))
    found = _CLAUSE.match(clause)
    field = re.sub(r"[ -]", "_", found.group("field").strip().lower()) if found else ""
    readers = {"peer_reviewed": _peer, "type": _kinds, "kind": _kinds, "level": _levels, "date": _dates, "year": _dates}
    if not found or field not in readers:
        raise ScopeError(
            f"Cannot read {clause!r} in the filter {text!r}: each clause names one of {FIELDS} "
            f"(e.g. {EXAMPLE!r}; type= takes {', '.join(KIND_NAMES)})."
        )
    op = "=" if found.group("op") in ("==", ":") else found.group("op")
    return readers[field](op, found.group("value").strip(), clause)


def _peer(op: str, value: str, clause: str) -> Scope:
    if op != "=" or value.lower() not in _BOOLEANS:
        raise ScopeError(f"Cannot read {clause!r}: write peer_reviewed, peer_reviewed=false or not peer_reviewed.")
    return Scope(peer_reviewed=_BOOLEANS[value.lower()])


def _kinds(op: str, value: str, clause: str) -> Scope:
    if op != "=":
        raise ScopeError(f"Cannot read {clause!r}: write type=NAME (several: type=case series|case report).")
    kinds = []
    for name in (n for n in _ALTERNATIVES.split(value) if n):
        kind = kind_name(name)
        if kind is None:
            raise ScopeError(f"Unknown evidence type {name!r} in {clause!r}. Types: {', '.join(KIND_NAMES)}.")
        kinds.append(kind)
    return Scope(kinds=tuple(dict.fromkeys(kinds)))


def kind_name(name: str) -> str | None:
    """The evidence kind a name means: one of KIND_NAMES as written, or the kind documents/grade.py reads in it
    ("RCT", "randomized trials", "cohort studies"); "unknown" is the documents of unknown type."""
    lowered = name.strip().lower()
    exact = next((k for k in KIND_NAMES if k.lower() == lowered), None)
    if exact or lowered == "unknown":
        return exact or UNKNOWN_KIND
    found = kind_of(name) or kind_of(re.sub(r"s\b", "", name))  # "case reports" as "case report"
    return found[0] if found else None


def _levels(op: str, value: str, clause: str) -> Scope:
    try:
        if op == "=" and ".." in value:
            low, high = (int(v) for v in value.split("..", 1))
            levels = range(low, high + 1)
        elif op == "=":
            levels = [int(v) for v in _ALTERNATIVES.split(value) if v]  # type: ignore[assignment]
        else:
            n = int(value)
            levels = {"<=": range(1, n + 1), "<": range(1, n), ">=": range(n, 10), ">": range(n + 1, 10)}[op]
    except ValueError:
        raise ScopeError(f"Cannot read {clause!r}: a level is a whole number from 1 (strongest) to 9.") from None
    if not levels or any(n not in LEVELS for n in levels):
        raise ScopeError(f"{clause!r} names no level from 1 (systematic reviews) to 9 (unreviewed pages, AI answers).")
    return Scope(levels=tuple(sorted(set(levels))))


def _dates(op: str, value: str, clause: str) -> Scope:
    if op in ("<", ">"):
        raise ScopeError(f"Cannot read {clause!r}: dates take >= (on or after), <= (up to) or = (within), e.g. date>=2020.")
    low, _, high = value.partition("..") if op == "=" else (value, "", value)
    since, until = _date(low.strip(), clause), _date((high or low).strip(), clause)
    return Scope(since=since if op in ("=", ">=") else None, until=until if op in ("=", "<=") else None)


def _date(value: str, clause: str) -> str:
    formats = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}
    try:
        if not _ISO.match(value):
            raise ValueError(value)
        datetime.strptime(value, formats[len(value)])
    except (ValueError, KeyError):
        raise ScopeError(f"Cannot read the date {value!r} in {clause!r}: write 2020, 2020-06 or 2020-06-30.") from None
    return value


def narrow(a: Scope, b: Scope) -> Scope:
    """The documents both scopes admit (the filters of a `where` expression, or sources named besides a filter)."""
    sources = _both(a.sources, b.sources, "The documents named in sources and in the filter")
    kinds = _both(a.kinds, b.kinds, "No evidence type is in both clauses")
    levels = _both(a.levels, b.levels, "No level is in both clauses")
    if a.peer_reviewed is not None and b.peer_reviewed is not None and a.peer_reviewed != b.peer_reviewed:
        raise ScopeError("The filter asks for documents both peer-reviewed and not: keep one of the two clauses.")
    since = max((d for d in (a.since, b.since) if d), default=None)
    until = min((d for d in (a.until, b.until) if d), default=None)
    if since and until and since[: len(until)] > until:
        raise ScopeError(f"The date range {since}..{until} is empty: the first date must not be after the second.")
    peer = a.peer_reviewed if a.peer_reviewed is not None else b.peer_reviewed
    return replace(a, sources=sources, peer_reviewed=peer, kinds=kinds, levels=levels, since=since, until=until)


def _both(a: tuple, b: tuple, what: str) -> tuple:  # type: ignore[type-arg]
    if not a or not b:
        return a or b
    common = tuple(x for x in a if x in b)
    if not common:
        raise ScopeError(f"{what} have nothing in common ({', '.join(map(str, a))} against {', '.join(map(str, b))}).")
    return common


def admits(scope: Scope, profile: EvidenceProfile, grade: EvidenceGrade) -> bool:
    """Whether a document with this profile and grade passes every filter of the scope (its sources aside)."""
    return all(test(profile, grade) for _, test in checks(scope))


def checks(scope: Scope) -> list[tuple[str, Check]]:
    """Each filter of the scope as (its phrase for a reader, a test of a profile and grade), in a fixed order."""
    out: list[tuple[str, Check]] = []
    if scope.peer_reviewed is not None:
        want = scope.peer_reviewed
        out.append(("peer-reviewed" if want else "not peer-reviewed", lambda p, g: (p.peer_reviewed is True and g.reviewed) == want))
    if scope.kinds:
        out.append((f"of type {' or '.join(scope.kinds)}", lambda p, g: ((design_of(p) or (UNKNOWN_KIND, 0))[0]) in scope.kinds))
    if scope.levels:
        out.append((f"at evidence level {_levels_text(scope.levels)}", lambda p, g: g.level in scope.levels))
    if scope.since or scope.until:
        out.append((_dates_text(scope.since, scope.until), lambda p, g: _dated_within(p.date, scope.since, scope.until)))
    return out


def describe(scope: Scope) -> str:
    """The filters in words: "peer-reviewed, at evidence level 1–4, dated 2020 or later" ("" without filters)."""
    return ", ".join(phrase for phrase, _ in checks(scope))


def _levels_text(levels: tuple[int, ...]) -> str:
    contiguous = levels == tuple(range(levels[0], levels[-1] + 1))
    if len(levels) == 1:
        return str(levels[0])
    return f"{levels[0]}–{levels[-1]}" if contiguous else ", ".join(map(str, levels))


def _dates_text(since: str | None, until: str | None) -> str:
    if since and until:
        return f"dated {since}" if since == until else f"dated {since} to {until}"
    return f"dated {since} or later" if since else f"dated {until} or earlier"


def _dated_within(date: str | None, since: str | None, until: str | None) -> bool:
    """An ISO date (or its year or month) within [since, until], each compared at its own precision."""
    if not date or not _ISO.match(date[:10]):
        return False
    date = date[:10]
    return (since is None or date[: len(since)] >= since) and (until is None or date[: len(until)] <= until)
