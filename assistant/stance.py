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

from .schema import Disagreement, Source

Stance = Literal["for", "against", "neutral"]

AGAINST = re.compile(
    r"\bnot (?:currently |yet )?(?:recommended|approved|supported|effective)\b|\binsufficient evidence\b|"
    r"\bno (?:published |good |strong |clinical )*(?:evidence|clinical trials|trials|data|studies)\b|\black of (?:evidence|efficacy)\b|"
    r"\bdo(?:es)? not (?:mention|support|improve|help)\b|\bdid not (?:improve|help|reduce)\b|\bno (?:significant )?(?:benefit|improvement|effect)\b|"
    r"\bineffective\b|\bremains investigational\b|\bnot (?:an )?established\b",
    re.I,
)
FOR = re.compile(
    r"\b(?:appears? to be |was |is |were |are )?effective\b|\bsignificant(?:ly)? improve|\bstatistically significant\b|"
    r"\bimproved\b|\bimproves\b|\bbenefit(?:s|ed)?\b|\bwell tolerated\b|\bremission\b|\bable to discontinue\b|\brecommended\b",
    re.I,
)
HEDGE = re.compile(r"\bmay\b|\bmight\b|\bappears?\b|\bsuggest|\bpossibl|\btheoretical\b|\bpromise\b", re.I)


def stance_of(sentence: str) -> Stance:
    """'against' wins over 'for' in the same sentence: "not recommended … insufficient evidence" is against."""
    if AGAINST.search(sentence):
        return "against"
    if FOR.search(sentence):
        return "for"
    return "neutral"


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
    if a_date and b_date and b_date < a_date:
        note += f" The source reporting a benefit [{b_num}] is dated {b_date}, before [{a_num}] ({a_date})."
    elif a_date and b_date and b_date > a_date:
        note += f" The source reporting a benefit [{b_num}] is the more recent ({b_date}, against {a_date})."
    return Disagreement(
        claim="whether the evidence supports the treatment asked about",
        sides=((a_num, "against", a_label), (b_num, "for", b_label)),
        note=note,
    )
