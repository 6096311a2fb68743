"""The weighing cases of the gold suite (eval/weighing.yaml): small corpora, each indexed on its own, whose answers
must lead with the strongest evidence, quote findings rather than apparatus, and name refuted claims of absence."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from pydantic import Field, field_validator

from assistant import Answer, Assistant

from .answers import bottom_line
from .gold import Strict, compiles, load_yaml
from .metrics import is_absent
from .records import CaseResult

WEIGHING_PATH = Path(__file__).resolve().parents[1] / "weighing.yaml"


class WeighingTurn(Strict):
    """One question and what its answer must show (see eval/weighing.yaml)."""

    question: str
    opens_with: str | None = None
    first_quote: list[str] = Field(default_factory=list)
    bottom_line: list[str] = Field(default_factory=list)
    never: list[str] = Field(default_factory=list)
    never_in_answer: list[str] = Field(default_factory=list)
    contradicted: list[str] = Field(default_factory=list)
    disagreement: bool | None = None
    abstain: bool = False

    _check_patterns = field_validator("first_quote", "bottom_line", "never", "never_in_answer")(compiles)


class WeighingCase(Strict):
    id: str
    documents: dict[str, str] = Field(description="file name → text (empty: the seed corpus)")
    turns: list[WeighingTurn] = Field(min_length=1, max_length=3)


class WeighingSet(Strict):
    cases: list[WeighingCase] = Field(min_length=1)


def load_weighing(path: Path = WEIGHING_PATH) -> WeighingSet:
    """Read and validate the weighing cases; a broken file raises ConfigError naming the problem."""
    return load_yaml(WeighingSet, path, "weighing cases")


def problems(turn: WeighingTurn, answer: Answer) -> list[str]:
    """What the answer gets wrong against the turn's expectations (empty: it passes)."""
    quotes = [c.quote for c in bottom_line(answer)]
    first = bottom_line(answer)[:1]
    found: list[str] = []
    if turn.abstain != is_absent(answer):
        found.append("says not covered" if is_absent(answer) else "answers instead of saying it is not covered")
    if turn.opens_with and (not first or first[0].doc_id != turn.opens_with):
        found.append(f"opens with {first[0].doc_id if first else 'nothing'}, not {turn.opens_with}")
    found += [f"first quote lacks /{p}/" for p in turn.first_quote if not (first and _search(p, first[0].quote))]
    found += [f"bottom line lacks /{p}/" for p in turn.bottom_line if not any(_search(p, q) for q in quotes)]
    found += [f"bottom line quotes /{p}/" for p in turn.never if any(_search(p, q) for q in quotes)]
    found += [f"answer says /{p}/" for p in turn.never_in_answer if _search(p, answer.text)]
    flagged = {c.doc_id for c in answer.synthesis.contradicted} if answer.synthesis else set()
    found += [f"{d}'s claim of missing evidence is not named as contradicted" for d in turn.contradicted if d not in flagged]
    if turn.disagreement is not None and bool(answer.disagreements) != turn.disagreement:
        found.append("flags no disagreement" if turn.disagreement else "flags a disagreement")
    return found


def _search(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE | re.MULTILINE) is not None


def run_weighing(seed: Assistant, cases: WeighingSet) -> list[CaseResult]:
    """Ask every case's turns in one conversation over its own index (or the seed corpus), scoring each turn."""
    results = []
    with tempfile.TemporaryDirectory(prefix="weighing-") as tmp:
        for case in cases.cases:
            assistant = seed if not case.documents else _build(case, Path(tmp), seed)
            chat = assistant.conversation()
            for n, turn in enumerate(case.turns, start=1):
                answer = chat.ask(turn.question, suggest=False)
                found = problems(turn, answer)
                excerpt = re.sub(r"\s*\n\s*", " / ", answer.text.strip())[:360]
                results.append(CaseResult("weighing", f"{case.id}/t{n}", turn.question, not found, "; ".join(found), excerpt))
            if assistant is not seed:
                assistant.close()  # its audit log lives in the folder about to be deleted
    return results


def _build(case: WeighingCase, tmp: Path, seed: Assistant) -> Assistant:
    corpus = tmp / case.id / "corpus"
    corpus.mkdir(parents=True)
    for name, text in case.documents.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Assistant.build(corpus, corpus.parent / "index", seed.settings, embedder=seed.embedder)
