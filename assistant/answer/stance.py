"""Stance cues and disagreement between sources, as explicit rules.

A sentence's stance on the question's core claim is read from cue phrases: against (not recommended,
insufficient or no evidence, not effective), for (effective, significant improvement, benefit), with
hedges (may, appears, suggest) noted. Two cited sentences from different documents with opposite stances
make a Disagreement, reported with each side's evidence type and date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from ..documents.grade import comparable
from ..schema import Disagreement, Source, SourceStance

Stance = Literal["for", "against", "neutral"]

# Each alternative is one rule, in the words clinicians write: a recommendation against, missing evidence,
# a negated or absent effect, a harm on the outcome itself.
AGAINST = re.compile(
    "|".join(
        (
            r"\bnot (?:currently |yet )?(?:recommended|approved|supported|effective|advised|indicated)\b",
            r"\bshould not be (?:used|given|prescribed|offered|initiated)\b|\bshould not (?:\w+ ){0,3}(?:initiate|prescribe|offer|use|give)\b",
            r"\bnot an? (?:acceptable|appropriate|suitable) (?:alternative|option|treatment)\b",
            r"\binsufficient evidence\b|\black of (?:evidence|efficacy)\b|\bremains investigational\b|\bnot (?:an )?established\b",
            r"\bno (?:published |good |strong |clinical )*(?:evidence|clinical trials|trials|data|studies)\b",
            r"\bno\b[^.;:,]{0,80}\b(?:reliable|convincing|good-quality|high-quality) evidence\b",  # no condition with reliable evidence
            r"\bdo(?:es)? not (?:mention|support|improve|help|reduce|prevent)\b",
            r"\bdid not (?:have |show |produce )?(?:a )?(?:significantly |meaningfully )?"
            r"(?:improve|help|reduce|lower|shorten|prevent|prolong|slow|result in|lead to|better|shorter|fewer|faster|greater)\b",
            r"\bno (?:significant |important |meaningful |clinically (?:important |meaningful )?|clear )?(?:benefit|improvement|effect|difference)\b",
            r"\blittle (?:or no )?(?:\w+ )?benefit\b|\bno better than\b|\bineffective\b",
            r"\bincreased (?:all-cause |overall )?(?:mortality|deaths?)\b",
        )
    ),
    re.I,
)
FOR = re.compile(
    "|".join(
        (
            r"\b(?:appears? to be |was |is |were |are )?effective\b|\bsignificant(?:ly)? improve|\bstatistically significant\b",
            r"\bimproved\b|\bimproves\b|\bbenefit(?:s|ed)?\b|\bwell tolerated\b|\bremission\b|\bable to discontinue\b",
            r"\brecommended\b|\bwe recommend\b|\b(?:is|are) (?:the )?preferred\b|\b(?:is|are) (?:advised|indicated)\b",
            r"\breduc(?:e|es|ed|ing)\b[^.;]{0,40}\b(?:risk|odds|rate|incidence|mortality|death|pain|symptoms|admissions?|events|flares)\b",
            r"\blower(?:s|ed)? (?:the )?(?:\w+ )?(?:risk|odds|rate|chance|incidence|mortality)\b",
            r"\b(?:a|an|significant|greater|larger) (?:\d+(?:\.\d+)? ?% )?(?:relative )?(?:reduction|decrease) in\b|\bsignificantly fewer\b",
            r"\b(?:was|were|is|are) (?:superior|noninferior|non-inferior) to\b",
        )
    ),
    re.I,
)
HEDGE = re.compile(r"\bmay\b|\bmight\b|\bappear(?:s|ed)?\b|\bsuggest|\bpossibl|\btheoretical\b|\bpromise\b", re.I)
# A claim about the literature: evidence on the question does not exist. The index can contradict it (synthesis.py).
_LITERATURE = r"(?:evidence|clinical trials|trials|data|studies|research|reports|guidelines|literature)"
ABSENCE_CLAIM = re.compile(
    "|".join(
        (
            r"\b(?:there (?:is|are) )?(?:currently |still )?no (?:published |good |strong |high-quality |clinical |randomi[sz]ed |controlled |human "
            r"|scientific |peer-reviewed |good-quality |reliable |robust |conclusive |direct |rigorous )*" + _LITERATURE + r"\b",
            r"\b(?:insufficient|inadequate|scarce|lacking|little|scant|sparse) (?:published |clinical |scientific )?(?:evidence|data|research|studies)\b"
            r"|\b(?:evidence|data|research|studies|trials|literature)(?: \w+){0,3} (?:is|are|remains?) (?:still |currently |very |extremely )?"
            r"(?:lacking|insufficient|scarce|absent|sparse|limited(?! to\b| by\b))\b",
            r"\b(?:lack|paucity|absence) of (?:published |clinical |scientific )?(?:evidence|data|studies|trials|research|literature)\b",
            r"\bnot enough (?:published |clinical |scientific )?(?:evidence|data|research|studies)\b",
            r"\b(?:has|have) (?:not|never) (?:yet |previously )?been (?:studied|evaluated|investigated|tested|examined|reported|used|researched)\b",
            r"\b(?:has|have) yet to be (?:studied|evaluated|investigated|tested|examined|established|researched)\b",
            r"\b(?:researchers|scientists|investigators|studies|trials) (?:have|has) (?:not|never) (?:yet )?(?:studied|evaluated|investigated|"
            r"tested|examined|addressed|looked at|looked into|researched)\b",
            r"\bno (?:[\w-]+ ){0,2}(?:study|trial) has (?:yet )?(?:studied|evaluated|examined|investigated|tested|reported|addressed|assessed|looked at)\b",
            r"\b(?:nobody|no one|no researchers?|no scientists?) (?:has|have) (?:yet |ever )?(?:studied|evaluated|examined|investigated|tested|"
            r"addressed|looked at|looked into|researched|published)\b",
            r"\b(?:could not|couldn't|cannot|can't|did not|didn't|was unable to|were unable to) (?:find|identify|locate) (?:any )?(?:published |peer-reviewed |clinical |relevant )*"
            + _LITERATURE + r"\b",
            r"\b(?:not|never) been (?:studied|evaluated|investigated|tested) in\b",
        )
    ),
    re.I,
)
# A finding of no effect: the outcome did not differ. Not a claim that evidence is missing.
NO_EFFECT = re.compile(
    r"\bno (?:statistically )?(?:significant |meaningful |clinically (?:important |meaningful )?|clear )?(?:difference|effect|benefit|improvement|association|change)s?\b"
    r"|\bdid not (?:significantly )?(?:differ|improve|reduce|change|affect|increase|decrease|lower)\b|\bnot (?:significantly )?(?:associated|different)\b"
    r"|\bsimilar (?:in|between) (?:the )?(?:two |both )?groups\b|\bcomparable (?:between|in) (?:the )?(?:two |both )?groups\b",
    re.I,
)


_ANSWER_WORD = re.compile(r"^\W*(yes|no)\s*[,.;:!\u2013\u2014-]", re.I)  # "Yes, …" / "No. …", not "No patients …"


def answer_word(sentence: str) -> tuple[Stance, str]:
    """A leading yes/no answer ('for' / 'against'), and the rest of the sentence; ('neutral', sentence) without one."""
    match = _ANSWER_WORD.match(sentence)
    if not match:
        return "neutral", sentence
    return ("for" if match.group(1).lower() == "yes" else "against"), sentence[match.end() :]


def stance_of(sentence: str) -> Stance:
    """'against' wins over 'for' in the same sentence: "not recommended … insufficient evidence" is against."""
    if AGAINST.search(sentence):
        return "against"
    if FOR.search(sentence):
        return "for"
    return "neutral"


# A sentence in the form of a question: an auxiliary verb first, or a question mark last (before closing quotes).
_ASKS = re.compile(r"^\W*(?:do|does|did|is|are|was|were|can|could|should|would|will)\s+\w|\?[\s\"'”’).]*$", re.I)


def asks(sentence: str) -> bool:
    """The sentence asks rather than states: a page quoting the question ("… nobody has yet looked at the question
    “Estradiol … Fertilization. Does It Improve IVF Outcomes …”.", split at the title's full stop) takes no side by it."""
    return bool(_ASKS.search(sentence))


def source_stance(sentences: Sequence[str], claims: Sequence[bool]) -> SourceStance:
    """A source's stance on the question, from the sentences it is quoted for, most relevant first: it says evidence is
    lacking when its most relevant sentence says so and none reports a finding for; otherwise a finding for and one
    against (or of no effect) is mixed. A study that notes no earlier data on its question reports its own. A sentence
    that asks (`asks`) states nothing. `claims`: which sentences claim evidence is missing (absence.claims_absence)."""
    read = [(s, claim) for s, claim in zip(sentences, claims, strict=True) if not asks(s)]
    no_effect = any(NO_EFFECT.search(s) for s, _ in read)
    marks = {stance_of(s) for s, claim in read if not claim and not NO_EFFECT.search(s)}
    if "for" in marks:
        return "mixed" if "against" in marks or no_effect else "supports"
    if read and read[0][1]:
        return "lacking"
    if "against" in marks:
        return "refutes"
    return "no effect" if no_effect else "reports"


def is_hedged(sentence: str) -> bool:
    return bool(HEDGE.search(sentence))


class _Quoted(Protocol):
    text: str

    @property
    def key(self) -> tuple[str, int, int]: ...


def find_disagreements(
    quoted: Sequence[_Quoted], numbers: Mapping[tuple[str, int, int], int], sources: Mapping[str, Source]
) -> list[Disagreement]:
    """One Disagreement per pair of documents whose quoted sentences take opposite stances."""
    firsts: dict[tuple[str, Stance], _Quoted] = {}
    for item in quoted:
        stance = stance_of(item.text)
        if stance != "neutral":
            firsts.setdefault((item.key[0], stance), item)
    found: list[Disagreement] = []
    for (doc_a, stance_a), against in firsts.items():
        if stance_a != "against":
            continue
        for (doc_b, stance_b), support in firsts.items():
            if stance_b != "for" or doc_b == doc_a:
                continue
            found.append(_describe(against, support, numbers, sources))
    return found


def _describe(
    against: _Quoted, support: _Quoted, numbers: Mapping[tuple[str, int, int], int], sources: Mapping[str, Source]
) -> Disagreement:
    a_src, b_src = sources[against.key[0]], sources[support.key[0]]
    a_num, b_num = numbers[against.key], numbers[support.key]
    a_label, b_label = a_src.profile.label(), b_src.profile.label()
    hedge = " (with hedging)" if is_hedged(support.text) else ""
    note = (
        f"[{a_num}] ({a_label}) argues against or reports no evidence, while [{b_num}] ({b_label}) reports "
        f"a benefit{hedge}."
    )
    a_date, b_date = a_src.profile.date, b_src.profile.date
    dated = bool(a_date and b_date) and comparable(a_src.grade, b_src.grade)  # an unreviewed page is no newer evidence
    if dated and b_date < a_date:  # type: ignore[operator]
        note += f" The source reporting a benefit [{b_num}] is dated {b_date}, before [{a_num}] ({a_date})."
    elif dated and b_date > a_date:  # type: ignore[operator]
        note += f" The source reporting a benefit [{b_num}] is the more recent ({b_date}, against {a_date})."
    return Disagreement(
        claim="whether the evidence supports the treatment asked about",
        sides=((a_num, "against", a_label), (b_num, "for", b_label)),
        note=note,
    )
