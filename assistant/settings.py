"""One typed Settings object, created at the edge and passed down explicitly.

Where values come from, first wins: what the caller passes (command-line flags), environment variables
(ASSISTANT_<FIELD>, sections nested with '__': ASSISTANT_STORE__QDRANT_URL), a TOML file (`--config FILE`, else
config.toml in the user's config folder, if present), then the defaults below. `load_settings` applies all four;
`Settings(...)` alone reads no file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "medevidence-assistant"
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("config_file", default=None)


def in_checkout() -> bool:
    """Run from a source checkout (the project's pyproject.toml beside the package), not from an installed wheel."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "assistant").is_dir()


def _data_dir(name: str) -> Path:
    """A checkout keeps corpus/ and .index/ beside the code (`make serve`); an installed package uses the user's data
    folder (platformdirs: ~/.local/share/medevidence-assistant on Linux)."""
    if in_checkout():
        return PROJECT_ROOT / name
    import platformdirs

    return platformdirs.user_data_path(APP_NAME) / name.lstrip(".")


def _cache_dir() -> Path:
    import platformdirs

    return platformdirs.user_cache_path(APP_NAME)  # honours $XDG_CACHE_HOME


def user_config_file() -> Path:
    import platformdirs

    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def config_file(explicit: Path | None) -> Path | None:
    """The TOML file settings are read from: `explicit` (--config), else the user's config.toml if it exists."""
    if explicit is not None:
        return explicit
    default = user_config_file()
    return default if default.is_file() else None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChunkSettings(_Section):
    max_tokens: int = Field(
        default=128,
        ge=32,
        le=250,
        description="Most word pieces in one chunk's embedded text (the model reads 256 at most).",
    )


class EmbedSettings(_Section):
    model_dir: Path | None = Field(
        default=None,
        description="Folder of a sentence-transformers model; None uses the packaged all-MiniLM-L6-v2.",
    )
    backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description=(
            "'onnx': ONNX Runtime on an export of the same weights, made once into cache_dir (same vectors within 1e-6, "
            "faster ingest, several times faster queries, no torch import at query time); 'torch': sentence-transformers."
        ),
    )
    quantize: bool = Field(
        default=False,
        description="onnx only: int8 dynamic quantisation of the weight matrices (faster, lower recall: eval/BENCHMARK.md).",
    )
    cache_dir: Path = Field(
        default_factory=_cache_dir,
        description="Where the ONNX export of the model is kept (exported on first use, never downloaded).",
    )
    batch_size: int = Field(
        default=16, ge=1, description="Texts embedded per forward pass, longest first (16 beat 32/64/128: eval/LEVERS.md)."
    )
    bulk_bfloat16: bool = Field(
        default=True,
        description=(
            "onnx only: calls of at least bulk_texts texts (ingest) run on torch with bfloat16 matrix products when "
            "the CPU has them natively (AVX512-BF16, AMX): the same vectors within cosine 0.9999 and about 1.2x the "
            "word pieces/s (eval/BENCHMARK.md). Questions stay on ONNX Runtime."
        ),
    )
    bulk_texts: int = Field(
        default=256, ge=1, description="Texts in one embedding call from which bulk_bfloat16 (or, with device 'cuda', the GPU) applies."
    )
    gpu_batch_size: int = Field(default=256, ge=1, description="Texts per forward pass on a GPU (device 'cuda').")
    threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, description="Intra-op threads for torch or ONNX Runtime (default: the machine's cores)."
    )
    device: Literal["cpu", "cuda", "auto"] = Field(
        default="cpu",
        description=(
            "Where bulk embedding (ingest) runs: 'cuda' runs sentence-transformers on the GPU in float16 (the vectors "
            "agree with the CPU's within cosine 0.999: same model, same index identity); 'auto' picks 'cuda' when torch "
            "sees a GPU. Questions are embedded on the CPU with the onnx backend either way."
        ),
    )


class RetrieveSettings(_Section):
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        default="hybrid", description="Which retrievers feed the fused ranking."
    )
    aliases: bool = Field(default=True, description="Expand queries with aliases mined from the corpus.")
    aspect_queries: bool = Field(
        default=True,
        description=(
            "Rule: search each aspect a question type implies (a treatment question's statistics and harms, …) and "
            "quote each admitted source's best sentence for it. Its measured effect: eval/ABLATION.md."
        ),
    )
    k: int = Field(
        default=40,
        ge=1,
        le=100,
        description=(
            "Chunks handed to the composer, whose sentences the evidence scorer weighs. COVID-QA dev: a sentence holding "
            "the gold span is among them for 0.878 of questions at 14, 0.898 at 30, 0.923 at 50 (0.992 in the paper)."
        ),
    )
    candidates: int = Field(default=50, ge=1, description="Chunks each retriever contributes to fusion.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant (Cormack et al. 2009).")
    sentence_weight: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description=(
            "Share of the dense vote given to ranking chunks by their best sentence (the rest: whole-chunk vectors). "
            "0.5 measured: gold fact recall 0.810 -> 0.833, chunk MRR 0.562 -> 0.590; PubMedQA and MedQuAD unchanged."
        ),
    )
    per_document: int = Field(
        default=5,
        ge=0,
        description="Chunks reserved for every document that has relevant evidence (source diversity).",
    )
    audit_documents: int = Field(
        default=25,
        ge=1,
        description=(
            "The absence audit scores every passage of every document, then composes over the passages of this many "
            "best-scoring documents (all of them in a corpus this small or smaller)."
        ),
    )
    spelling_zipf: float = Field(
        default=3.0,
        description=(
            "A question word the corpus lacks is matched to the corpus' nearest spelling only when it is rarer than this "
            "in general English (wordfreq Zipf: 'Rinvok' 0.0, 'dermatomyosits' 0.0, 'psoriasis' 2.9, 'capital' 5.0)."
        ),
    )
    spelling_long_word: int = Field(
        default=9,
        ge=5,
        description=(
            "Words this long or longer that English does not know (Zipf 0: 'limtations', 'dermatomiosits') may be two "
            "edits from the corpus word; shorter ones and English words one. The nearest spelling is also sought stem to "
            "stem: 'tiredness' (Zipf 2.9, stem 'tired', two edits from 'time') was searched as 'time' and answered "
            "'supports it' to 'Does Rinvoq cause tiredness?'; 'sebaceous' was searched as 'separate'."
        ),
    )
    min_similarity: float = Field(
        default=0.25,
        ge=-1,
        le=1,
        description="Cosine similarity a chunk needs to count as relevant (diversity and abstention).",
    )
    sentence_pool: int = Field(
        default=4,
        ge=1,
        description="Whole-chunk dense candidates, times `candidates`, whose sentences are searched (and keyword hits kept).",
    )
    aspect_per_document: int = Field(
        default=3, ge=1, description="Chunks an aspect sub-query (harms, statistics, …) may add from one document."
    )
    number_weight: float = Field(
        default=2.0,
        ge=1,
        description="A number in the question (an age, a dose) identifies its passage: its concept weighs this many times its idf.",
    )
    one_document_rewording: float = Field(
        default=0.06,
        description=(
            "Within one document, a specific question word it never writes (naming no condition or drug) is its meaning "
            "in other words when the question's best sentence is this much closer in cosine than with any of eight "
            "unrelated words in the word's place (understand.worded_by_the_document): such a word neither makes the "
            "answer 'not covered' nor is named as unmentioned."
        ),
    )
    rewording_similarity: float = Field(
        default=0.4,
        ge=-1,
        le=1,
        description=(
            "Cosine at which a word the corpus lacks counts as rewording another concept of the question, so it is no "
            "gap (measured: breathing/lung disease 0.49, critically/intensive 0.63, coronary/heart attack 0.57; "
            "clots/dermatomyositis 0.23, psoriasis/upadacitinib 0.17, pregnancy/Rinvoq 0.14)."
        ),
    )
    nearest_word_similarity: float = Field(
        default=0.6,
        ge=-1,
        le=1,
        description=(
            "Cosine (single words, the packaged MiniLM) at which a word of the passages found is shown as the nearest "
            "to a question word no passage uses, so the reader can ask again with it; a hint, never an answer. "
            "Measured (2026-12-07): pimples/acne 0.69, hair loss/alopecia 0.62, bleeding/hemorrhage 0.66, "
            "tiredness/fatigue 0.80, high blood pressure/hypertension 0.73; other diseases below it: "
            "cancer/calcinosis 0.58, lupus/arthritis 0.53, psoriasis/dermatomyositis 0.50, pneumonia/bronchitis 0.59. "
            "MiniLM misses some lay words (itching/pruritus 0.29, fever/pyrexia 0.36), which then get no hint."
        ),
    )
    nearest_word_sentences: int = Field(
        default=3,
        ge=1,
        description=(
            "Sentences of the passages found, nearest in meaning to a question word no passage uses, whose words are "
            "weighed as its nearest word (nearest_word_similarity); each adds some 10 uncommon words to embed."
        ),
    )
    variant_min_stem: int = Field(
        default=5,
        ge=2,
        description=(
            "A question word the corpus lacks is searched as another form of the same word the corpus has ('compliant' "
            "as 'compliance', Lexicon.variants) only when their stems share at least this many first letters ('remit' "
            "and 'remix' share four)."
        ),
    )
    variant_suffix: int = Field(
        default=4, ge=0, description="How many letters the longer of two such stems may run past the shorter ('telemedicin' / 'telemed')."
    )
    variant_min_part: int = Field(
        default=4,
        ge=2,
        description="A word the corpus lacks is searched as two corpus words ('childbearing' as 'child bearing') when each part is this long.",
    )
    variants_kept: int = Field(default=3, ge=0, description="Most corpus forms searched for one word the corpus lacks (0: none).")
    spelled_out_letters: int = Field(
        default=3,
        ge=2,
        description=(
            "An abbreviation the corpus lacks ('HMO') is read as words of the retrieved passages whose initials spell "
            "it ('health maintenance organization'), and words of the question as an abbreviation the passages use "
            "('polymyalgia rheumatica': 'PMR'), when it has at least this many letters; runs of two initials turn up "
            "by chance."
        ),
    )


class ComposeSettings(_Section):
    """How the evidence scorer's verdicts (evidence.py: the probability that a sentence answers) become an answer.
    Tuned on the dev splits of COVID-QA, PubMedQA and MedQuAD (python -m eval.training.tune → eval/TUNING.md), never on test;
    where the dev figures and the gold set pull apart, the gold set's multi-source answers decide (said below)."""

    fusion_k: int = Field(
        default=20,
        ge=0,
        description=(
            "Candidates are ranked by reciprocal rank fusion, 1/(fusion_k + rank), of the scorer's ranking and the v1 "
            "rule's (0.6 × similarity + 0.4 × concept coverage); 0 ranks by the scorer alone. Dev COVID-QA p@1 0.663 "
            "fused against 0.659 alone, own paper first 0.858 against 0.837; gold fact recall 0.777 against 0.713 "
            "(with the other settings as tuned): the scorer alone ranks a case series' detail sentences below its summary."
        ),
    )
    min_answer_evidence: float = Field(
        default=0.005,
        ge=0,
        le=1,
        description=(
            "Evidence the best sentence needs for the question to count as answered (else: not covered). Dev: 0.005 "
            "says 'not covered' for 0.51 of PubMedQA questions whose abstract is not indexed, with 2 of 100 answerable "
            "ones falsely so; 0.01: 0.65 and 3; 0.02: more false absences. COVID-QA false absences 0.004 / 0.008."
        ),
    )
    min_evidence: float = Field(default=0.02, ge=0, le=1, description="Evidence any other quoted sentence needs.")
    confident_evidence: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description=(
            "Best evidence at which the scorer's verdict that the question is answered overrides the rule that would "
            "name the rare question words no passage uses ('ototoxic' where the abstract says 'hearing loss'). Dev MedQuAD "
            "false absences 0.045 at 0.6 against 0.042 at 0.3; at 0.3 'psoriasis' goes unnamed in answers about "
            "upadacitinib for dermatomyositis (best evidence 0.49), and the gold set's abstention accuracy falls to 0.82."
        ),
    )
    one_document_confident_evidence: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description=(
            "Within one document (an index or a scope of one), the best evidence at which the scorer's verdict that the "
            "question is answered stops the rare words the document never writes from being listed as left open, unless "
            "they name a condition or drug (confident_evidence elsewhere): a paper chosen alone writes 'patients aged "
            "≥80 years' for 'octogenarians', '≤5 lesions' for 'oligometastases'. Each abstract and paper of the train "
            "and dev splits indexed alone, answered own questions that list such a word: PubMedQA 6 (of 496) at 0.6, "
            "2 at 0.3, 0 at 0.1; COVID-QA 6 (of 701) at 0.6, 3 at 0.1, 2 at 0.05. The PubMedQA abstracts answering "
            "another abstract's question did so at evidence 0.009-0.133: the one train abstract at 0.133 no longer "
            "lists that question's words (per-document train: false absences PubMedQA 0.025 -> 0.010, COVID-QA 0.015 -> "
            "0.009; another abstract's question 'not covered' 1.0 -> 0.998)."
        ),
    )
    document_share: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description=(
            "A document earns a place when its best sentence has this share of the best sentence's evidence (or "
            "document_evidence). Dev COVID-QA own-paper share of citations 0.706 / 0.742 / 0.764 at 0.5 / 0.7 / 0.9, "
            "span in the bottom line 0.776 / 0.760 / 0.748 (document_evidence 0.15, before rank fusion)."
        ),
    )
    document_evidence: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description=(
            "A document whose best sentence has this much evidence earns a place whatever the best document scores: "
            "a second source that answers is never crowded out. Dev COVID-QA own-paper share 0.743 / 0.771 at 0.15 / 0.2 "
            "(rule_relevance off); above 0.15 second sources of the gold disagreement pairs (a trial beside its guidance, "
            "best sentence 0.17-0.19) drop out of the answer: the failure of seed 000."
        ),
    )
    rule_relevance: float = Field(
        default=0.45,
        ge=0,
        description=(
            "A sentence whose v1 rule relevance (0.6 × similarity + 0.4 × concept coverage) reaches this is quoted, and "
            "its document admitted (rule_documents), whatever the scorer says: trained where one document answers each "
            "question, the scorer gives a second source's contrary finding 0.03 ('Antibiotic therapy alone is not an "
            "acceptable alternative to appendectomy …'). Dev COVID-QA span anywhere in the answer 0.846 at 0.45 against "
            "0.825 off, own-paper share 0.617 against 0.743; gold disagreement recall 0.923 against 0.769. Above 1: off."
        ),
    )
    rule_documents: int = Field(
        default=2,
        ge=0,
        description=(
            "How many documents (the best by the v1 rule) rule_relevance may admit on its own. Dev COVID-QA own-paper "
            "share 0.724 / 0.617 / 0.561 at 1 / 2 / 3 (rule_relevance 0.45); at 1 the gold disagreement recall is 0.769."
        ),
    )
    aspect_documents: bool = Field(
        default=False,
        description=(
            "Rule: the document whose sentence best states an aspect the question asks for (a laboratory test, a "
            "setting, a duration: question.py answer types, with min_aspect_similarity to the aspect's sub-query) "
            "earns a place, whatever the scorer says. Off: on dev it moves no span figure and costs own-abstract share "
            "(PubMedQA 0.844 to 0.804); on the gold set it would add one fact (serial creatine kinase, 0.894 to 0.904)."
        ),
    )
    bottom_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description=(
            "Further bottom-line sentences need this share of the first one's evidence. Dev, 0.2 against 0.3 "
            "(2026-12-07): each abstract alone, the bottom line quotes a RESULTS sentence 0.847 / 0.806 (train 0.904 / "
            "0.876), long-answer words 0.430 / 0.424; each COVID-QA paper alone, span in the bottom line 0.882 / 0.870 "
            "(train 0.811 / 0.820); pooled COVID-QA span in the bottom line 0.805 / 0.797, PubMedQA long-answer words "
            "0.413 / 0.408; gold and synthesis the same. 0.1 reads the same on COVID-QA, 0.918 on RESULTS, but lets a "
            "sentence with a tenth of the best one's evidence into the bottom line. Earlier model: 0.760 at 0.3, 0.752 at 0.5."
        ),
    )
    bottom_per_document: int = Field(
        default=4,
        ge=1,
        description=(
            "Most bottom-line sentences from one document (so also how many strong sentences each document brings). "
            "Dev, 4 against 3 (2026-12-06): COVID-QA span in the bottom line 0.801 / 0.797, PubMedQA long-answer words "
            "0.410 / 0.388, each paper or abstract alone: span in the bottom line 0.870 / 0.854, in the answer 0.902 / "
            "0.894; gold and synthesis unchanged. Earlier model: 0.736 at 3, 0.720 at 2."
        ),
    )
    bottom_line: int = Field(
        default=4,
        ge=1,
        description=(
            "Most sentences in the bottom line (one per weighed source first, see lead_share). COVID-QA span in the "
            "bottom line at 4 against 3: dev 0.797 / 0.785, train 0.743 / 0.732; no other dev or train figure moves."
        ),
    )
    lead_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description=(
            "Sources whose best sentence has at least this share of the best source's evidence answer comparably well: "
            "among them the strongest grade is quoted first (synthesis.py); the others follow by relevance. Gold "
            "weighing cases (eval/weighing.yaml): 0.5 passes all 16; at 0.8 or 1.0 the small trial leads the large one "
            "and the AI page leads the side-effects follow-up. COVID-QA and synthesis dev: the same at 0.5 and 1.0 (their "
            "grades are inferred from the text, see order_by_extracted_grades)."
        ),
    )
    order_by_findings: bool = Field(
        default=True,
        description=(
            "For a question asking for a verdict, among comparably relevant sources of the same grade one that only "
            "discusses the evidence (its most relevant sentence names research, studies or the literature, and none of "
            "its sentences states a result on the question) comes after the others (synthesis.source_order): a page with "
            "no front matter that restates the question to claim, in words no cue rule or model reads, that nobody has "
            "studied it. synthesis-unmarked page leads: dev 0.03 off, 0.02 on; 300 train questions 0.060 / 0.027 (with "
            "the gate and motivation rules). Every other dev figure is the same. Tried and dropped: putting every source "
            "with a result first (MedQuAD dev opens with own 0.703 -> 0.686: 'Is X inherited?' is answered by a fact, "
            "not a finding; COVID-QA dev 0.854 -> 0.829 for all questions, 0.850 for verdicts)."
        ),
    )
    order_by_extracted_grades: bool = Field(
        default=False,
        description=(
            "Whether a grade inferred from a document's text (profile.py's rules, marked extracted) orders the bottom "
            "line like a declared one. Off: inferred grades count as unknown there (they are still shown). COVID-QA dev, "
            "whose papers declare nothing: bottom line opens with the own paper 0.854 off, 0.829 on (a 'review' read "
            "from a paper's wording outranks the paper that answers); synthesis dev the same either way. A grade below "
            "unknown read from the text (it says a chatbot wrote it, or that no one reviewed it) orders either way: a "
            "text may lower itself."
        ),
    )
    verdict_model: bool = Field(
        default=True,
        description=(
            "For a question that asks for a verdict, read each source's stance with the learned verdict model "
            "(answer/verdict.py) where it is sure (VerdictSettings.min_probability), the cue rules elsewhere; off: the "
            "cue rules alone (stance.source_stance). PubMedQA dev (100 questions): the answer states a stance for the "
            "question's own abstract in 0.39 of answers, right for 0.641 of them; the cue rules alone state one in 0.20, "
            "right for 0.600 (an undecided source 'reports on it')."
        ),
    )
    topic_gate: bool = Field(
        default=True,
        description=(
            "Rule: a document enters an answer only when it (its text or title) mentions one of the question's specific "
            "topics (a rare word or a named thing the corpus knows), so that a note sharing only 'treated' never does "
            "(eval/weighing.yaml, a-note-off-the-topic). COVID-QA dev without it: span in the bottom line 0.768 -> 0.764, "
            "own-paper share 0.618 -> 0.613, nothing else moves."
        ),
    )
    audit_absence_claims: bool = Field(
        default=True,
        description=(
            "Rule: a source's claim that evidence is missing is checked against the index, not only against the other "
            "quoted sources: when none refutes it, the first retrieved document at least as strong that names every "
            "specific topic of the question (text or title) and reports a finding anywhere in its text is quoted too, "
            "so the claim is named as contradicted and never opens alone. Gold: the follow-up 'Did anyone get worse?' "
            "after 'Did upadacitinib help interstitial lung disease in the case series?' opened with the AI page alone "
            "without it; synthesis dev opens with the own abstract 0.970 -> 0.980."
        ),
    )
    refuting_similarity: float = Field(
        default=0.65,
        ge=-1,
        le=1,
        description=(
            "A source's findings refute a claim that evidence on the question is missing only when they bear on it "
            "(Composer._bearing): its best passage has this cosine similarity to the question, it names "
            "refuting_topic_share of the question's topics, or the scorer gives a sentence of it refuting_evidence; "
            "-1: every source with findings does. Chosen on the synthesis suites' train split, each question also asked "
            "without its own abstract (claim_flagged_without_own: false accusations, but where another abstract "
            "answers), as the most selective setting that keeps the claims flagged beside their own abstract "
            "(claim_flagged) at 0.975 (the issue's 0.95 and the train-to-test gap seen at 0.62 without the evidence "
            "test: train 0.960, test 0.94-0.95). Train, without / beside own, 2026-12-07: no check 0.43 / 0.99; "
            "similarity 0.62 and share 0.7 alone 0.16 / 0.96; with evidence 0.05 at similarity 0.65 0.23 / 0.975 (dev "
            "0.43 / 0.99 to 0.22 / 0.97), at 0.60 0.26 / 0.98; similarity 0.58 and share alone 0.22 / 0.975 (dev 0.29 / 0.97)."
        ),
    )
    refuting_topic_share: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description=(
            "The share of the question's specific topics (by idf, named in the text or title) that makes a source's "
            "findings bear on it, whatever their similarity (see refuting_similarity). Train, similarity alone at 0.62 "
            "and with the share: 0.8 0.15 / 0.95, 0.7 0.16 / 0.96, every topic 0.15 / 0.95."
        ),
    )
    refuting_evidence: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description=(
            "The scorer's evidence for one of a source's sentences that makes its findings bear on the question (see "
            "refuting_similarity). Train at similarity 0.65: 0.02 0.32 / 0.99, 0.05 0.23 / 0.975, 0.1 0.16 / 0.97."
        ),
    )
    state_unstated: bool = Field(
        default=True,
        description=(
            "Rule: when a question asks for a drug's dose or a cost that no admitted sentence states, the answer opens by "
            "saying so (and still quotes the closest evidence). Its measured effect: eval/ABLATION.md."
        ),
    )
    rule_similarity_weight: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description=(
            "The v1 rule (fused with the scorer, `fusion_k`; admitting documents, `rule_relevance`): this weight on a "
            "sentence's similarity to the question, the rest on its concept coverage. 0.6 was v1's tuned mix on the "
            "seed corpus; the scorer was trained and the thresholds above tuned with it."
        ),
    )
    rule_cue_bonus: float = Field(
        default=0.08,
        ge=0,
        description="The v1 rule adds this to the similarity of a sentence that states what the question asks for (an answer-type cue).",
    )
    unknown_share: float = Field(
        default=0.4,
        gt=0,
        le=1,
        description=(
            "The unknown-words rule says 'not covered' when specific words no passage uses carry this share of the "
            "question's concept weight (idf); below it they are only named. Dev 2026-12: letting the scorer's best "
            "evidence override this abstention (at 0.2 to 0.8) changed no dev figure."
        ),
    )
    one_document_similarity: float = Field(
        default=0.65,
        ge=-1,
        le=1,
        description=(
            "Within one document (an index or a scope of one), a question whose best passage has this cosine similarity "
            "is about that document in other words: the unknown-words rule neither abstains nor names its words as "
            "unmentioned. Each PubMedQA abstract and COVID-QA paper indexed alone: own questions' best similarity q05 "
            "0.65 (dev abstracts), other documents' questions at most 0.49 (train and dev); the four dev abstracts that "
            "said 'never mention' over words they write otherwise are at 0.70-0.75. Gold: 'Does methotrexate help "
            "psoriasis?' of a rheumatoid arthritis trial alone is at 0.62 and must abstain (at 0.5 it answered). Tried "
            "and dropped: whether the lacking words pull the question away from the document (embedding it without "
            "them): shorter questions come closer either way."
        ),
    )
    unknown_words: bool = Field(
        default=True,
        description=(
            "Rule: specific words the corpus never uses ('psoriasis') make the answer 'not covered' when they carry "
            "most of the question, and are named as unmentioned otherwise. Its measured effect: eval/ABLATION.md."
        ),
    )
    titled_claims: int = Field(
        default=3,
        ge=0,
        description=(
            "Unreviewed pages whose title names every word of the question the corpus knows (but framing words) whose "
            "claims of missing evidence speak to the question through that title (compose._titled_claims; 0: none); of "
            "such a page nothing else quotes, its best claim is weighed: one titled with the question that says only "
            "'There is no published evidence on this.' is in no chunk a search finds. The synthesis suite's test "
            "questions with such claims: claim named as contradicted 0.002 -> 0.976, the page never leads either way."
        ),
    )
    learned_absence: bool = Field(
        default=True,
        description=(
            "Rule: a sentence claims that evidence is missing when the cue rule (stance.ABSENCE_CLAIM) says so, or the "
            "learned absence-claim model (answer/absence.py) does where it is heard (absence.heard: an unreviewed page; a "
            "sentence naming the literature in a document that reports no study of its own). Wordings written apart from "
            "both (eval/training/absence_heldout.txt, 12 filled with 100 dev questions) caught 0.083 by the rule alone, "
            "0.933 with the model. The synthesis suite's test questions with those wordings as its pages: the page leads "
            "0.20-0.30 -> 0.040 of bottom lines, its claim named as contradicted 0-0.30 -> 0.902; with no front matter on "
            "the pages (synthesis-unmarked) 0.096 and 0.896."
        ),
    )
    limitations: bool = Field(
        default=True,
        description="Rule: quote up to two limitations the cited sources state (cue words). Its measured effect: eval/ABLATION.md.",
    )
    min_aspect_similarity: float = Field(
        default=0.30,
        description="Similarity to an aspect sub-query (harms, statistics, …) a sentence needs to be quoted for that aspect.",
    )
    topic_similarity: float = Field(
        default=0.55,
        description=(
            "A sentence quoted for an aspect must name one of the question's concepts or be this close to the question "
            "in meaning ('ILD' for 'lung disease'): 'A p value < 0.05 was considered significant' states no finding."
        ),
    )
    min_limitation_similarity: float = Field(
        default=0.30, description="Similarity to the question a limitation the sources state needs to be quoted as open."
    )
    limitations_quoted: int = Field(default=2, ge=0, description="Most limitations the sources state quoted under 'What the sources leave open'.")
    per_source: int = Field(
        default=10,
        ge=1,
        description=(
            "Most sentences quoted from one document (dev span anywhere in the answer +0.01 at 8 over 6). With "
            "max_sentences 20, 10 against 8 and 16: COVID-QA span anywhere in the answer train 0.836 -> 0.849 (dev 0.846 "
            "both), own-paper share dev 0.618 -> 0.635, train 0.601 -> 0.611; span in the bottom line train 0.743 -> 0.741."
        ),
    )
    max_sentences: int = Field(default=20, ge=1, description="Most sentences quoted in one answer (see per_source).")


class ConversationSettings(_Section):
    """How follow-up questions lean on earlier turns (conversation.py)."""

    carried: int = Field(default=4, ge=1, description="Most earlier entities carried into a follow-up's search.")
    topic_chunk_share: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description=(
            "A known word found in under this share of the chunks names a topic a follow-up may lean on ('tofacitinib', "
            "'lung'); commoner ones ('patients') do not."
        ),
    )
    rare_per_turn: int = Field(
        default=2, ge=0, description="Most such rare words (after the corpus' aliases) kept as one turn's entities."
    )


class LLMSettings(_Section):
    """The optional answer writer: an LLM rewrites the extractive answer's passages, our verifier checks it."""

    backend: str = Field(
        default="extractive", description="'extractive' (no LLM), 'openai' (any OpenAI-compatible server) or 'ollama'."
    )
    base_url: str | None = Field(
        default=None, description="Endpoint, e.g. http://127.0.0.1:8080/v1 (llama.cpp, vLLM) or http://127.0.0.1:11434 (Ollama)."
    )
    model: str | None = Field(default=None, description="Model name the endpoint serves.")
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Name of the environment variable holding the API key (read at the edge, never logged)."
    )
    timeout_s: float = Field(default=120.0, gt=0, description="Seconds to wait for the endpoint to connect or send the next piece of the answer.")
    max_retries: int = Field(default=2, ge=0, le=10, description="Further attempts after a failed call, with backoff.")
    backoff_s: float = Field(default=1.0, ge=0, description="First wait between attempts; doubles each retry.")
    temperature: float = Field(default=0.0, ge=0, le=2, description="Sampling temperature (0 = most literal).")
    max_tokens: int = Field(default=400, ge=16, description="Most tokens the model may write.")
    context_chars: int = Field(
        default=160, ge=0, description="Characters of the surrounding chunk shown beside each quoted passage."
    )
    min_kept_fraction: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of the LLM's sentences that must pass verification, else the extractive answer is shown.",
    )
    require_sources: bool = Field(
        default=True,
        description=(
            "Every source the extractive bottom line or a disagreement note relies on is cited in the LLM answer: "
            "when the draft leaves one out, its bottom-line sentence is added verbatim, cited, with a notice."
        ),
    )


class StoreSettings(_Section):
    """Where chunk vectors are searched: the local FAISS + BM25 index (default) or a Qdrant collection."""

    kind: Literal["local", "qdrant"] = Field(
        default="local",
        description=(
            "'local': FAISS and bm25s in this process, exhaustive. 'qdrant': each index version is also published as a "
            "Qdrant collection (dense cosine vectors, int8-quantised in RAM with originals on disk; a sparse BM25 "
            "vector) and the search asks Qdrant; documents, chunk offsets and sentence vectors stay in the index folder."
        ),
    )
    qdrant_url: str | None = Field(default=None, description="A Qdrant server, e.g. http://localhost:6333 (key: $QDRANT_API_KEY).")
    qdrant_path: Path | None = Field(
        default=None, description="Embedded Qdrant (qdrant-client's local mode) in this folder; one process at a time."
    )
    collection: str = Field(
        default="medevidence",
        pattern=r"^[A-Za-z0-9_-]+$",
        description=(
            "Collection prefix: version V is the collection '<prefix>-V'; the alias '<prefix>' names the live one. Index "
            "folders sharing one Qdrant should each have their own prefix (the alias follows the last one published)."
        ),
    )
    depth: int = Field(
        default=256,
        ge=1,
        description=(
            "Chunks a remote store returns per query vector and for the keyword query: the search ranks the best 200 "
            "(4 x retrieve.candidates) and the margin lets equal scores at the cut go to the same chunks as on the local "
            "store (MedQuAD, 17,994 chunks: identical passages tie; eval/SCALE.md)."
        ),
    )
    audit_depth: int = Field(
        default=2000,
        ge=1,
        description=(
            "Chunks per query the absence audit asks a remote store for (the local store checks every chunk; "
            "a corpus of up to this many chunks is audited exhaustively on Qdrant too)."
        ),
    )
    scope_gather_share: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description=(
            "A scoped search on the local store scores only the scope's chunk vectors (gathered, then one product) when "
            "they are at most this share of the index, else every vector and masks the rest: the same numbers either way. "
            "18,000 x 384 float32 vectors, 3 query vectors, one BLAS thread on the shared 2-core machine: gathering 10 % "
            "took 1.0 ms, 30 % 5.6 ms, 50 % 9.9 ms, 90 % 18.6 ms against 9.2-9.9 ms for the whole product and mask."
        ),
    )
    upsert_batch: int = Field(default=128, ge=1, le=1024, description="Points per Qdrant upsert (Qdrant advises 64-256).")
    hnsw_ef: int = Field(default=256, ge=1, description="HNSW beam width at query time on a Qdrant server (recall vs latency).")
    oversampling: float = Field(
        default=2.0, ge=1.0, description="int8 candidates re-scored with the original vectors, as a multiple of the limit."
    )
    timeout: int = Field(default=30, ge=1, description="Seconds a Qdrant request may take.")

    @model_validator(mode="after")
    def _one_qdrant(self) -> StoreSettings:
        if self.kind == "qdrant" and bool(self.qdrant_url) == bool(self.qdrant_path):
            raise ValueError("store.kind 'qdrant' needs exactly one of qdrant_url (a server) or qdrant_path (embedded)")
        return self


class IngestSettings(_Section):
    """How documents are chunked and embedded: in this process, or on Ray Data across workers."""

    engine: Literal["local", "ray"] = Field(default="local", description="'ray': read, chunk and embed on Ray Data.")
    workers: int = Field(default=2, ge=1, description="Ray embedding actors (one model each; one GPU each with embed.device='cuda').")
    cpus_per_worker: int = Field(default=1, ge=1, description="CPUs (and torch/ONNX threads) each Ray embedding actor takes.")
    restarts: int = Field(
        default=2, ge=0, description="Times a dead Ray actor is restarted and its batch retried before the ingest fails."
    )
    batch_size: int = Field(
        default=256, ge=1, description="Texts per Ray embedding batch (explicit: Ray Data's default can exhaust one machine's memory)."
    )
    ray_address: str | None = Field(
        default=None, description="A running Ray cluster (e.g. ray://head:10001); None uses $RAY_ADDRESS or starts a local Ray."
    )


class ServiceSettings(_Section):
    """The server: its API token, the UI's users, conversations kept. Secrets are masked in every dump and log."""

    api_token: SecretStr | None = Field(
        default=None,
        description="Bearer token every /v1 request must send; required to serve beyond loopback (env ASSISTANT_SERVICE__API_TOKEN).",
    )
    users: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="UI sign-in, user name -> password; required to serve beyond loopback (env ASSISTANT_SERVICE__USERS as JSON).",
    )
    conversations: int = Field(default=1000, ge=1, description="API conversations kept by id (least recently used dropped).")
    answer_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1,
        description="Requests answered at once by one server process (default: the machine's cores); more wait in order. "
        "Answering is CPU work that mostly holds the GIL, so threads beyond the cores only stretch every answer "
        "(eval/BENCHMARK.md, 'Load on the HTTP server').",
    )
    embed_threads: int = Field(
        default=1, ge=1,
        description="Intra-op threads of the embedder in a server process (embed.threads elsewhere). One: concurrent "
        "requests already use the cores, and the ONNX Runtime pool of 2 threads per question spun against them: "
        "ask() took 84.5 ms of CPU with 2 threads, 48.3 ms with 1 (seed corpus, 2 cores under load; eval/BENCHMARK.md, "
        "'Load on the HTTP server'). Answers are identical either way (136 gold and benchmark questions compared).",
    )
    workers: int = Field(
        default=1, ge=1,
        description="Processes answering the API (`assistant serve --workers`): answering holds the GIL most of the time, "
        "so one process answers on about one core. Each worker holds its own model and index (its resident memory is in "
        "eval/BENCHMARK.md, 'Load on the HTTP server'); the UI stays in the first process.",
    )
    max_body_kb: int = Field(default=256, ge=1, description="Largest /v1 request body; a larger one gets a 413 unread.")
    reload_seconds: float = Field(
        default=2.0, gt=0,
        description="How often a server checks the index folder's CURRENT for a version written by another process "
        "(a CLI ingest, another server) and switches to it.",
    )


class AuditSettings(_Section):
    """The audit log of answers (assistant/chat/audit.py)."""

    enabled: bool = Field(default=True, description="Log every answer (UI, API, CLI, Python) to SQLite.")
    path: Path | None = Field(default=None, description="The log file; None puts audit.sqlite3 in the index folder.")


class VerdictSettings(_Section):
    """How a source's verdict on a yes/no question (assistant/answer/verdict.py) is read."""

    min_probability: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description=(
            "A source's verdict (yes / no / maybe) counts only when its probability reaches this; below it the source is "
            "undecided. PubMedQA dev (100 abstracts, verdict version 62fb0b4e33dd): 0.6 decides 47% of them at accuracy "
            "0.638 (0.550 over all); 0.5 decides 81% at 0.568, 0.7 decides 18% at 0.722."
        ),
    )


class Settings(BaseSettings):
    """Everything the assistant can be told; unknown keys are rejected. Environment variables ASSISTANT_<FIELD>, nested
    with '__' (ASSISTANT_STORE__QDRANT_URL), fill what the caller does not pass."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="forbid", frozen=True)

    corpus_dir: Path = Field(default_factory=lambda: _data_dir("corpus"), description="Folder of source documents.")
    index_dir: Path = Field(default_factory=lambda: _data_dir(".index"), description="Folder holding index versions.")
    max_file_mb: float = Field(default=50.0, gt=0, description="Largest document accepted, in megabytes.")
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions are trimmed.")
    chunk: ChunkSettings = Field(default_factory=ChunkSettings)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    retrieve: RetrieveSettings = Field(default_factory=RetrieveSettings)
    compose: ComposeSettings = Field(default_factory=ComposeSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    verdict: VerdictSettings = Field(default_factory=VerdictSettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):  # type: ignore[no-untyped-def, override]
        """Flags (init), then the environment, then the TOML file `load_settings` names (none for plain Settings())."""
        from pydantic_settings import TomlConfigSettingsSource

        path = _CONFIG_FILE.get()
        return (init_settings, env_settings, *((TomlConfigSettingsSource(settings_cls, toml_file=path),) if path else ()))

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with top-level fields replaced (validated)."""
        return Settings.model_validate({**self.model_dump(), **changes})

    def audit_path(self) -> Path:
        return self.audit.path or self.index_dir / "audit.sqlite3"

    def chunk_fingerprint(self) -> str:
        """Hash of the settings that change how documents are chunked."""
        blob = json.dumps(self.chunk.model_dump(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_settings(config: Path | None = None, **flags: object) -> Settings:
    """Settings from flags > environment > TOML file > defaults. The file is `config`, else the user's config.toml if
    it exists. Nested flags are dicts ({"store": {"qdrant_url": …}}), merged field by field with the other sources."""
    from pydantic import ValidationError

    from .errors import ConfigError

    path = config_file(config)
    if path is not None and not path.is_file():
        raise ConfigError(f"No config file at {path}. Check the --config path.")
    token = _CONFIG_FILE.set(path)
    try:
        return Settings(**flags)  # type: ignore[arg-type]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # raised unwrapped by the TOML source
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix it, or pass another --config.") from exc
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        where = f" (config file {path})" if path else ""
        raise ConfigError(f"Invalid settings{where}: {reasons}. `assistant config` shows the effective settings.") from exc
    finally:
        _CONFIG_FILE.reset(token)
