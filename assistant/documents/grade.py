"""Evidence grades: where a document stands in the evidence hierarchy, from its profile.

Study design first, as in the Oxford CEBM levels and GRADE's starting certainty (randomised trials start high,
observational studies low), with syntheses on top and the sources that were never reviewed at the bottom:

    1 systematic review, meta-analysis      syntheses of the studies below
    2 guideline                              its own kind: recommendations issued on the evidence (Trip's pyramid
                                             puts guidelines with syntheses, above single studies)
    3 randomised trial
    4 cohort, case-control, cross-sectional, observational study
    5 case series, case report
    6 narrative review, expert opinion, patient information
    7 document of unknown type
    8 preprint (research not yet peer-reviewed: a design above, declared not peer-reviewed)
    9 unreviewed page, AI-generated answer

Within a level, larger samples and then newer dates rank first. Peer review is a modifier: research declared not
peer-reviewed drops to level 8, any other page declared not reviewed to 9. Front matter that contradicts itself
(`peer_reviewed: true` on an AI-generated answer) keeps the weaker reading and says so in `conflicts`.
"""

from __future__ import annotations

import re

from ..schema import Document, EvidenceGrade, EvidenceProfile, Source
from .profile import profile_for

# (kind, level, pattern on the declared type and design), first match wins: what a page IS (AI answer, preprint,
# blog) before the design words it may mention ("an AI-generated answer about randomised trials").
_KINDS: tuple[tuple[str, int, str], ...] = (
    ("unreviewed AI-generated answer", 9, r"\bAI[- ]generated\b|\bartificial intelligence\b|\bchatbot\b|\blanguage model\b|\bMedical A\.?I\b"),
    ("preprint", 8, r"\bpreprint\b"),
    ("unreviewed page", 9, r"\bblog\b|\bforum\b|\bweb ?page\b|\bwebsite\b|\bpress release\b|\bnews\b|\bsocial media\b|\bunreviewed\b|\bQ&A\b"),
    ("meta-analysis", 1, r"\bmeta-analys[ie]s\b"),
    ("systematic review", 1, r"\bsystematic (?:literature )?review\b|\bumbrella review\b"),
    ("guideline", 2, r"\bguidelines?\b|\bconsensus statement\b|\bposition statement\b|\brecommendations\b"),
    ("randomised trial", 3, r"(?<!non-)(?<!non)\brandomi[sz]ed\b|\bRCT\b|\brandomised trial\b"),
    ("cohort study", 4, r"\bcohort\b|\bregistry\b|\blongitudinal\b|\bprospective study\b"),
    ("case-control study", 4, r"\bcase[- ]control\b"),
    ("cross-sectional study", 4, r"\bcross[- ]sectional\b|\bsurvey\b"),
    ("observational study", 4, r"\bobservational\b|\bnon-?randomi[sz]ed\b|\bretrospective (?:study|analysis|review)\b"),
    ("case series", 5, r"\bcase series\b"),
    ("case report", 5, r"\bcase report\b|\bcase study\b"),
    ("narrative review", 6, r"\breview\b"),
    ("expert opinion", 6, r"\bexpert opinion\b|\beditorial\b|\bcommentary\b|\bopinion\b|\bperspective\b|\bletter\b"),
    ("patient information", 6, r"\bpatient information\b|\bfact sheet\b|\bconsumer\b|\bhealth topic\b|\bencyclop"),
)
OPINION_LEVEL, UNKNOWN_LEVEL = 6, 7  # narrative review, expert opinion, patient information; unknown type
UNKNOWN_KIND = "document of unknown type"
KIND_NAMES = (*dict.fromkeys(kind for kind, _, _ in _KINDS), UNKNOWN_KIND)  # what a scope's `type=` may name
RESEARCH_LEVELS = (1, 3, 4, 5)  # designs a "not peer-reviewed" declaration turns into a preprint (a guideline is not one)
PREPRINT_LEVEL, UNREVIEWED_LEVEL = 8, 9


def kind_of(description: str) -> tuple[str, int] | None:
    """The kind and level a declared type or design names ("peer-reviewed retrospective case series" → case
    series, 5), or None when it names none."""
    return next(((kind, level) for kind, level, pattern in _KINDS if re.search(pattern, description, re.IGNORECASE)), None)


def design_of(profile: EvidenceProfile) -> tuple[str, int] | None:
    """The kind and level its declared (or extracted) type and design name, before peer review modifies them."""
    return kind_of(f"{profile.doc_type} {profile.study_design or ''}")


def grade_of(profile: EvidenceProfile) -> EvidenceGrade:
    """The profile's grade: its declared (or extracted) type and design, with peer review, size and date as modifiers."""
    found = design_of(profile)
    kind, level = found or (UNKNOWN_KIND, UNKNOWN_LEVEL)
    conflicts: list[str] = []
    peer = profile.peer_reviewed
    if level >= PREPRINT_LEVEL and peer is True:
        conflicts.append(f"declared peer-reviewed, but it is an {kind}: graded as not reviewed")
        peer = False
    if peer is False and level in RESEARCH_LEVELS:
        kind, level = f"{kind}, not peer-reviewed", PREPRINT_LEVEL
    elif peer is False and level in (OPINION_LEVEL, UNKNOWN_LEVEL):
        kind, level = f"unreviewed {kind}", UNREVIEWED_LEVEL
    if peer is True and level < UNKNOWN_LEVEL:
        kind = f"peer-reviewed {kind}"
    year = int(profile.date[:4]) if profile.date and profile.date[:4].isdigit() else None
    extracted = "doc_type" in profile.extracted or found is None
    return EvidenceGrade(level, kind, level <= UNKNOWN_LEVEL, profile.sample_size, year, extracted, tuple(conflicts))


def comparable(a: EvidenceGrade, b: EvidenceGrade) -> bool:
    """Whether two sources' dates may be weighed against each other: both research, guidance or documents of
    unknown type, or both preprints and unreviewed pages. A page that was never reviewed is not "newer evidence"
    than a study, whatever its date."""
    return a.reviewed == b.reviewed


def source_of(document: Document) -> Source:
    """The document as a source: its evidence profile (front matter, else its text) and grade, and its link."""
    meta = document.meta
    url = meta.get("url") or (f"https://doi.org/{meta['doi']}" if meta.get("doi") else None)
    profile = profile_for(document)
    return Source(document.doc_id, document.title, profile, str(url) if url else None, grade_of(profile))
