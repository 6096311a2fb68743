"""Evidence profiles: what kind of evidence a document is, from its front matter or, failing that, its text.

Every field read from the text (not the front matter) is listed in `EvidenceProfile.extracted`, so a reader
knows it was inferred by these rules rather than declared.
"""

from __future__ import annotations

import re
from datetime import datetime

from ..schema import Document, EvidenceProfile

# (pattern on title + first part of the text, document type), first match wins
_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"\bsystematic (?:literature )?review\b|\bmeta-analys[ie]s\b", "systematic review"),
    (r"\brandomi[sz]ed(?:,)? (?:double-blind,? )?(?:placebo-)?controlled trial\b|\bRCT\b", "randomised controlled trial"),
    (r"\bguidelines?\b.*\brecommendations?\b|\bclinical practice guideline\b|\bconsensus statement\b", "guideline"),
    (r"\bcase series\b", "case series"),
    (r"\bcase report\b", "case report"),
    (r"\bcohort study\b|\bcohort of\b", "cohort study"),
    (r"\bcross-sectional\b", "cross-sectional study"),
    (r"\bnarrative review\b|\breview article\b", "review"),
    (r"\bAI-generated\b|\bMedical A\.I\.|\bartificial intelligence\b.*\banswer\b", "AI-generated answer"),
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE_RULES: tuple[tuple[str, str], ...] = (
    (rf"\bPublished(?: online)?:?\s+(\d{{1,2}} (?:{_MONTHS}) \d{{4}})", "published"),
    (rf"\bAccepted:?\s+(\d{{1,2}} (?:{_MONTHS}) \d{{4}})", "accepted"),
    (rf"\bLast updated:?\s+((?:{_MONTHS}) \d{{1,2}}, \d{{4}})", "last updated"),
)
_SAMPLE = re.compile(r"\b(?:case series of|cohort study of|total of|in total,?|enrolled|included)\s+(\d{1,6})\s+(?:patients|participants|subjects|adults|children)\b|\b(\d{1,6}) (?:total )?patients were (?:identified|included|enrolled)\b", re.IGNORECASE)
_PEER = re.compile(r"\b(?:externally )?peer[- ]reviewed\b|\bReceived\s+\d{1,2} \w+ \d{4}.{0,40}Accepted\b", re.IGNORECASE | re.DOTALL)
_NOT_PEER = re.compile(r"\bpending (?:human )?review\b|\bnot (?:been )?peer[- ]reviewed\b|\bpreprint\b", re.IGNORECASE)


def profile_for(document: Document) -> EvidenceProfile:
    """Front matter first; each missing field inferred from the text and marked as extracted."""
    meta = document.meta
    head = document.title + "\n" + document.text[:6000]
    extracted: list[str] = []

    def pick(key: str, infer: object) -> object:
        if meta.get(key) not in (None, ""):
            return meta[key]
        if infer not in (None, ""):
            extracted.append(key)
        return infer

    doc_type = pick("doc_type", _infer_type(head)) or "document"
    peer = pick("peer_reviewed", _infer_peer(document.text))
    date, date_kind = _infer_date(document.text)
    date = pick("date", date)
    date_kind = meta.get("date_kind") or (date_kind if date else None)
    sample = pick("sample_size", _infer_sample(head))
    return EvidenceProfile(
        doc_type=str(doc_type),
        peer_reviewed=peer if isinstance(peer, bool) else None,
        date=str(date) if date else None,
        date_kind=str(date_kind) if date_kind else None,
        sample_size=int(sample) if isinstance(sample, (int, str)) and str(sample).isdigit() else None,
        study_design=str(meta.get("study_design") or "") or None,
        subject=str(meta.get("subject") or "") or None,
        publisher=str(meta.get("publisher") or "") or None,
        extracted=tuple(extracted),
    )


def _infer_type(head: str) -> str | None:
    return next((label for pattern, label in _TYPE_RULES if re.search(pattern, head, re.IGNORECASE)), None)


def _infer_peer(text: str) -> bool | None:
    if _NOT_PEER.search(text):
        return False
    return True if _PEER.search(text) else None


def _infer_date(text: str) -> tuple[str | None, str | None]:
    for pattern, kind in _DATE_RULES:
        match = re.search(pattern, text)
        if match:
            raw = match.group(1)
            for fmt in ("%d %B %Y", "%B %d, %Y"):
                try:
                    return datetime.strptime(raw, fmt).date().isoformat(), kind
                except ValueError:
                    continue
    return None, None


def _infer_sample(head: str) -> int | None:
    match = _SAMPLE.search(head)
    if not match:
        return None
    return int(match.group(1) or match.group(2))
