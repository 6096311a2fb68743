"""Build the condition lexicon (assistant/answer/models/conditions/) from MedQuAD's question topics.

    python -m eval.training.build_conditions --data ../shared/data     # → words.txt, CARD.md

MedQuAD (CC BY 4.0, Ben Abacha and Demner-Fushman 2019) asks about 5,126 topics drawn from NIH sites, nearly all of
them diseases and disorders ("Psoriasis", "Crohn's Disease", "Blood Clots", "Polymyalgia Rheumatica"). The lexicon is
the word that heads each topic's name, and its possessive eponym, when rare in English (wordfreq Zipf below
understand.RARE_ZIPF, the rarity at which a missing word is named): "psoriasis", "crohn", "clots", "rheumatica"; never
"disease", "blood", nor the organ or adjective of "Eyelid Disorders" or "Rectal Cancer". A topic named by one word that
is uncommon in English (Zipf below understand.UNCOMMON_ZIPF) joins it when MedQuAD asks for its symptoms or treatment,
which it asks only of conditions: "pneumonia", "asthma", "diabetes"; MedlinePlus' other one-word topics ("Ultrasound",
"Potassium", "Hurricanes") are asked about in general only. Conditions named in two or three words each at least that
common ("heart failure", "back pain", "kidney disease": no one word of them is a topic) are written to phrases.txt; the
question reader makes each one concept (understand.Planner). Composing reads it to tell a
condition the question names from any other rare word (answer/question.py, `names_a_condition_or_drug`).
Deterministic: sorted, lower-cased, one word a line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from assistant.answer.question import CONDITION_PHRASES, CONDITIONS
from assistant.answer.understand import RARE_ZIPF, UNCOMMON_ZIPF, english_zipf

_WORD = re.compile(r"[A-Za-z]{4,}")
_EPONYM = re.compile(r"([A-Za-z]{4,})'s\b")  # "Crohn's Disease", "Alzheimer's Disease"
CONDITION_QUESTIONS = frozenset({"symptoms", "treatment"})  # MedQuAD question types asked only of conditions


def condition_words(topics: list[str]) -> list[str]:
    """The rare words that head the topics' names (before any colon, parenthesis or comma): the last word ("pustular
    psoriasis", "blood clots"; "Eyelid Disorders" and "Rectal Cancer" end in common words, so they give none: an organ
    or an adjective is no condition), and possessive eponyms ("Crohn's Disease"). Lower-cased and sorted."""
    words = set()
    for topic in topics:
        name = re.split(r"[:(,]", topic, maxsplit=1)[0]  # "Hypomagnesemia 2, renal": a qualifier after a comma
        found = _WORD.findall(name)
        words.update(w.lower() for w in [*found[-1:], *_EPONYM.findall(name)])
    return sorted(w for w in words if english_zipf(w) < RARE_ZIPF)


def common_conditions(asked: dict[str, set[str]]) -> list[str]:
    """The topics named by one uncommon word (Zipf from RARE_ZIPF to below UNCOMMON_ZIPF) that MedQuAD asks the
    symptoms or treatment of (`asked`: each topic's question types): conditions too common in English for
    `condition_words`. Lower-cased, sorted, each once."""
    return sorted({
        t.lower() for t, types in asked.items()
        if re.fullmatch(r"[A-Za-z]{4,}", t) and RARE_ZIPF <= english_zipf(t) < UNCOMMON_ZIPF and types & CONDITION_QUESTIONS
    })


def common_phrases(asked: dict[str, set[str]]) -> list[str]:
    """The topics named in two or three words of three letters or more, none rare in English (Zipf RARE_ZIPF or more),
    that MedQuAD asks the symptoms or treatment of: "heart failure", "back pain" ("c syndrome" has a one-letter word;
    "Alagille syndrome" a rare one, which names it alone). Lower-cased, sorted, each once."""
    return sorted({
        t.lower() for t, types in asked.items()
        if re.fullmatch(r"[A-Za-z]{3,}(?: [A-Za-z]{3,}){1,2}", t) and types & CONDITION_QUESTIONS
        and all(english_zipf(w) >= RARE_ZIPF for w in t.split())
    })


def main(
    data: Annotated[Path, typer.Option(help="Folder holding medquad/medquad.jsonl.")],
    out: Annotated[Path, typer.Option(help="The lexicon file to write.")] = CONDITIONS,
) -> None:
    """Read MedQuAD's topics, write the lexicon and its card."""
    rows = [json.loads(line) for line in (data / "medquad" / "medquad.jsonl").read_text(encoding="utf-8").splitlines() if line]
    asked: dict[str, set[str]] = {}
    for row in rows:
        asked.setdefault(row["focus"], set()).add(row["qtype"])
    topics = sorted(asked)
    words = sorted({*condition_words(topics), *common_conditions(asked)})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(words) + "\n", encoding="utf-8")
    phrases = common_phrases(asked)
    out.with_name(CONDITION_PHRASES.name).write_text("\n".join(phrases) + "\n", encoding="utf-8")
    (out.parent / "CARD.md").write_text(
        "# Condition lexicon\n\n"
        f"{len(words)} words: the word heading each name (its last word, before any colon, parenthesis or comma) and its possessive "
        f"eponym, when rare in English (wordfreq Zipf < {RARE_ZIPF}), of the {len(topics)} topics MedQuAD's {len(rows)} "
        f"answered questions ask about; and the topics named by one word of Zipf {RARE_ZIPF} to {UNCOMMON_ZIPF} that MedQuAD "
        "asks the symptoms or treatment of (conditions: pneumonia, asthma, diabetes).\n\n"
        f"phrases.txt, {len(phrases)} phrases: the topics named in two or three words of three letters or more, none rare "
        "in English, that MedQuAD asks the symptoms or treatment of (heart failure, back pain, kidney disease).\n\n"
        "Source: MedQuAD (Ben Abacha and Demner-Fushman, A Question-Entailment Approach to Question Answering, BMC "
        "Bioinformatics 2019), questions from NIH sites (GARD, GHR, NIDDK, NINDS, MedlinePlus, SeniorHealth, CancerGov, "
        "NHLBI, CDC). Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); this list is derived from the "
        "topic names only.\n\n"
        "Use: a question asking for a verdict on a condition no source names gets none (assistant/answer/compose.py); "
        "a phrase is one concept of the question, which no source may name (assistant/answer/understand.py). "
        "Rebuilt by `python -m eval.training.build_conditions --data ../shared/data`.\n",
        encoding="utf-8",
    )
    typer.echo(f"{len(words)} words and {len(phrases)} phrases from {len(topics)} topics → {out.parent}")


if __name__ == "__main__":
    typer.run(main)
