"""Synthesis: the bottom line weighs its sources instead of only matching them.

Every source of an answer has a grade (documents/grade.py) and a stance on the question (stance.source_stance).
The sources that answer comparably well (best evidence at least `lead_share` of the best) are quoted strongest grade
first, then the others by relevance; each source's best finding first, then further findings while room is left.
A claim that evidence is missing is checked against the other sources: when one at least as strong reports
findings on the question, the claim is named as contradicted and quoted after that evidence, never first. The
opening line counts the sources by stance and grade, in templated words that claim nothing medical.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..schema import UNKNOWN_GRADE, ContradictedClaim, EvidenceGrade, Source, SourceStance, SourceVerdict, Synthesis
from .absence import NAMES_LITERATURE

Key = tuple[str, int, int]


class Sentence(Protocol):
    """What synthesis reads of a quoted sentence (compose.Candidate)."""

    text: str
    evidence: float
    role: str
    absence: bool  # it claims that evidence is missing (absence.py)
    matched: frozenset[str]  # the question's concepts it names
    about: bool  # it names one of the question's concepts or is close to it in meaning

    @property
    def key(self) -> Key: ...


@dataclass(frozen=True, slots=True)
class Weighed:
    """One source of the answer, its sentences in the answer (best evidence first) and its stance. `results_first`:
    the question asks for a verdict, so the source's results and conclusions come before its background and methods."""

    source: Source
    sentences: tuple[Sentence, ...]
    stance: SourceStance
    results_first: bool = False
    position: int = 0  # its best sentence's place in the scorer's fused order of all candidates (0 the first)
    # its findings are on the question, so they can refute a claim that evidence on it is missing (Composer._bearing)
    bears: bool = True

    @property
    def relevance(self) -> float:
        return max((s.evidence for s in self.sentences), default=0.0)

    @property
    def findings(self) -> list[Sentence]:
        """Sentences that may stand in the bottom line: no apparatus, no claim that evidence is missing; for a verdict,
        results and conclusions first."""
        found = [s for s in self.sentences if s.role != "apparatus" and not s.absence]
        return sorted(found, key=lambda s: s.role != "finding") if self.results_first else found

    @property
    def reports(self) -> bool:
        """It states a result or conclusion about the question (not only its background, methods or a claim)."""
        return any(_reported(s) for s in self.sentences)

    @property
    def only_discusses(self) -> bool:
        """Its most relevant sentence speaks of the research on the question ("The medical literature has a glaring gap
        on whether …") and it reports no result on it: it discusses the evidence without being any."""
        best = max(self.sentences, key=lambda s: s.evidence, default=None)
        return best is not None and NAMES_LITERATURE.search(best.text) is not None and not self.reports

    @property
    def claims(self) -> list[Sentence]:
        """Its quoted claims that evidence on the question is missing."""
        return [s for s in self.sentences if s.role != "apparatus" and s.absence]


@dataclass(frozen=True, slots=True)
class Pick:
    """A bottom-line sentence; `refuted_by` names the documents whose findings contradict it (a claim of absence)."""

    sentence: Sentence
    refuted_by: tuple[str, ...] = ()


def _reported(sentence: Sentence) -> bool:
    return sentence.role == "finding" and not sentence.absence and sentence.about


def refutations(weighed: Sequence[Weighed], *, bearing: bool = True) -> dict[str, tuple[str, ...]]:
    """Each source whose stance is that evidence is lacking → the sources at least as strong that report findings
    on the question (a source never refutes itself; a claim is checked only against what the index holds). With
    `bearing`, only those whose findings bear on it (Weighed.bears): a study of CPAP noise and hearing loss in preterm
    infants refutes no page saying nobody has studied hearing loss after pre-eclampsia; without it, every one, as
    `source_order` places the claim after them: an unrefuted claim does not lead a source with findings either."""
    out: dict[str, tuple[str, ...]] = {}
    for claimant in (w for w in weighed if w.stance == "lacking" and w.claims):
        found = tuple(
            w.source.doc_id for w in weighed
            if w is not claimant and (w.bears or not bearing) and w.stance != "lacking" and w.findings
            and as_strong(w.source.grade, claimant.source.grade)
        )
        if found:
            out[claimant.source.doc_id] = found
    return out


def as_strong(a: EvidenceGrade, b: EvidenceGrade) -> bool:
    """`a` is at least as strong as `b`: reviewed where `b` is not, or no lower in the hierarchy."""
    return (a.reviewed and not b.reviewed) or (a.reviewed == b.reviewed and a.level <= b.level)


def source_order(
    weighed: Sequence[Weighed], lead_share: float, outranked: Mapping[str, tuple[str, ...]], *, extracted: bool = False,
    first: str | None = None, findings: bool = False,
) -> list[Weighed]:
    """The sources that answer comparably well (`lead_share` of the best evidence) by grade, with `findings` (for a
    question asking for a verdict) those that only discuss its evidence (`Weighed.only_discusses`) after the others of
    the same grade, the rest (and equal grades) in the scorer's fused order (`Weighed.position`); a claim of missing
    evidence right after the last source that `outranked` it (`refutations(..., bearing=False)`: every source with
    findings at least as strong, whether or not they bear on the question enough to refute it); `first` (a document
    that states exactly what is asked, such as both names of a drug) ahead of all. A grade inferred from the text
    orders sources only with `extracted` (otherwise it counts as unknown: front matter declares, the text-inference
    rules only suggest), but for one below unknown: a text that says a machine wrote it or no one reviewed it ("This
    reply was produced by a chatbot") is taken at its word."""

    def grade(w: Weighed) -> EvidenceGrade:
        said = w.source.grade
        return UNKNOWN_GRADE if said.extracted and not extracted and said.level <= UNKNOWN_GRADE.level else said  # a text may only lower itself

    def rank(w: Weighed) -> tuple[tuple[int, int, int], bool, int]:
        return (grade(w).rank(), findings and w.results_first and w.only_discusses, w.position)

    # an unreviewed page that restates the question sets no bar for what answers comparably well
    best = max((w.relevance for w in weighed if grade(w).reviewed), default=0.0) or max((w.relevance for w in weighed), default=0.0)

    head = sorted((w for w in weighed if w.relevance >= lead_share * best), key=rank)
    order = head + sorted((w for w in weighed if w.relevance < lead_share * best), key=lambda w: w.position)
    order.sort(key=lambda w: w.source.doc_id != first)
    for doc_id, by in outranked.items():
        moved = next(w for w in order if w.source.doc_id == doc_id)
        order.remove(moved)
        last = max(i for i, w in enumerate(order) if w.source.doc_id in by)
        order.insert(last + 1, moved)
    return order


def bottom_line(
    order: Sequence[Weighed], refuted: Mapping[str, tuple[str, ...]], slots: int, per_source: int, share: float,
    topics: frozenset[str] = frozenset(), lead_share: float = 0.0,
) -> list[Pick]:
    """Each source's best finding in order (a source saying evidence is lacking: its claim, labelled when refuted),
    while it has `lead_share` of the first one's evidence (and `share`: the sources that answer comparably well);
    then, while `slots` are left (at most `per_source` from one source), each of the question's `topics` no pick
    names yet, by the first source with a finding that names it; then each source's further findings in its own order
    (the fused order, for a verdict its results and conclusions first: on dev, ordering them by the scorer's evidence
    alone lost RESULTS sentences and gained no COVID-QA span), while they have `share` of the first one's. Grouped by
    source in the end."""
    top = next((w.findings[0].evidence for w in order if w.stance != "lacking" and w.findings), 0.0)
    firsts: list[Pick] = []
    for w in order:
        if w.stance == "lacking":  # its point is the claim, labelled when an indexed source refutes it
            claim = Pick(w.claims[0], refuted.get(w.source.doc_id, ()))
            firsts += [claim] if claim.refuted_by or claim.sentence.evidence >= share * top else []
        elif w.findings and w.findings[0].evidence >= max(share, lead_share) * top:
            firsts.append(Pick(w.findings[0]))
    picked = firsts[:slots]
    open_sources = [w for w in order if w.stance != "lacking"]
    covered = {t for p in picked if p.sentence.key[0] in {w.source.doc_id for w in open_sources} for t in p.sentence.matched}
    for topic in sorted(topics - covered):  # what a claim of missing evidence names is not covered by it
        found = next((s for w in open_sources if _room(w, picked, per_source) for s in w.findings if topic in s.matched and _new(s, picked)), None)
        if found is not None and len(picked) < slots:
            picked.append(Pick(found))
    for w in open_sources:
        more = [s for s in w.findings if _new(s, picked) and s.evidence >= share * top]
        picked += [Pick(s) for s in more[: max(0, min(slots - len(picked), per_source - _count(w, picked)))]]
    rank = {w.source.doc_id: i for i, w in enumerate(order)}
    return sorted(picked, key=lambda p: rank[p.sentence.key[0]])


def _new(sentence: Sentence, picked: Sequence[Pick]) -> bool:
    return all(p.sentence.key != sentence.key for p in picked)


def _count(w: Weighed, picked: Sequence[Pick]) -> int:
    return sum(p.sentence.key[0] == w.source.doc_id for p in picked)


def _room(w: Weighed, picked: Sequence[Pick], per_source: int) -> bool:
    return _count(w, picked) < per_source


STANCE_WORDS: dict[SourceStance, tuple[str, str]] = {  # (one source, several)
    "supports": ("supports it", "support it"),
    "refutes": ("argues against it", "argue against it"),
    "no effect": ("finds no effect", "find no effect"),
    "mixed": ("reports mixed findings", "report mixed findings"),
    "lacking": ("says evidence is lacking", "say evidence is lacking"),
    "reports": ("reports on it", "report on it"),
}
_PLURALS = (
    ("meta-analysis", "meta-analyses"), ("review", "reviews"), ("guideline", "guidelines"), ("trial", "trials"),
    ("study", "studies"), ("report", "reports"), ("answer", "answers"), ("page", "pages"), ("opinion", "opinions"),
    ("document", "documents"), ("preprint", "preprints"),
)


def _plural(kind: str) -> str:
    """'peer-reviewed randomised trial' → '… trials'; a case series stays a case series."""
    for one, many in _PLURALS:
        plural, found = re.subn(rf"\b{one}\b", many, kind, count=1)
        if found:
            return plural
    return kind


def synthesis(
    order: Sequence[Weighed],
    picks: Sequence[Pick],
    numbers: Mapping[Key, int],
    refuted: Mapping[str, tuple[str, ...]],
    unnamed: Sequence[str] = (),
) -> Synthesis:
    """The record and opening line of an answer's synthesis, once citation numbers are known. `unnamed`: the rare words
    of a question asking for a verdict that no source uses ("psoriasis", asked of a case series on dermatomyositis);
    no source takes a side, and the line says why."""
    verdicts = tuple(
        SourceVerdict(w.source.doc_id, w.source.grade, w.stance, tuple(numbers[p.sentence.key] for p in picks if p.sentence.key[0] == w.source.doc_id))
        for w in order
    )
    contradicted = tuple(_contradiction(w, order, picks, numbers, refuted[w.source.doc_id]) for w in order if w.source.doc_id in refuted)
    return Synthesis(_line(order, contradicted, unnamed), verdicts, contradicted, tuple(unnamed))


def _line(order: Sequence[Weighed], contradicted: Sequence[ContradictedClaim], unnamed: Sequence[str]) -> str:
    """"1 peer-reviewed case series (10 patients, 2024) supports it; 1 unreviewed AI-generated answer (2025) says
    evidence is lacking, contradicted by [9]." Sources of one kind and stance are counted together; then the
    conditions or drugs no source names ("; no source names “psoriasis”")."""
    groups: dict[tuple[str, SourceStance], list[Weighed]] = {}
    for w in order:
        groups.setdefault((w.source.grade.kind, w.stance), []).append(w)
    by_doc = {c.doc_id: c for c in contradicted}
    parts = []
    for (kind, stance), members in groups.items():
        one = len(members) == 1
        label = members[0].source.grade.label() if one else f"{len(members)} {_plural(kind)}"
        part = f"{'1 ' if one else ''}{label} {STANCE_WORDS[stance][0 if one else 1]}"
        refuting = sorted({n for w in members if w.source.doc_id in by_doc for n in by_doc[w.source.doc_id].evidence})
        if refuting:
            part += ", contradicted by " + ", ".join(f"[{n}]" for n in refuting)
        parts.append(part)
    if unnamed:
        parts.append("no source names " + ", ".join(f"“{w}”" for w in unnamed))
    return "; ".join(parts) + "."


def _contradiction(
    claimant: Weighed, order: Sequence[Weighed], picks: Sequence[Pick], numbers: Mapping[Key, int], by: tuple[str, ...]
) -> ContradictedClaim:
    """The templated note: which claim says evidence is lacking (quoted in the bottom line under its number), which
    indexed source reports findings (its bottom-line findings, else its best one), and how their dates relate (a
    claim dated after the evidence missed it)."""
    claim_n = numbers[claimant.claims[0].key]
    evidence = [w for w in order if w.source.doc_id in by]
    shown = [p.sentence for p in picks if p.sentence.key[0] in by and not p.refuted_by] or [evidence[0].findings[0]]
    cited = tuple(numbers[s.key] for s in shown)
    first = evidence[0].source
    note = (
        f"[{claim_n}], {_a(claimant.source.grade.label())}, says evidence is lacking; the indexed "
        f"{first.grade.label()} reports findings on this question {_cite_list(cited)}."
    )
    a_date, b_date = claimant.source.profile.date, first.profile.date
    missed = bool(a_date and b_date and a_date > b_date)
    if missed:
        note += f" [{claim_n}] is dated {a_date}, after that evidence ({b_date}), and missed it."
    elif a_date and b_date and a_date < b_date:
        note += f" [{claim_n}] ({a_date}) predates that evidence ({b_date})."
    return ContradictedClaim(claim_n, claimant.source.doc_id, cited, by, missed, note)


def _a(phrase: str) -> str:
    """The phrase with its indefinite article."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _cite_list(numbers: Sequence[int]) -> str:
    return ", ".join(f"[{n}]" for n in numbers)
