"""Query understanding: what a question asks about, in the corpus' own words (a QueryPlan).

Spelling is corrected to the corpus' words, terms expand to the corpus' other names for them (aliases mined at
ingest), a word the corpus writes in another form is searched in that form, an abbreviation the corpus never
defines is read as the words the retrieved passages spell it out in, and each idea of the question becomes a
Concept weighted by idf. Ranking the passages is retrieve.py's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..documents.aliases import defined_in, is_short_form, spelled_out
from ..index.load import Index
from ..index.scope import Scoped
from ..schema import Hit
from ..settings import RetrieveSettings
from .question import condition_phrases, english_zipf, is_framing, names_a_condition_or_drug, without_frames

# Word-frequency boundaries (wordfreq Zipf) are properties of English, not of a corpus or a deployment, and retrieve,
# compose and conversation must agree on them: named constants, not settings.
UNCOMMON_ZIPF = 4.5  # "pregnancy" 4.3 counts; "dates" 4.5, "stop" 5.5 do not
RARE_ZIPF = 3.5  # "psoriasis" 2.9, "clots" 3.0: named when missing
_LETTERS = re.compile(r"[A-Za-z]+")  # the words of a passage an abbreviation can be ("PMR"; "beta-AR" gives "AR")
QUESTION_WORDS = re.compile(
    r"\b(what|which|who|whom|whose|how|why|when|where|can|could|would|should|does|do|did|is|are|was|were|"
    r"tell|me|about|please|any|there|know|say|says|said|help|helps|give|show|the|a|an|my|your|much|many)\b",
    re.IGNORECASE,
)



@dataclass(frozen=True, slots=True)
class Concept:
    """One idea of the question: the word as written and every way the corpus names it (as stem sets)."""

    label: str
    alternatives: tuple[frozenset[str], ...]
    idf: float
    known: bool
    zipf: float = 0.0  # how common the word is in general English (wordfreq's Zipf scale); 0 for corpus aliases
    # an unknown word close in meaning to a known concept of the same question ("breathing": "lung disease"), or within
    # one document to the document itself ("the document": `worded_by_the_document`)
    rewords: str = ""
    forms: tuple[str, ...] = ()  # how the corpus writes a word it lacks ("compliant": "compliance"; "HMO": "health …")
    # the word of the passages found nearest in meaning to a word no passage uses, when close ("pimples": "acne"):
    # shown beside the missing word so the reader can ask again with it (`nearest_words`)
    nearest: str = ""

    @property
    def specific(self) -> bool:
        """Rare in everyday English (psoriasis, zoster): its absence from the corpus matters."""
        return self.zipf < UNCOMMON_ZIPF

    def matches(self, stems: set[str]) -> bool:
        return any(alt <= stems for alt in self.alternatives)


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """The question as searched: alias expansions, the expanded text and its concepts."""

    question: str  # as searched: misspellings corrected
    expansions: tuple[tuple[str, tuple[str, ...]], ...]
    expanded: str
    rewritten: str
    concepts: tuple[Concept, ...]
    corrections: tuple[tuple[str, str], ...] = ()  # (as written, the corpus word searched instead)

    @property
    def entities(self) -> list[str]:
        """The named things of the question, most specific first, each in its most spelled-out corpus form."""
        idf = {c.label: c.idf for c in self.concepts}
        ranked = sorted(self.expansions, key=lambda e: -idf.get(e[0], 0.0))
        return [max([o for o in (term, *others) if not is_short_form(o)] or [term], key=len) for term, others in ranked]

    @property
    def variants(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(word as written, the corpus' forms of it searched) for each question word the corpus writes otherwise; words
        next to each other written in one form are one phrase ("international normalised ratio": "INR")."""
        out: list[tuple[str, tuple[str, ...]]] = []
        after = False  # the concept before had forms
        for c in self.concepts:
            if after and c.forms and out[-1][1] == c.forms:
                out[-1] = (f"{out[-1][0]} {c.label}", c.forms)
            elif c.forms:
                out.append((c.label, c.forms))
            after = bool(c.forms)
        return tuple(out)

    @property
    def searched_terms(self) -> list[str]:
        terms = [c.label for c in self.concepts]
        terms.extend(form for c in self.concepts for form in c.forms)
        for _, others in self.expansions:
            terms.extend(others)
        return list(dict.fromkeys(terms))


class Planner:
    """Reads a question against one index's vocabulary: spelling corrected to the corpus' words, the corpus' other
    names for its terms (aliases), other forms of words the corpus writes otherwise, abbreviations spelled out."""

    def __init__(self, index: Index, settings: RetrieveSettings, scope: Scoped | None = None) -> None:
        self.index = index
        self.settings = settings
        self.scope = scope  # a word is known when the scope's documents use it (None: any document)

    def within(self, scope: Scoped | None) -> Planner:
        """This planner reading questions against a scope's documents (itself for None): a word only other documents
        use is one the scope never mentions."""
        return self if scope is None else Planner(self.index, self.settings, scope)

    def plan(self, question: str, aliases: bool | None = None) -> QueryPlan:
        corrections = self.corrections(question)
        for written, corrected in corrections:
            question = re.sub(rf"(?<![\w-]){re.escape(written)}(?![\w-])", corrected, question)
        use_aliases = self.settings.aliases if aliases is None else aliases
        expansions = [(term, tuple(others)) for term, others in self.index.aliases.expansions(question)] if use_aliases else []
        expanded = question + "".join(f" ({' ; '.join(others)})" for _, others in expansions if others)
        rewritten = question
        for term, others in expansions:
            spelled = [o for o in others if not is_short_form(o)]
            if spelled:
                rewritten = re.sub(rf"(?<![\w-]){re.escape(term)}(?![\w-])", max(spelled, key=len), rewritten, count=1)
        concepts = tuple(self._concepts(question, expansions))
        return QueryPlan(question, tuple(expansions), expanded, rewritten, concepts, corrections)

    def corrections(self, question: str) -> tuple[tuple[str, str], ...]:
        """Words the corpus (or the scope's documents) lacks that are no English words either ("Rinvok",
        "dermatomyosits"), each with the nearest word in spelling they use, within one edit (two from `spelling_long_word`
        letters on for a word English does not know); never one condition or drug for another (`another_condition`)."""
        lexicon = self.index.lexicon
        keep = self._scoped_words
        out: dict[str, str] = {}
        for word in re.findall(r"[^\W\d_]{5,}", QUESTION_WORDS.sub(" ", question)):
            stems = frozenset(lexicon.stems(word))
            if word in out or (keep(stems) if keep else lexicon.stem_ids(stems)) or english_zipf(word) >= self.settings.spelling_zipf:
                continue
            # two edits only for a long word English does not know: "limtations" is a typo two edits from "limit", but
            # "tiredness" is a word (Zipf 2.9) whose stem "tired" is two edits from "time"
            edits = 2 if len(word) >= self.settings.spelling_long_word and english_zipf(word) == 0 else 1
            found = lexicon.closest_term(word, edits, keep)
            if found and not another_condition(word, found):
                out[word] = _cased_like(found, word)
        return tuple(out.items())

    def _concepts(self, question: str, expansions: list[tuple[str, tuple[str, ...]]]) -> list[Concept]:
        lexicon = self.index.lexicon
        concepts: list[Concept] = []
        covered: set[str] = set()
        for term, others in expansions:
            alternatives = tuple(frozenset(lexicon.stems(t)) for t in (term, *others) if lexicon.stems(t))
            stems = set(lexicon.stems(term))
            covered |= stems
            concepts.append(self._concept(term, alternatives))
        for phrase in condition_phrases(question):  # one missing topic, however common its words: "heart failure"
            stems = set(lexicon.stems(phrase))
            concept = self._concept(phrase, (frozenset(stems),))
            if stems - covered and not concept.known:  # one the corpus names is searched word by word, as any words
                covered |= stems
                concepts.append(replace(concept, zipf=0.0))
        for word in dict.fromkeys(re.findall(r"\w+", QUESTION_WORDS.sub(" ", without_frames(question)))):
            stems = frozenset(lexicon.stems(word)) - covered
            if stems and word not in {t for t, _ in expansions}:
                covered |= stems
                concepts.append(self._word_concept(word, stems))
        return concepts

    def _word_concept(self, word: str, stems: frozenset[str]) -> Concept:
        """A question word's concept; a word the corpus (or the scope's documents) lacks is searched in the forms they
        write it in (Lexicon.variants), if any."""
        concept = self._concept(word, (stems,))
        s = self.settings
        if concept.known or len(stems) > 1 or not s.variants_kept:
            return concept
        found = self.index.lexicon.variants(word, s.variant_min_stem, s.variant_suffix, s.variant_min_part, s.variants_kept, self._scoped_words)
        if not found:
            return concept
        return replace(self._concept(word, (stems, *(alt for _, alt in found))), forms=tuple(form for form, _ in found))

    def spelled_out(self, plan: QueryPlan, hits: list[Hit]) -> QueryPlan:
        """An abbreviation of the question the corpus lacks ("HMO") is read as the words the retrieved passages
        spell it out in ("health maintenance organization"), the run of words found most often, when it has at
        least `spelled_out_letters` letters (two-letter runs turn up by chance). Only passages that answer count: a
        run in a passage unrelated to the question (below `min_similarity`: "RIM trial" read as the "refractory
        inflammatory myositis" of a case series' title) is a chance match, and the abbreviation stays unknown."""
        concepts = list(plan.concepts)
        answering = [h for h in hits if h.similarity >= self.settings.min_similarity and h.chunk.kind != "apparatus"]
        for i, concept in enumerate(concepts):
            letters = sum(ch.isalpha() for ch in concept.label)
            if concept.known or not is_short_form(concept.label) or letters < self.settings.spelled_out_letters:
                continue
            runs = Counter(run.lower() for hit in answering for run in spelled_out(concept.label, hit.chunk.text))
            if runs:
                long = max(runs, key=lambda run: (runs[run], -len(run)))
                alternatives = (*concept.alternatives, frozenset(self.index.lexicon.stems(long)))
                concepts[i] = replace(self._concept(concept.label, alternatives), forms=(long,))
        concepts = self._abbreviated(concepts, plan.question, answering)
        return plan if concepts == list(plan.concepts) else replace(plan, concepts=tuple(concepts))

    def _abbreviated(self, concepts: list[Concept], question: str, answering: list[Hit]) -> list[Concept]:
        """The other way round: words of the question that the answering passages write as an abbreviation
        ("polymyalgia rheumatica" where an abstract only writes "PMR", "transient tachypnea of the newborn": "TTN")
        also match it, and are known by it; a word the corpus lacks is shown searched in that form. Abbreviations of
        `spelled_out_letters` letters or more, as above, that the corpus does not define: "CDM", defined as "classic
        dermatomyositis", is no "clots in dermatomyositis"; and any the question defines itself, that the corpus (or
        the scope) uses: "Is the international normalised ratio (INR) reliable?" of an abstract that only writes "INR";
        not one that is an everyday word too (Zipf `RARE_ZIPF` or more: "WHO" is read as "who")."""
        aliases = self.index.aliases
        shorts = {
            word for hit in answering for word in _LETTERS.findall(hit.chunk.text)
            if is_short_form(word) and len(word) >= self.settings.spelled_out_letters
            and not any(others for _, others in aliases.expansions(word))  # one the corpus defines means what it says
        }
        runs = [  # the question spells out its own: "international normalised ratio (INR)"; not "WHO"
            (short, long) for short, long in defined_in(question)
            if english_zipf(short) < RARE_ZIPF and self._mentioned(frozenset(self.index.lexicon.stems(short)))
        ]
        runs += [(short, run) for short in sorted(shorts) for run in spelled_out(short, question, inner=True)]
        written: dict[str, str] = {}
        for short, run in runs:
            for word in re.findall(r"\w+", run):
                written.setdefault(word, short)
        out = []
        for concept in concepts:
            short = written.get(concept.label)
            stems = frozenset(self.index.lexicon.stems(short)) if short else frozenset()
            if not stems or stems in concept.alternatives:
                out.append(concept)
                continue
            forms = concept.forms if concept.known else (*concept.forms, short)
            out.append(replace(self._concept(concept.label, (*concept.alternatives, stems)), forms=forms))
        return out

    def _concept(self, label: str, alternatives: tuple[frozenset[str], ...]) -> Concept:
        """A concept weighted by idf; a number (an age, a dose) identifies its passage, so it weighs double. It is known
        when a chunk or a title uses it: a document's title is part of what it mentions."""
        lexicon = self.index.lexicon
        idfs = [lexicon.idf(i) for alt in alternatives for i in lexicon.stem_ids(alt)]
        known = any(self._mentioned(alt) for alt in alternatives)
        idf = max(idfs, default=lexicon.unseen_idf) * (self.settings.number_weight if label.isdigit() else 1.0)
        zipf = 0.0 if known or len(alternatives) > 1 else english_zipf(label)
        return Concept(label, alternatives, idf, known, zipf)


    @property
    def _scoped_words(self) -> Callable[[frozenset[str]], bool] | None:
        """Within a scope, which corpus forms a misspelling or another spelling may be read as: those the scope's
        documents use (`_mentioned`); over the whole index, None (every corpus form)."""
        return self._mentioned if self.scope is not None else None

    def _mentioned(self, alt: frozenset[str]) -> bool:
        """Every stem of `alt` is used by a chunk (of the scope, if any), or all of them by a title."""
        ids = self.index.lexicon.stem_ids(alt)
        if self.scope is None:
            return len(ids) == len(alt) or bool(alt and alt <= self.index.title_vocabulary)
        mask = self.scope.within.mask
        used = len(ids) == len(alt) and all(mask[self.index.lexicon.rows_with(i)].any() for i in ids)
        return used or bool(alt and alt <= self.scope.title_vocabulary)


def rewording_candidates(concepts: tuple[Concept, ...]) -> tuple[list[Concept], list[Concept]]:
    """Specific words the corpus lacks, and the specific concepts of the question it has ("blood" of "blood clots" is
    no topic: too common)."""
    unknown = [c for c in concepts if not c.known and c.specific]
    known = [c for c in concepts if c.known and english_zipf(c.label) < UNCOMMON_ZIPF]
    return unknown, known


def rewordings(
    concepts: tuple[Concept, ...], unknown: list[Concept], known: list[Concept], vectors: np.ndarray, threshold: float
) -> list[Concept]:
    """Mark each word the corpus lacks that rewords a specific concept of the question it has: "breathing" next to
    "lung disease" is a facet, not a missing topic. `vectors`: those of `unknown + known`; a cosine of `threshold`
    or more rewords (RetrieveSettings.rewording_similarity)."""
    similarity = vectors[: len(unknown)] @ vectors[len(unknown) :].T
    closest = {c.label: (known[int(row.argmax())].label, float(row.max())) for c, row in zip(unknown, similarity, strict=True)}
    return [replace(c, rewords=closest[c.label][0]) if closest.get(c.label, ("", 0.0))[1] >= threshold else c for c in concepts]


# Words no question about a medical paper is about, of the kinds a question names (conditions, a drug): put in the
# place of a question word a document never writes, they are what that word must beat to count as the document's
# meaning in other words (`worded_by_the_document`).
CONTRAST_WORDS = ("glaucoma", "tinnitus", "scabies", "warfarin", "appendicitis", "dyslexia", "melanoma", "gout")


def contrast_questions(question: str, concepts: Sequence[Concept]) -> list[tuple[Concept, list[str]]]:
    """The question's specific words no passage uses that name no condition or drug ("octogenarians", "ototoxic"; a
    condition the document never names is never its meaning in other words: "psoriasis" of a dermatomyositis series is
    close to it and still another disease), each with the question rewritten with every CONTRAST_WORDS in its place."""
    out = []
    for concept in concepts:
        if concept.known or concept.rewords or not concept.specific or is_framing(concept.label) or names_a_condition_or_drug(concept.label):
            continue
        word = re.compile(rf"\b{re.escape(concept.label)}\b")
        if word.search(question):
            out.append((concept, [word.sub(other, question, count=1) for other in CONTRAST_WORDS]))
    return out


def worded_by_the_document(
    concepts: tuple[Concept, ...], asked: list[Concept], closeness: float, contrasts: np.ndarray, margin: float
) -> tuple[Concept, ...]:
    """Mark each of the `asked` words (`contrast_questions`) as the document's meaning in other words when the question
    comes `margin` closer to the document (`closeness`: its best sentence's cosine) than it does with any contrast word in
    the word's place (`contrasts`: a row per asked word, the best sentence's cosine for each contrast question). Within
    one paper, "Cardiac reoperations in octogenarians" is about "patients aged ≥80 years"."""
    worded = {c.label for c, row in zip(asked, contrasts, strict=True) if closeness - float(row.max()) >= margin}
    return tuple(replace(c, rewords="the document") if c.label in worded else c for c in concepts)


def unnamed_candidates(concepts: Sequence[Concept]) -> list[Concept]:
    """The question's specific words no passage uses, in no other form, reworded by no other word of the question and
    not framing it: those an answer may name as never mentioned."""
    return [c for c in concepts if not c.known and not c.rewords and not c.forms and c.specific and not is_framing(c.label)]


_PASSAGE_WORD = re.compile(r"[A-Za-z][a-z]+(?:-[a-z]+)*")


def specific_words(texts: Sequence[str], named: Callable[[str], bool]) -> list[str]:
    """The words of `texts` uncommon in English (Zipf below UNCOMMON_ZIPF), lower-cased, once each in order of first
    use, but for those the question already names (`named`): what a passage may call a missing word instead."""
    words = dict.fromkeys(w.lower() for text in texts for w in _PASSAGE_WORD.findall(text))
    return [w for w in words if len(w) > 3 and english_zipf(w) < UNCOMMON_ZIPF and not named(w)]


def nearest_words(
    concepts: tuple[Concept, ...], asked: list[Concept], asked_vectors: np.ndarray, words: list[str], word_vectors: np.ndarray,
    threshold: float,
) -> tuple[Concept, ...]:
    """Mark each of the `asked` words (`unnamed_candidates`) with the one of `words` nearest to it in meaning when their
    cosine is `threshold` or more (RetrieveSettings.nearest_word_similarity): "pimples" → "acne"."""
    if not words:
        return concepts
    similarity = asked_vectors @ word_vectors.T
    nearest = {c.label: words[int(row.argmax())] for c, row in zip(asked, similarity, strict=True) if row.max() >= threshold}
    return tuple(replace(c, nearest=nearest[c.label]) if c.label in nearest else c for c in concepts)


MAX_ZIPF = 8.0  # the top of wordfreq's Zipf scale ("the" is 7.7): a word it has never seen carries all of it


def information(concept: Concept) -> float:
    """How much a question word says by its rarity in English (MAX_ZIPF - Zipf; a corpus alias counts as unseen)."""
    return max(MAX_ZIPF - concept.zipf, 0.0)


def missing_share(concepts: Sequence[Concept], *, one_document: bool = False) -> tuple[list[Concept], float]:
    """The question's topic words the corpus never uses (not framing words such as "acronym", not everyday words such
    as "during", not words that reword a topic the corpus has: "breathing" beside "lung disease"), and the share of
    the question's weight they carry: by idf, or over one document, where idf cannot tell a rare word from a common
    one (every word it has occurs in all of it), by rarity in English (`information`)."""
    weighed = [c for c in concepts if (c.known or c.specific) and not is_framing(c.label)]
    missing = [c for c in weighed if not c.known and not c.rewords]
    if not missing:
        return [], 0.0
    weight = information if one_document else (lambda c: c.idf)
    return missing, sum(map(weight, missing)) / (sum(map(weight, weighed)) or 1.0)


def another_condition(word: str, found: str) -> bool:
    """A condition or drug English knows (wordfreq has it, however rare) is no misspelling of the corpus word one edit
    away: "arteritis" (Zipf 1.8) is another disease than "arthritis", "myositis" than "myosis"; but for British and
    American spelling ("anaemia": "anemia", "oedema": "edema"), where the two are one word. A misspelling is no word
    ("dermatomyosits", "Rinvok": Zipf 0)."""
    if english_zipf(word) == 0 or not names_a_condition_or_drug(word):
        return False
    return _american(word.lower()) != _american(found.lower())


def _american(word: str) -> str:
    """A word in American spelling of its vowels ("haemorrhage": "hemorrhage", "oesophagitis": "esophagitis")."""
    return word.replace("ae", "e").replace("oe", "e")


def _cased_like(found: str, written: str) -> str:
    """The corpus word in the writer's case pattern: "rinvoq" for "Rinvok" reads "Rinvoq"."""
    if written.isupper():
        return found.upper()
    return found[:1].upper() + found[1:] if written[:1].isupper() else found
