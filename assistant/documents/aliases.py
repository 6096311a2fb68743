"""Aliases mined from the corpus itself, for query expansion and for spelling out abbreviations.

Three sources, all read from the documents' text:
- definitions in parentheses, "dermatomyositis (DM)" and "IVIG (Intravenous Immunoglobulin)", matched with
  the Schwartz & Hearst rule (Pac Symp Biocomput 2003: every letter of the short form appears, in order, in
  the long form, the first at a word start);
- name pairs in parentheses, "Rinvoq (upadacitinib)";
- glossaries, "ADM, amyopathic dermatomyositis; AZA, azathioprine; …".
Groups sharing a term are merged, and variants are formed by swapping a known abbreviation for its long form
inside a longer name ("intravenous immunoglobulin" → "intravenous IG").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

_PAREN = re.compile(r"([A-Za-z][\w\-]*(?:\s+[\w\-]+){0,7})\s+\(([^()]{1,60})\)")
_RUN_BEFORE = re.compile(r"[\w\s\-]*")  # matched on the reversed text: the words and spaces just before a "("
_WORD = re.compile(r"\w+")
_ACRONYM = re.compile(r"^[A-Za-z][A-Za-z0-9\-]{0,9}$")
_GLOSSARY_ITEM = re.compile(r"(?:^|;\s+)([A-Z][A-Za-z0-9\-]{0,11}),\s+([^;]{3,80}?)(?=;|\.?$)")
_STOP = {"the", "of", "and", "in", "a", "an", "for", "with", "to", "on", "or", "by", "as", "at", "from", "ie", "eg", "see"}


def is_short_form(term: str) -> bool:
    """An abbreviation: 2–10 chars, at least two capitals, no spaces (DM, IVIG, Anti-MDA5, MMT8)."""
    return bool(_ACRONYM.match(term)) and sum(c.isupper() for c in term) >= 2


def schwartz_hearst(short: str, words: list[str]) -> str | None:
    """The shortest tail of `words` that defines `short`, or None."""
    letters = [c.lower() for c in short if c.isalnum()]
    if not letters or not letters[0].isalpha():
        return None
    limit = min(len(letters) + 5, len(letters) * 2)
    for size in range(1, min(limit, len(words)) + 1):
        candidate = words[-size:]
        if candidate[0].lower() in _STOP:
            continue
        if _letters_match(letters, " ".join(candidate).lower()):
            return " ".join(candidate)
    return None


def spelled_out(short: str, text: str, *, inner: bool = False) -> list[str]:
    """Every run of words in `text` whose initials spell the abbreviation `short`, one word per letter, with
    connecting words ("of", "and") allowed inside: "HMO" in "a health maintenance organization in North Carolina"
    → ["health maintenance organization"]. For an abbreviation the corpus never defines: stricter than
    Schwartz–Hearst (no letters from inside a word; each word of at least three letters and no abbreviation itself),
    as no parenthesis says the words are its long form. A name with digits ("H1N1") is no run of initials.

    With `inner` (a question's words read against an abbreviation its passages use), a word may give one more letter
    from inside it after its initial and two connecting words may follow one another, as writers abbreviate: "PMR"
    in "polymyalgia rheumatica", "TTN" in "transient tachypnea of the newborn"; a run is still two words or more.
    More letters from one word match by chance ("CDASI" in "clots in dermatomyositis")."""
    core = short[:-1] if short.endswith("s") and short[:-1].isupper() else short  # "HMOs": a plural's s
    if not core.isalpha():
        return []
    words = _WORD.findall(text)
    runs = ((start, _spelling_run(core.lower(), words, start, inner, first=True)) for start in range(len(words)))
    return [" ".join(words[start:end]) for start, end in runs if end is not None]


def _spelling_run(letters: str, words: list[str], at: int, inner: bool, *, first: bool = False) -> int | None:
    """Where a run from `words[at]` that spells `letters` ends (see `spelled_out`), or None. Each word gives its
    initial (with `inner`, then perhaps the next letter from inside it); connecting words between, one at a time
    (two with `inner`)."""
    word = words[at] if at < len(words) else ""
    if not word or word[0].lower() != letters[0] or not _spells(word):
        return None
    inside = inner and len(letters) > 1 and letters[1] in word[1:].lower()
    for used in range(1, 2 + inside):
        if used == len(letters):
            return None if first else at + 1
        after = at + 1
        while after <= at + 2 + inner and after < len(words):
            end = _spelling_run(letters[used:], words, after, inner)
            if end is not None:
                return end
            if words[after].lower() not in _STOP:
                break
            after += 1
    return None


def _spells(word: str) -> bool:
    """A word that may give its initial to an abbreviation: a word of three letters or more, no connecting word
    and no abbreviation ("MR" in "magnetic resonance MR")."""
    return len(word) >= 3 and word.isalpha() and word.lower() not in _STOP and not is_short_form(word)


def _letters_match(letters: list[str], long: str) -> bool:
    """Schwartz–Hearst: match short-form letters right-to-left; the first must start a word."""
    pos = len(long) - 1
    for index in range(len(letters) - 1, -1, -1):
        char = letters[index]
        while pos >= 0 and (long[pos] != char or (index == 0 and pos > 0 and long[pos - 1].isalnum())):
            pos -= 1
        if pos < 0:
            return False
        pos -= 1
    return True


@dataclass(slots=True)
class AliasTable:
    """Groups of interchangeable terms, plus the abbreviation glossary (short → long)."""

    groups: list[list[str]] = field(default_factory=list)
    glossary: dict[str, str] = field(default_factory=dict)
    _terms: list[tuple[str, str, list[str]]] = field(init=False, repr=False, compare=False)
    _starting: dict[str, list[int]] = field(init=False, repr=False, compare=False)
    _unindexed: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Every term (longest first), then the two-word tails of long ones ("lung disease" of ILD), with its group;
        sorted once, not on every question."""
        terms = sorted(((t, g) for g in self.groups for t in g), key=lambda tg: -len(tg[0]))
        tails = [(" ".join(t.split()[-2:]), g) for t, g in terms if len(t.split()) >= 3]
        self._terms = [(t, t.lower(), g) for t, g in [*terms, *tails]]
        self._starting: dict[str, list[int]] = {}  # a term's first word → the term's place in `_terms`
        self._unindexed: list[int] = []  # terms that do not start with a word character
        for place, (_, lowered, _) in enumerate(self._terms):
            first = _WORD.match(lowered)
            (self._starting.setdefault(first.group(0), []) if first else self._unindexed).append(place)

    def to_json(self) -> dict[str, object]:
        return {"groups": self.groups, "glossary": self.glossary}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AliasTable:
        groups = [list(map(str, g)) for g in data.get("groups", [])]  # type: ignore[union-attr]
        glossary = {str(k): str(v) for k, v in dict(data.get("glossary", {})).items()}  # type: ignore[arg-type]
        return cls(groups, glossary)

    def expansions(self, text: str) -> list[tuple[str, list[str]]]:
        """For each alias term found in `text`: (the term as written, its other names)."""
        found: list[tuple[str, list[str]]] = []
        claimed: list[tuple[int, int]] = []
        lowered = text.lower()
        places = [p for word in set(_WORD.findall(lowered)) for p in self._starting.get(word, ())]
        for place in sorted(places + self._unindexed):  # only terms whose first word the text has, longest first
            term, term_lower, group = self._terms[place]
            if term_lower not in lowered:  # cheap test first: compiling a pattern per corpus term dominated search()
                continue
            for match in _term_pattern(term).finditer(text):
                if any(s < match.end() and match.start() < e for s, e in claimed):
                    continue
                claimed.append(match.span())
                others = [t for t in group if t.lower() != term.lower()]
                found.append((match.group(0), others))
                break
        return found


def mentions(term: str, text: str) -> bool:
    """Does `text` name `term` as a whole word (short abbreviations case-sensitively, like expansions())?"""
    return bool(_term_pattern(term).search(text))


def _term_pattern(term: str) -> re.Pattern[str]:
    flags = 0 if len(term) <= 3 and is_short_form(term) else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", flags)


def mine_aliases(texts: Iterable[str]) -> AliasTable:
    """Mine alias groups and the glossary from document texts."""
    pairs: list[tuple[str, str]] = []
    glossary: dict[str, str] = {}
    for text in texts:
        for short, long in _parenthetical(text):
            pairs.append((short, long))
            if is_short_form(short) and " " in long or is_short_form(short) and long.islower():
                glossary.setdefault(short, long)
        for short, long in _glossary_items(text):
            if len(short) > 1:  # "M, male" spells out table cells but is too ambiguous to expand queries with
                pairs.append((short, long))
            glossary.setdefault(short, long)
    groups = _merge(pairs)
    groups = _add_variants(groups, glossary)
    return AliasTable(groups=groups, glossary=dict(sorted(glossary.items())))


def defined_in(text: str) -> list[tuple[str, str]]:
    """The (short, long) pairs a text spells out itself: "the international normalised ratio (INR)" → ("INR",
    "international normalised ratio"), as `mine_aliases` reads documents."""
    return list(_parenthetical(text))


def _paren_matches(text: str) -> Iterator[re.Match[str]]:
    """What `_PAREN.finditer(text)` finds, tried only from the run of words before each "(": scanning every
    position of the text tried eight words at each and took most of the ingest time outside embedding."""
    reverse, size = text[::-1], len(text)
    paren = text.find("(")
    while paren >= 0:
        run = _RUN_BEFORE.match(reverse, size - paren).end() - (size - paren)
        match = _PAREN.search(text, paren - run, paren + 62)  # "(", at most 60 characters, ")"
        if match and match.start(2) == paren + 1:  # a leftmost match at a later "(" means none at this one
            yield match
        paren = text.find("(", paren + 1)


def _parenthetical(text: str) -> Iterable[tuple[str, str]]:
    for match in _paren_matches(text):
        before, inside = match.group(1).split(), match.group(2).strip()
        if is_short_form(inside):
            long = schwartz_hearst(inside, before)
            if long and long.lower() != inside.lower():
                yield inside, long
        elif is_short_form(before[-1]) and " " in inside and not re.search(r"\d", inside):
            words = inside.split()
            if _letters_match([c.lower() for c in before[-1] if c.isalnum()], inside.lower()) and len(words) <= 6:
                yield before[-1], inside
        elif re.fullmatch(r"[A-Za-z][a-z]{3,}", inside) and re.fullmatch(r"[A-Za-z][a-z]{3,}", before[-1]):
            if inside[0].isupper() != before[-1][0].isupper():  # brand (Capitalised) ↔ generic (lower case)
                yield before[-1], inside


def _glossary_items(text: str) -> Iterable[tuple[str, str]]:
    for paragraph in text.split("\n\n"):
        items = list(_GLOSSARY_ITEM.finditer(paragraph))
        if len(items) < 3:
            continue
        for item in items:
            short, long = item.group(1), item.group(2).strip()
            if ":" in long or re.search(r"\d", long):
                continue
            if _letters_match([c.lower() for c in short if c.isalpha()][:1], long.lower()):
                yield short, long


def _merge(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Union-find over case-folded terms; each group keeps the first spelling seen of each term."""
    parent: dict[str, str] = {}
    spelling: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for a, b in pairs:
        for term in (a, b):
            spelling.setdefault(_key(term), term)
        parent[find(_key(a))] = find(_key(b))
    groups: dict[str, list[str]] = {}
    for key in spelling:
        groups.setdefault(find(key), []).append(spelling[key])
    return sorted((sorted(g, key=str.lower) for g in groups.values() if len(g) > 1), key=lambda g: g[0].lower())


def _key(term: str) -> str:
    return term if len(term) <= 3 and is_short_form(term) else term.lower()


def _add_variants(groups: list[list[str]], glossary: dict[str, str]) -> list[list[str]]:
    """Add "intravenous IG" beside "intravenous immunoglobulin" when IG = immunoglobulin is known."""
    long_to_short = {long.lower(): short for short, long in glossary.items() if " " not in long}
    out = []
    for group in groups:
        extra = []
        for term in group:
            words = term.split()
            if len(words) < 2:
                continue
            for i, word in enumerate(words):
                short = long_to_short.get(word.lower())
                if short:
                    extra.append(" ".join([*words[:i], short, *words[i + 1 :]]))
        merged = list(dict.fromkeys(group + [e for e in extra if e.lower() not in {t.lower() for t in group}]))
        out.append(merged)
    return out
