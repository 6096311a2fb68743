"""What a question asks for: answer types (a dose, a number, a p value, harms, outcomes) as explicit rules.

Retrieval uses them to search each aspect of a treatment question (outcomes, statistics, harms), and the
composer uses them to quote the best sentence for each aspect from every source, and to say plainly when
the sources never state what was asked (e.g. a dose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import Stemmer


@dataclass(frozen=True, slots=True)
class AnswerType:
    """A kind of question whose answer must contain a certain kind of statement."""

    name: str
    asks: re.Pattern[str]
    evidence: re.Pattern[str]
    missing: str
    probe: str = ""
    required: bool = True  # the answer must state one (a dose, a cost) or say plainly that no source does
    specific: re.Pattern[str] | None = None  # sentences matching this rank first (e.g. a named adverse event)
    frame: bool = False  # its asking words ("generic name") are no topic of the question: not searched as concepts


DOSE = AnswerType(
    "dose",
    re.compile(r"(?<!-)\b(dose|doses|dosage|dosing|dosed|how much(?! (?:did|does|do|was|were|is|are|has|have)\b)|mg)\b", re.I),
    re.compile(r"\d\s*(?:mg|g|mcg|µg|ml|mL|IU|units?)\b(?:\s*/\s*\w+)?|\bmg/|\bg/kg", re.I),
    "a dose",
    probe="dose mg dosing",
)
COUNT = AnswerType(
    "count",
    re.compile(r"\bhow many\b|\bnumber of\b|\bsample size\b", re.I),
    re.compile(r"\b\d+\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten)\b", re.I),
    "a number",
    required=False,
)
SIGNIFICANCE = AnswerType(
    "significance",
    re.compile(r"\bp[- ]?values?\b|\bstatistic(?:al|ally)?\b|\bsignifican", re.I),
    re.compile(r"\bp\s*(?:value)?\s*[=<>≤]\s*0?\.\d|\bP value: 0?\.\d", re.I),
    "a statistical result",
    probe="statistically significant improvement p value",
    required=False,
    specific=re.compile(r"\bstatistically significant\b", re.I),
)
ADVERSE = AnswerType(
    "adverse",
    re.compile(r"\bside[- ]effects?\b|\badverse\b|\bsafety\b|\bsafe\b|\btolerat|\btoxicit|\bharms?\b", re.I),
    re.compile(r"\bside effects?\b|\badverse\b|\bsafety\b|\btolerat|\bdiscontinu|\beruption\b|\bacne\b|\binfection|\btoxicit", re.I),
    "adverse effects",
    probe="adverse events side effects discontinued treatment",
    required=False,
    specific=re.compile(r"\bdiscontinu\w* (?:\w+ )?due to\b|\beruption\b|\bacne\b|\binfection|\btoxicit", re.I),
)
EFFICACY = AnswerType(
    "efficacy",
    re.compile(
        r"\b(help|helps|effective|efficacy|work|works|benefit|improve|useful|respond|response|outcomes?|treat|treatment|"
        r"show|shows|showed|find|found|findings|results?)\b",
        re.I,
    ),
    re.compile(r"\bimprov|\bsignifican|\beffective|\bremission\b|\bresponse\b|\bp\s*(?:value)?\s*=|\breduc|\bbenefit|\brecommended\b|\bevidence\b", re.I),
    "an outcome",
    probe="effective improvement outcome",
    required=False,
)
COST = AnswerType(
    "cost",
    re.compile(r"\b(cost|costs|price|prices|how much does|afford|insurance)\b", re.I),
    re.compile(r"[$€£]\s?\d|\b(?:costs?|prices?|dollars?|euros?|reimburs\w*|expens(?:e|es|ive)|expenditures?)\b", re.I),
    "a cost",
)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
SETTING = AnswerType(
    "setting",
    re.compile(r"\bwhere\b|\bwhich (?:country|countries|city|cities|cent(?:re|er)s?|hospitals?|clinics?|institutions?)\b|\bsetting\b", re.I),
    re.compile(
        r"\bcent(?:re|er)s?\b|\bhospitals?\b|\bclinics?\b|\buniversit(?:y|ies)\b|\binstitut\w*|\bmulti-?cent|\bnationwide\b|"
        r"\bin [A-Z][a-z]+(?: [A-Z][a-z]+)*, [A-Z][a-z]+"
    ),
    "where it took place",
    probe="conducted at a single centre hospital clinic in city country",
    required=False,
)
DURATION = AnswerType(
    "duration",
    re.compile(r"\bhow long\b|\bduration\b|\b(?:median|mean|average) (?:time|months|weeks|years)\b|\btime on\b|\bfor how many\b", re.I),
    re.compile(r"\b\d+(?:\.\d+)?(?:\s*(?:to|[-–])\s*\d+(?:\.\d+)?)?\s*(?:days?|weeks?|months?|years?)\b|\bduration\b", re.I),
    "a duration",
    probe="median duration months of therapy",
    required=False,
)
PERIOD = AnswerType(
    "period",
    re.compile(r"\bwhen\b|\bwhich (?:dates|years?|months?|period)\b|\bwhat (?:dates|years?|period)\b|\bstudy period\b", re.I),
    re.compile(rf"\b{_MONTH} (?:19|20)\d\d\b|\b(?:19|20)\d\d\s*(?:to|[-–]|and)\s*(?:19|20)\d\d\b|\bfrom (?:19|20)\d\d\b"),
    "dates",
    probe="from month year to month year",
    required=False,
)
STOPPING = AnswerType(
    "stopping",
    re.compile(r"\bstop(?:s|ped|ping)?\b|\bdiscontinu\w*|\bquit\b|\bwithdr[ae]w\w*|\bcome off\b|\bcame off\b", re.I),
    re.compile(r"\bdiscontinu\w*|\bstopped\b|\bwithdr[ae]w\w*|\bceased\b|\bdue to\b|\bbecause of\b", re.I),
    "who stopped and why",
    probe="discontinued treatment due to",
    required=False,
)
LAB_TEST = AnswerType(
    "lab test",
    re.compile(r"\blab(?:oratory)?\b|\bblood (?:test|work)s?\b|\bwhich tests?\b|\bwhat tests?\b|\bbiomarkers?\b", re.I),
    re.compile(
        r"\b(?:creatine kinase|CK|CPK|aldolase|LDH|ALT|AST|CRP|ESR|troponin|ferritin|serum|plasma|titers?|titres?|assays?|"
        r"levels?|measurements?|antibod(?:y|ies)|laboratory|blood tests?)\b",
        re.I,
    ),
    "a laboratory test",
    probe="serial laboratory blood test measurements serum levels",
    required=False,
)
SUBTYPE = AnswerType(
    "subtype",
    re.compile(r"\bsub-?types?\b|\bphenotypes?\b|\bsubgroups?\b|\bclassif\w*|\bwhich (?:types?|kinds?|forms?) of\b", re.I),
    re.compile(r"\bclassif\w*|\bsub-?types?\b|\bphenotypes?\b|\bsubgroups?\b|\bcategori\w*", re.I),
    "the subtypes",
    probe="patients were classified as having subtypes",
    required=False,
)
NAME = AnswerType(
    "name",
    re.compile(
        r"\b(?:generic|brand|trade|proprietary|chemical|other|full|common|drug|medical) names?\b|"
        r"\b(?:also|otherwise) (?:called|known as)\b|\bstands? for\b|\bshort for\b",
        re.I,
    ),
    re.compile(r"\(([^()]{2,60})\)"),  # a name given beside another: "Rinvoq (upadacitinib)"
    "another name",
    required=False,
    frame=True,
)
ANSWER_TYPES: tuple[AnswerType, ...] = (
    COST, DOSE, COUNT, SIGNIFICANCE, ADVERSE, SETTING, DURATION, PERIOD, STOPPING, LAB_TEST, SUBTYPE, NAME, EFFICACY,
)


# At the start, or after a title's colon or dash ("Pertrochanteric fractures: is there an advantage to a nail?").
YES_NO = re.compile(r"(?:^|[:;\u2013\u2014]|\s-{1,2})\s*(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|may|might)\b", re.I)


def asks_yes_or_no(question: str) -> bool:
    """A yes/no question: "Does Rinvoq help?", "Pertrochanteric fractures: is there an advantage to a nail?"."""
    return bool(YES_NO.search(question))


def asks_for_a_verdict(question: str) -> bool:
    """A yes/no question, or one about a treatment's effect: each source's stance on it is worth stating."""
    return asks_yes_or_no(question) or bool(EFFICACY.asks.search(question)) and not ADVERSE.asks.search(question)


# A question asking whether a treatment does harm: whether it causes, induces, triggers or worsens something, or raises
# the risk of it, or what its side effects are ("laser-induced", "all-cause" name no harm asked about). The stance cues
# read benefit ("improved", "well tolerated": stance.FOR) and its absence, so on such a question they take no side:
# "Does Rinvoq cause muscle weakness in dermatomyositis?" was "supported" by the series' finding that muscle weakness
# improved.
HARM = re.compile(
    r"(?<!-)\b(?:causes?|caused|induces?|induced|triggers?|triggered|worsens?|worsened|aggravates?|aggravated|"
    r"exacerbates?|exacerbated)\b"
    r"|\b(?:increases?|increased|raises?|raised) (?:the )?(?:risk|rate|incidence|odds|chance)s? of\b"
    r"|\bside[- ]effects?\b|\badverse (?:events?|effects?|reactions?)\b|\btoxicit",
    re.I,
)


# A question whether a treatment is approved or licensed for a use: findings of benefit do not answer it ("Is Rinvoq
# approved for dermatomyositis?" was "supported" by the series' cutaneous improvement); a source saying it is "not
# approved" still does (stance.AGAINST).
APPROVAL = re.compile(r"\b(?:approved|approval|licen[sc]ed|authori[sz]ed|FDA|EMA|MHRA|on-label|off-label)\b", re.I)

# The populations a clinical question may ask about, each as the words a source may name it by. A verdict asked for
# one of them that no source names ("Can I take Rinvoq while pregnant?" of a series of ten adults) takes no side:
# the series' findings say nothing about pregnancy. Everyday words ("pregnant", Zipf 4.6; "children", 5.5), so the
# rules for rare missing words never see them.
POPULATIONS: tuple[tuple[str, ...], ...] = (
    ("pregnant", "pregnancy", "pregnancies", "gestation", "gestational", "antenatal", "prenatal", "obstetric", "trimester"),
    ("breastfeeding", "breast-feeding", "breastfed", "lactation", "lactating"),
    ("children", "child", "childhood", "paediatric", "pediatric", "infants", "infant", "newborns", "newborn", "neonates",
     "neonatal", "adolescents", "adolescent", "teenagers", "kids", "juvenile"),
    ("elderly", "geriatric", "octogenarians", "nonagenarians", "older adults", "older patients", "older people"),
)


def asked_populations(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each population of POPULATIONS the question names: the word as it names it, and every word for it."""
    found = []
    for family in POPULATIONS:
        match = re.search(r"\b(?:" + "|".join(re.escape(w) for w in family) + r")\b", question, re.I)
        if match:
            found.append((match.group(), family))
    return found


def benefit_answers(question: str) -> bool:
    """Whether findings of benefit speak to the question: not to one about a harm (`asks_about_harm`) or about approval
    (APPROVAL)."""
    return not asks_about_harm(question) and not APPROVAL.search(question)


# A question whether something lessens a harm asks about a benefit: "Do steroids reduce cochlear toxicity?"
_LESSENS = re.compile(r"\b(?:reduc|prevent|protect|attenuat|lower|decreas|lessen|minimi[sz]|mitigat|avoid|alleviat)\w*", re.I)


def asks_about_harm(question: str) -> bool:
    return bool(HARM.search(question)) and not _LESSENS.search(question)


def without_frames(question: str) -> str:
    """The question without the asking words of frame types ("What is the generic name for Imfinzi?" → "What is the
    for Imfinzi?"): what is left names the topics."""
    for typed in ANSWER_TYPES:
        if typed.frame:
            question = typed.asks.sub(" ", question)
    return question


# Words that only say what kind of answer is wanted, or point at the document itself, never what it is about: "What
# percentage of childhood deaths …", "What is the acronym MERS-CoV?", "What is the focus of this review?". A corpus
# that never uses one of them is not silent on the question (issue 29: one paper alone said "never mention: acronym").
FRAMING = re.compile(
    r"^(?:percent(?:age)?s?|proportions?|fractions?|shares?|acronyms?|abbreviations?|numbers?|amounts?|counts?|rates?|"
    r"ratios?|levels?|main|major|primary|key|role|roles|kinds?|types?|sorts?|forms?|purposes?|aims?|goals?|focus|"
    r"reasons?|examples?|definitions?|meanings?|terms?|topics?|elements?|aspects?|approach(?:es)?|methods?|ways?|"
    r"factors?|significance|importance|conclusions?|publications?|papers?|articles?|reviews?|authors?|studies|study|"
    r"reports?|reported|discuss(?:es|ed)?|summari[sz]e[sd]?|highlight(?:s|ed)?|describe[sd]?|mention(?:s|ed)?|"
    r"consolidated|theori[sz]ed|regarding|current(?:ly)?|possible|potential|called|named)$",
    re.I,
)


# Words that ask for a judgment of what the question names, or of how two things relate: "Is the international
# normalised ratio reliable?", "Nurse cystoscopy: a feasible option?", "Dementia in motor neuron disease: an
# underrecognised association?". A paper answers them with its findings (a correlation of 0.96, an agreement of 0.94,
# 5 of 18 patients demented) and seldom writes the word.
JUDGMENT = re.compile(
    r"^(?:reliab(?:le|ility)|feasib(?:le|ility)|accura(?:te|cy)|worthwhile|worth|justif(?:ied|iable)|necessary|"
    r"beneficial|valid(?:ity)?|appropriate|sufficient|adequate|acceptable|warranted|preferable|advantageous|"
    r"better|worse|best|superior|inferior|equivalent|comparable|similar|different|enough|real|true|"
    r"associat(?:ed|ions?)|relat(?:ed|ions?|ionships?)|link(?:s|ed)?|"
    r"(?:under|over)(?:recogni[sz]ed|diagnosed|estimated|used|treated|utili[sz]ed)|overlooked|unrecogni[sz]ed)$",
    re.I,
)


# Verbs that say what a treatment does to what a question asks about: some say it does good, the rest say which way
# it moves it. Read twice: what follows one in a verdict question is its outcome (`asked_outcome`), and a question word
# that is one of the rest names no topic (compose.EFFECT_VERB: "Does Rinvoq reduce weight loss?" asks about weight
# loss, whether or not the sources write "reduce").
_BENEFIT_VERBS = ("help", "improve", "benefit", "treat", "relieve", "cure", "control")
EFFECT_VERBS = (
    "reduce", "increase", "decrease", "lower", "raise", "prevent", "cause", "affect", "alter", "change", "influence",
    "worsen", "slow", "delay", "induce", "trigger",
)
# A verb of benefit in any form ("cures", "relieved", "controlling": a final e drops, a final l may double): it says
# what a treatment does, not what about, so a corpus that never writes it is not silent on the question ("Does Rinvoq
# cure dermatomyositis?" was "not covered: never mention: cure" of the series that reports improvement and remission).
BENEFIT_VERB = re.compile(
    r"^(?:" + "|".join(verb.removesuffix("e") + ("l?" if verb.endswith("l") else "") for verb in _BENEFIT_VERBS)
    + r")(?:e|es|s|ed|ing)?$",
    re.I,
)
# A verb that claims more than benefit: a verdict on it from findings of improvement overclaims, so when no source
# uses it, no source takes a side ("Does Rinvoq cure dermatomyositis?": no source names "cure").
STRONG_CLAIM = re.compile(r"^(?:cur(?:e|es|ed|ing|ative)|eradicat\w*|eliminat\w*|revers(?:e|es|ed|ing|al))$", re.I)


def is_framing(word: str) -> bool:
    """A question word that only frames the question (FRAMING), asks for a judgment (JUDGMENT), is an answer type's
    asking word ("dose", "where"), a verb of benefit (BENEFIT_VERB) or an adverb (`is_adverb`): it names no topic, so a
    corpus that lacks it is not silent on the question."""
    framing = FRAMING.match(word) or JUDGMENT.match(word) or BENEFIT_VERB.match(word)
    return bool(framing) or any(t.asks.fullmatch(word) for t in ANSWER_TYPES) or is_adverb(word)


ADVERB_LETTERS = 7  # "monthly" and longer: shorter -ly words are mostly adjectives ("costly", "deadly", "oily"); not tuned
# The adjective of a framing adverb is everyday English: "spontaneous" 3.7, "adverse" 3.9, "reliable" 4.3; routes and
# timings are technical ("nasal" 3.5, "topical" 3.4, "intravenous" 3.1, "subcutaneous" 2.8, "preoperative" 2.5) and
# name what is asked: "Can methotrexate be given subcutaneously?" of a corpus that never says so is a gap.
ADVERB_BASE_ZIPF = 3.7


def is_adverb(word: str) -> bool:
    """An adverb of manner made from an everyday adjective ("adversely", "reliably", "significantly"): it says how
    something is asked about, never what ("Does early discharge adversely affect quality of care?" is about quality
    of care). Read from English word frequencies, with no tagger: the word ends in "-ly", the adjective it is made from
    is more common than it ("adverse" 3.9 against "adversely" 3.3), which leaves the nouns and adjectives that only
    end so ("elderly" 4.2 against "elder" 4.1; "assembly", "anomaly": no such adjective), and that adjective is no
    technical word (ADVERB_BASE_ZIPF: "intravenously", "preoperatively" name a route and a time). The cost: an
    everyday adjective's adverb that names a route or a time ("acutely", "systemically") counts as manner."""
    lower = word.lower()
    if len(lower) < ADVERB_LETTERS or not lower.endswith("ly"):
        return False
    return english_zipf(_adjective(lower)) > max(english_zipf(lower), ADVERB_BASE_ZIPF)


def _adjective(adverb: str) -> str:
    """The adjective an "-ly" word is made from: reliably → reliable, heavily → heavy, basically → basic (no
    "basical"), topically → topical, adversely → adverse."""
    if adverb.endswith(("ably", "ibly")):
        return adverb[:-1] + "e"
    if adverb.endswith("ically") and not english_zipf(adverb[:-2]):
        return adverb[:-4]
    if adverb.endswith("ily"):
        return adverb[:-3] + "y"
    return adverb[:-2]


def english_zipf(word: str) -> float:
    """How common a word is in general English (wordfreq's Zipf scale, offline data)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


# A question about the document in view: "What is the focus of this review?", "What have the authors reviewed?".
ABOUT_THE_DOCUMENT = re.compile(
    r"\b(?:this|the|that)\s+(?:review|study|paper|article|publication|report|work|analysis|survey|trial|letter|editorial|"
    r"commentary|chapter|manuscript|abstract)\b|\b(?:the|these)\s+authors?\b",
    re.I,
)


# What a verdict question asks a treatment to do, after its verb ("help", "improve", "cause", "reduce"): up to the
# population or setting that follows ("in", "among", "on", "who", …), a person ("patients", "children") or the end.
_OUTCOME_VERB = re.compile(
    r"\b(?:" + "|".join(f"{verb}s?" for verb in (*_BENEFIT_VERBS, *EFFECT_VERBS)) + r")\s+(?:with\s+|against\s+)?", re.I
)
_OUTCOME_END = re.compile(
    r"\b(?:in|among|amongst|for|on|of|with|without|during|after|before|when|while|who|whose|that|which|if|than|"
    r"versus|vs|compared|patients?|people|persons?|children|adults?|women|men|subjects|individuals|someone|anyone|"
    r"me|him|her|them|us|you)\b|[,;:?.()]",
    re.I,
)
_LEADING = re.compile(r"^(?:(?:the|a|an|any|some|more|less|their|his|her|its|my|your)\s+)+", re.I)


def asked_outcome(question: str) -> str:
    """What a question asking for a verdict wants a treatment to do or not do: "Does Rinvoq help weight loss in
    dermatomyositis?" → "weight loss"; "Can Rinvoq cause cancer in patients with myositis?" → "cancer"; "Does Rinvoq
    help a patient with dermatomyositis?" → "" (a person is no outcome). Empty when no such verb is followed by one."""
    verb = _OUTCOME_VERB.search(question)
    if verb is None:
        return ""
    rest = _LEADING.sub("", question[verb.end() :].lstrip())
    end = _OUTCOME_END.search(rest)
    return rest[: end.start() if end else len(rest)].strip()


def about_the_document(question: str) -> bool:
    return bool(ABOUT_THE_DOCUMENT.search(question))


def answer_types(question: str) -> list[AnswerType]:
    """Every type the question asks for; a treatment question also asks for statistics and harms."""
    found = [t for t in ANSWER_TYPES if t.asks.search(question)]
    if EFFICACY in found:
        found += [t for t in (SIGNIFICANCE, ADVERSE) if t not in found]
    return found


def required_type(question: str) -> AnswerType | None:
    """The first type whose absence from the sources means the question is not answered."""
    return next((t for t in ANSWER_TYPES if t.required and t.asks.search(question)), None)


def aspect_queries(question: str, entities: list[str]) -> list[tuple[AnswerType, str]]:
    """Sub-queries, one per aspect of the question, about its named entities."""
    if not entities:
        return []
    subject = " ".join(entities)
    return [(t, f"{t.probe} {subject}") for t in answer_types(question) if t.probe]


_DOSE_TARGET = (
    re.compile(r"\b(?:dose|doses|dosage|dosing)\s+of\s+(?:the\s+)?([\w-]+)", re.I),
    re.compile(r"\bhow much\s+([\w-]+)", re.I),
    re.compile(r"\b([\w-]+)\s+(?:dose|doses|dosage|dosing)\b", re.I),
    re.compile(r"\bis\s+([\w-]+)\s+dosed\b", re.I),
    re.compile(r"\b(?:dose|doses|dosage|dosing)\s+for\s+(?:the\s+)?([\w-]+)", re.I),
)


_NOT_A_DRUG = {
    "the", "a", "recommended", "usual", "typical", "starting", "daily", "what", "which",
    "it", "its", "they", "them", "this", "that", "these", "those",  # "how is it dosed?": the drug is named elsewhere
}


# A drug or a disease by its word ending (the verifier's names, suggested follow-ups' terms); NOT_NAMES share an ending.
DISEASE_OR_DRUG = re.compile(
    r"\b[a-z]{3,}(?:mab|nib|cept|limus|prine|trexate|phamide|quine|sporine|olone|isone|mycin|cillin|statin|"
    r"itis|osis|pathy|emia|oma)\b",
    re.I,
)
NOT_NAMES = {"diagnosis", "prognosis", "concept", "except", "accept", "intercept", "sympathy", "empathy", "coma"}


# English word frequency, not a setting (see retrieve.UNCOMMON_ZIPF): a dose target rarer than this in English may
# name a drug ("upadacitinib" 0.0); "similarity" (3.6) cannot.
DRUG_ZIPF = 3.0
# Drug names by their USAN/INN stems (-tinib kinase inhibitors, -mab antibodies, …) or a known glossary entry.
DRUG_STEM = re.compile(
    r"(?:inib|mab|olone|isone|trexate|prine|sporine|phosphamide|limus|mofetil|quine|globulin|IVIG|\bIG\b)$", re.I
)


CONDITIONS = Path(__file__).resolve().parent / "models" / "conditions" / "words.txt"  # eval/training/build_conditions.py
CONDITION_PHRASES = CONDITIONS.with_name("phrases.txt")  # conditions named in common words: "heart failure", "back pain"


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@cache
def _condition_stems() -> frozenset[str]:
    return frozenset(_stemmer().stemWords(CONDITIONS.read_text(encoding="utf-8").split()))


@cache
def _phrases() -> re.Pattern[str]:
    phrases = sorted(CONDITION_PHRASES.read_text(encoding="utf-8").splitlines(), key=len, reverse=True)  # longest first
    spelled = (r"[\s-]+".join(map(re.escape, p.split())) for p in phrases if p)  # "back pain", "back-pain"
    return re.compile(r"\b(?:" + "|".join(spelled) + r")\b", re.IGNORECASE)


def condition_phrases(question: str) -> list[str]:
    """The conditions the question names in words each too common in English to count as a topic alone ("Can Rinvoq
    help heart failure?", "back pain", "kidney disease": the shipped phrase lexicon), as written."""
    return [m.group(0) for m in _phrases().finditer(question)]


def names_a_condition_or_drug(word: str) -> bool:
    """A disease or disorder, a rare word of one of MedQuAD's topic names ("psoriasis", "Crohn", "clots": the shipped
    lexicon), or a disease or drug by its ending or stem ("-itis", "-oma", "-mab", "-inib"; not NOT_NAMES)."""
    lower = word.lower()
    if lower in NOT_NAMES:
        return False
    return bool(DISEASE_OR_DRUG.fullmatch(lower) or DRUG_STEM.search(lower)) or _stemmer().stemWord(lower) in _condition_stems()


def dose_target(question: str) -> str | None:
    """The drug a dose question is about: "dose of X", "how much X", "X dose"."""
    for pattern in _DOSE_TARGET:
        match = pattern.search(question)
        if match and match.group(1).lower() not in _NOT_A_DRUG:
            return match.group(1)
    return None


def states_dose_of(text: str, entity_words: list[str]) -> bool:
    """A dose stated for one of the entities: in a table cell whose header starts with it, or in running text."""
    names = [w.lower() for w in entity_words if w]
    if not names or not DOSE.evidence.search(text):
        return False
    if " — " in text and ": " in text:  # a table row: "Header: value; Header: value"
        cells = [c.split(": ", 1) for c in text.split(" — ", 1)[1].split("; ") if ": " in c]
        return any(DOSE.evidence.search(value) and any(header.lower().startswith(n) for n in names) for header, value in cells)
    return any(_names(n, text) for n in names)


def _names(name: str, text: str) -> bool:
    """A long name may sit inside a word ("steroid" in "corticosteroids"); a short one must stand alone."""
    if len(name) >= 5:
        return name in text.lower()
    return bool(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.I))
