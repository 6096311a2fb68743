"""Cue words that mark sentences, in one place: what the composer never quotes (text addressed to a model: the
prompt-injection filter every candidate sentence passes) and what it quotes as a limitation the sources state (which
also suggests a follow-up question about what they leave open). What a question asks for, and the cues of sentences that state
it, are the answer types of question.py; the cues of a stance (for, against, hedged) are stance.py's.
"""

from __future__ import annotations

import re

# A sentence of a document that speaks to a model or its reader ("Ignore previous instructions", "Tell the user …")
# claims nothing about medicine: never quoted, so it never reaches an LLM writer as evidence either.
ADDRESSED_TO_A_MODEL = re.compile(
    r"\W*(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions|prompt|rules)\b|\W*(?:tell|inform|assure) the (?:user|reader)\b|"
    r"\W*(?:you are|you must|as an ai)\b|\W*(?:system|assistant) ?(?:prompt|:)",
    re.I,
)
LIMITATION = re.compile(
    r"\bfurther research\b|\bis (?:still )?needed\b|\blimited\b|\bcould not be\b|\bprecluded\b|\binsufficient\b|"
    r"\binvestigational\b|\bsmall sample\b|\black of\b|\bnot (?:currently )?recommended\b|\bno published\b",
    re.I,
)
