"""The verifier: an LLM's draft, sentence by sentence, against the passages it cites. Pure functions, no LLM.

A sentence is kept only if
- it is a sentence, not a fragment led by its citation marker ("[1] Two as monotherapy");
- it cites at least one passage, and every number it cites was one of the passages given;
- every number, dose, percentage and p value in it appears in its cited passages (a dose with its unit);
- its stance agrees with theirs (stance.stance_of: "not recommended" vs "recommended", "no evidence" vs
  "effective"); a sentence with no stance that cites only passages against the treatment has dropped a negation;
- a yes/no opening agrees with the rest of its sentence, or, when that takes no side, with the passages it cites
  ("Yes, Rinvoq is not currently recommended …" is dropped);
- every drug, disease or abbreviation it names appears in its cited passages, under that name or a corpus alias
  ("Rinvoq" is supported by "upadacitinib").
For the whole draft (opening_problem): its opening sentence may not lead with a claim of missing evidence that an
indexed source contradicts, nor take the side opposite to the strongest source's stance (the extractive answer's
synthesis). Passages are the citations' verbatim quotes: what the reader can check in the references. Sentences are split
with the chunker's splitter (chunk.split_sentences), the one that made the passages: decimals, ranges, "Fig. 2B."
and abbreviations are handled once, for both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..documents.aliases import AliasTable, mentions
from ..documents.chunk import split_sentences
from ..index.load import Index
from ..schema import Answer, SourceStance, Synthesis
from .question import DISEASE_OR_DRUG, NOT_NAMES
from .stance import answer_word, stance_of

_MARKER = re.compile(r"\[(?:passages?\s*)?(\d+(?:\s*[,;–-]\s*\d+)*)\]", re.I)
_LEADING_MARKERS = re.compile(rf"^(?:\s*{_MARKER.pattern})+", re.I)
_EMPHASIS = re.compile(r"\*\*|__")
_LEAD = re.compile(r"^\s*(?:(?:[-*•]|\d+[.)]|#+)\s+|(?:answer|summary)\s*:\s*)+", re.I)
NOT_COVERED = re.compile(r"\bnot covered\b", re.I)

_NUMBER_WORDS = dict(
    zip(
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split(),
        range(1, 21),
        strict=True,
    )
)
_WORD_NUMBER = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.I)
_NUM = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?|\.\d+"
_UNIT = r"%|percent\b|(?:mg|mcg|µg|μg|g|kg|ml|IU|units?)\b(?:\s*(?:/|per\s)\s*[A-Za-z²]+)?"
_QUANTITY = re.compile(rf"(?<![\w.])(?<![A-Za-z][-–])({_NUM})(?:\s*(?:-|–|to)\s*({_NUM}))?\s*({_UNIT})?", re.I)

_ABBREVIATION = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*(?![\w-])")

Quantity = tuple[float, str]


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence of a draft: as written, without its [n] markers, and the passage numbers it cites."""

    text: str
    body: str
    cited: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Dropped:
    """A sentence the verifier removed, and why."""

    sentence: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"sentence": self.sentence, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Verification:
    """What survived verification, in draft order, and what was dropped."""

    kept: tuple[Claim, ...]
    dropped: tuple[Dropped, ...]

    @property
    def total(self) -> int:
        return len(self.kept) + len(self.dropped)

    @property
    def kept_fraction(self) -> float:
        return len(self.kept) / self.total if self.total else 0.0


# ---------------------------------------------------------------- sentences

def split_claims(draft: str) -> list[Claim]:
    """The draft's sentences, each with the markers that follow it ("… 2.5. [3]" cites [3]); a line's first
    sentence keeps markers that lead it ("[1] Two as monotherapy": a fragment, see check_claim)."""
    claims = []
    for line in draft.splitlines():
        line = _LEAD.sub("", _EMPHASIS.sub("", line)).strip()
        texts: list[str] = []
        for start, end in split_sentences(line, 0, len(line)):
            text = line[start:end]
            lead = _LEADING_MARKERS.match(text)
            if lead and texts:  # "… 2.5. [3] It was …": [3] closes the sentence before
                texts[-1] += " " + lead.group(0).strip()
                text = text[lead.end() :].strip()
            if text:
                texts.append(text)
        for text in texts:
            body = re.sub(r"\s+", " ", _MARKER.sub(" ", text)).strip()
            if re.search(r"\w", body):
                claims.append(Claim(text, body, cited_numbers(text)))
    return claims


def cited_numbers(text: str) -> tuple[int, ...]:
    """Every passage number in [n] markers: [1], [1, 3], [1][3], [2-4]."""
    found: list[int] = []
    for marker in _MARKER.finditer(text):
        for part in re.split(r"\s*[,;]\s*", marker.group(1)):
            ends = [int(n) for n in re.split(r"\s*[–-]\s*", part)]
            first, last = ends[0], ends[-1]
            found += range(first, last + 1) if first <= last <= first + 20 else ends
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------- checks

def verify_draft(draft: str, passages: Mapping[int, str], aliases: AliasTable) -> Verification:
    """Keep the sentences every check passes; list the others with the first reason they failed."""
    kept: list[Claim] = []
    dropped: list[Dropped] = []
    for claim in split_claims(draft):
        reason = check_claim(claim, passages, aliases)
        if reason:
            dropped.append(Dropped(claim.text, reason))
        else:
            kept.append(claim)
    return Verification(tuple(kept), tuple(dropped))


def check_claim(claim: Claim, passages: Mapping[int, str], aliases: AliasTable) -> str | None:
    """Why the claim is not supported by the passages it cites, or None when it is."""
    if NOT_COVERED.search(claim.body):
        return "the model said the passages do not cover the question"
    if _LEADING_MARKERS.match(claim.text):
        return "a fragment led by its citation marker, not a sentence of the answer"
    if not claim.cited:
        return "cites no passage"
    unknown = [n for n in claim.cited if n not in passages]
    if unknown:
        return f"cites {_marks(unknown)}, which {'is' if len(unknown) == 1 else 'are'} not among the passages given ({_marks(sorted(passages))})"
    cited = [passages[n] for n in claim.cited]
    return (
        number_problem(claim, cited) or direction_problem(claim, cited) or stance_problem(claim, cited)
        or name_problem(claim, cited, aliases)
    )


def number_problem(claim: Claim, cited: list[str]) -> str | None:
    """A number (with its unit, for doses and percentages) the cited passages never state."""
    values: set[float] = set()
    with_units: set[Quantity] = set()
    for passage in cited:
        for value, unit in quantities(passage):
            values.add(value)
            with_units.add((value, unit))
    for value, unit in quantities(claim.body):
        if (value, unit) not in with_units and (unit or value not in values):
            shown = f"{value:g}{'' if unit in ('', '%') else ' '}{unit}"
            return f"states {shown}, which {_marks(claim.cited)} {'does' if len(cited) == 1 else 'do'} not"
    return None


_OPPOSED: dict[str, set[SourceStance]] = {"for": {"refutes", "no effect", "lacking"}, "against": {"supports"}}


def opening_problem(opening: Claim, synthesis: Synthesis | None, numbers_by_doc: Mapping[int, str]) -> str | None:
    """Why a draft's first sentence misleads against the synthesis: it cites only sources whose claim of missing
    evidence an indexed source contradicts, it takes the side opposite to the stance of the source the synthesis
    leads with (without citing it), or it takes a side at all on a condition or drug no source names ("improves
    cutaneous disease in refractory DM" as the answer to "Did upadacitinib help psoriasis?")."""
    if synthesis is None or not synthesis.sources:
        return None
    side = stance_of(opening.body)
    if synthesis.unnamed and side in _OPPOSED:
        return f"reads as '{side}' on {', '.join(synthesis.unnamed)}, which no source names"
    refuted = {c.doc_id: c for c in synthesis.contradicted}
    docs = {numbers_by_doc.get(n) for n in opening.cited}
    if docs and docs <= set(refuted):
        by = sorted({n for d in docs for n in refuted[d or ""].evidence})
        return f"cites only a source whose claim of missing evidence is contradicted by {_marks(by)}"
    lead = synthesis.sources[0]
    if side in _OPPOSED and lead.stance in _OPPOSED[side] and lead.doc_id not in docs:
        return f"reads as '{side}' where the strongest source ({lead.grade.label()}) takes the stance '{lead.stance}'"
    return None


def stance_problem(claim: Claim, cited: list[str]) -> str | None:
    """The claim's stance (for/against the treatment) disagrees with every cited passage."""
    stance = stance_of(claim.body)
    sides = {stance_of(p) for p in cited}
    if stance != "neutral" and stance not in sides:
        return f"reads as '{stance}' but {_marks(claim.cited)} {'reads' if len(cited) == 1 else 'read'} as {' / '.join(sorted(sides))}"
    if stance == "neutral" and sides == {"against"}:
        return f"drops the negative position of {_marks(claim.cited)} (not recommended / no evidence)"
    return None


def direction_problem(claim: Claim, cited: list[str]) -> str | None:
    """A yes/no opening that points the other way from its own sentence or, when that takes no side, from every
    passage it cites."""
    word, rest = answer_word(claim.body)
    if word == "neutral":
        return None
    said = "yes" if word == "for" else "no"
    stance = stance_of(rest)
    if stance not in ("neutral", word):
        return f"opens with '{said}' but the sentence reads as '{stance}'"
    sides = {stance_of(p) for p in cited} - {"neutral"}
    if stance == "neutral" and sides and word not in sides:
        return f"answers '{said}' where {_marks(claim.cited)} {'reads' if len(cited) == 1 else 'read'} as {' / '.join(sorted(sides))}"
    return None


def name_problem(claim: Claim, cited: list[str], aliases: AliasTable) -> str | None:
    """A drug, disease or abbreviation named in the claim that no cited passage names (under any alias)."""
    text = "\n".join(cited)
    for name, others in names_in(claim.body, aliases):
        if not any(mentions(n, text) for n in (name, *others)):
            return f"names '{name}', which {_marks(claim.cited)} {'does' if len(cited) == 1 else 'do'} not mention"
    return None


# ---------------------------------------------------------------- what a sentence states

def quantities(text: str) -> list[Quantity]:
    """Every number in `text` (number words too) with its normalised unit ('' if none); ranges give both ends."""
    text = _WORD_NUMBER.sub(lambda m: str(_NUMBER_WORDS[m.group(1).lower()]), text)
    found: list[Quantity] = []
    for match in _QUANTITY.finditer(text):
        unit = _unit(match.group(3) or "")
        found += [(float(n.replace(",", "")), unit) for n in match.group(1, 2) if n]
    return found


def _unit(raw: str) -> str:
    """'mg per kg' → 'mg/kg', 'percent' → '%', 'μg' → 'mcg'; only the first 'per' part is kept."""
    unit = re.sub(r"\s*(?:/|per\s)\s*", "/", raw.strip().lower())
    unit = unit.replace("percent", "%").replace("µg", "mcg").replace("μg", "mcg").replace("units", "unit")
    return "/".join(unit.split("/")[:2])


def names_in(text: str, aliases: AliasTable) -> list[tuple[str, list[str]]]:
    """Drugs, diseases and abbreviations named in `text`, each with its corpus aliases."""
    found = aliases.expansions(text)
    covered = {word.lower() for term, _ in found for word in term.split()} | NOT_NAMES
    for match in [*DISEASE_OR_DRUG.finditer(text), *_ABBREVIATION.finditer(text)]:
        word = match.group(0)
        if word.lower() not in covered:
            found.append((word, []))
            covered.add(word.lower())
    return found


def _marks(numbers: list[int] | tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in numbers)


# ---------------------------------------------------------------- evaluation hook

def llm_citation_precision(answer: Answer, index: Index) -> float | None:
    """Share of the LLM-written sentences whose numbers and key terms appear in the passages they cite.

    Passages are re-read from the indexed documents (text[start:end]); None when the answer has no LLM sentence.
    """
    sentences = answer.metadata.llm_sentences
    if not sentences:
        return None
    passages = {c.number: index.documents[c.doc_id].text[c.start : c.end] for c in answer.citations}
    claims = [claim for sentence in sentences for claim in split_claims(sentence)]
    return sum(_precise(claim, passages, index.aliases) for claim in claims) / len(claims) if claims else None


def _precise(claim: Claim, passages: Mapping[int, str], aliases: AliasTable) -> bool:
    cited = [passages[n] for n in claim.cited if n in passages]
    if not cited or len(cited) < len(claim.cited):
        return False
    return not (number_problem(claim, cited) or name_problem(claim, cited, aliases))
