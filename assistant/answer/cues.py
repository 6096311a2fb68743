"""Cue words that mark sentences, in one place: what the composer never quotes (text addressed to a model: the
prompt-injection filter every candidate sentence passes), what it quotes as a limitation the sources state, and
which unused evidence suggests a follow-up question. What a question asks for, and the cues of sentences that state
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

# (cue in an unused sentence, question template); {main} is the conversation's entity, {other} another one
FOLLOW_UP_CUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bside effects?\b|\badverse\b|\beruption\b|\bacne\b|\btolerat", re.I), "What adverse effects of {main} were reported?"),
    (re.compile(r"\bdiscontinu|\bstopped\b|\bable to stop\b", re.I), "Could patients stop {other} after starting {main}?"),
    (re.compile(r"\bprior\b|\bprevious(?:ly)?\b|\bafter failing\b|\bswitching\b", re.I), "How did patients previously treated with {other} respond to {main}?"),
    (re.compile(r"\d\s*(?:mg|g)(?:/\w+)?\b", re.I), "What doses of {other} are described?"),
    (re.compile(r"\bp\s*(?:value)?\s*[=<]|\bstatistically significant\b", re.I), "What statistical results were reported for {main}?"),
    (re.compile(r"\binterstitial lung disease\b|\bILD\b"), "What happened to interstitial lung disease on {main}?"),
    (LIMITATION, "What are the limitations of the evidence on {main}?"),
)
