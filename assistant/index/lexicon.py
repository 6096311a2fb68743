"""BM25 over chunks (bm25s) plus the term statistics the composer and the absence audit use, and the corpus
vocabulary that misspelt question words are matched against (rapidfuzz)."""

from __future__ import annotations

import bisect
import json
import os
import re
import string
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.tokenization import Tokenizer

_SPLITTER = r"(?u)\b\w\w+\b"
# Greek-derived noun and adjective endings of one medical word that share no stem: sepsis/septic, fibrosis/fibrotic,
# metastasis/metastatic, diagnosis/diagnostic, paralysis/paralytic
_GREEK_PAIRS = (("sis", "tic"), ("tic", "sis"))
_GREEK_ROOT = 3  # letters before the ending: the shortest roots are three ("sep-sis", "eme-sis"); not tuned
# Bound prefixes a corpus may hyphenate ("pre-existing" for "preexisting"): split off even when shorter than min_part.
_PREFIXES = frozenset({"pre", "post", "non", "anti", "co", "re", "sub", "semi", "multi", "inter", "intra", "over", "under", "mid"})
# Greek letters as medical names write them, spelled out or as the letter ("IL-1beta" / "IL-1β", "NF-kappaB" / "NF-κB"):
# a word of the question is also looked for with the other spelling.
_GREEK_LETTERS = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "kappa": "κ", "epsilon": "ε", "lambda": "λ", "theta": "θ"}
_GREEK_SPELLED = re.compile("|".join(_GREEK_LETTERS))
_GREEK_SYMBOL = re.compile("|".join(_GREEK_LETTERS.values()))
_SPELLED_OUT = {symbol: name for name, symbol in _GREEK_LETTERS.items()}
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")  # "21st January" is "January 21"
# A short form in mixed case ("CoV"), which a one-letter qualifier may precede: "nCoV" (novel), "hCoV" (human)
_MIXED_SHORT_FORM = re.compile(r"[A-Z]+[a-z]{1,2}[A-Z]+")


def _greek_respelt(word: str) -> str | None:
    """`word` with its Greek letters spelled the other way ("1beta" → "1β", "κb" → "kappab"), or None if it has none. A
    word that is only a letter's name stays as it is: the tokenizer keeps no one-character word."""
    if word in _GREEK_LETTERS:
        return None
    respelt = _GREEK_SPELLED.sub(lambda m: _GREEK_LETTERS[m.group()], word)
    if respelt == word:
        respelt = _GREEK_SYMBOL.sub(lambda m: _SPELLED_OUT[m.group()], word)
    return respelt if respelt != word else None


def _tokenizer() -> Tokenizer:
    return Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en", splitter=_SPLITTER)


class Lexicon:
    """A BM25 index (Robertson & Zaragoza 2009, Lucene variant as in bm25s) and document frequencies."""

    def __init__(self, tokenizer: Tokenizer, bm25: bm25s.BM25, df: np.ndarray, n_docs: int, folder: Path | None = None) -> None:
        self._tokenizer = tokenizer
        self._stemmer = Stemmer.Stemmer("english")
        self._stopwords = set(tokenizer.stopwords)
        self._bm25 = bm25
        self._df = df
        self.n_docs = n_docs
        self._vocab = tokenizer.get_vocab_dict()  # stem -> id: all a question needs
        self._folder = folder  # where surface.json is read from when a question first needs it
        self._lock = threading.Lock()

    def _drop_word_maps(self) -> None:
        """A loaded index never tokenises documents again: its word -> stem and word -> id maps go (memory)."""
        self._tokenizer.word_to_stem, self._tokenizer.word_to_id = {}, {}

    @classmethod
    def build(cls, texts: list[str]) -> Lexicon:
        tokenizer = _tokenizer()
        tokenized = tokenizer.tokenize(texts, return_as="tuple", show_progress=False)
        ids = tokenized.ids
        bm25 = bm25s.BM25()
        bm25.index(tokenized, show_progress=False)
        vocab_size = len(tokenizer.get_vocab_dict())
        df = np.zeros(vocab_size, dtype=np.int32)
        for row in ids:
            df[np.unique(np.asarray(row, dtype=np.int64))] += 1
        return cls(tokenizer, bm25, df, len(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder), show_progress=False)
        self._tokenizer.save_vocab(str(folder))
        np.save(folder / "df.npy", self._df, allow_pickle=False)
        (folder / "lexicon.json").write_text(json.dumps({"n_docs": self.n_docs, "splitter": _SPLITTER}))
        (folder / "surface.json").write_text(json.dumps(self.surface, ensure_ascii=False))

    @cached_property
    def surface(self) -> dict[str, str]:
        """Each stem's shortest written form in the corpus ("dermatomyos" → "dermatomyositis"): built from the
        tokenizer's word map at ingest, read from surface.json after loading (only when a question needs it)."""
        if self._folder is None:
            forms: dict[str, str] = {}
            for word, stem in self._tokenizer.word_to_stem.items():
                if stem and (stem not in forms or (len(word), word) < (len(forms[stem]), forms[stem])):
                    forms[stem] = word
            return forms
        return dict(json.loads((self._folder / "surface.json").read_text(encoding="utf-8")))

    def closest_term(self, word: str, max_distance: int, keep: Callable[[frozenset[str]], bool] | None = None) -> str | None:
        """The corpus word nearest in spelling to a word the corpus lacks ("rinvok" → "rinvoq"), at most `max_distance`
        edits (rapidfuzz's Levenshtein) from its stem to a corpus stem or from the word to a corpus word as written:
        a typo can break the suffix the stemmer strips ("bacteial" stems to itself, 3 edits from "bacteri", 1 from
        "bacterial"). Ties go to the term in more chunks. (Stems within one edit only, words within `max_distance`,
        was measured too: it drops loose matches such as "sebaceous" → "separate" but also "limtations" → "limit",
        and dev PubMedQA false absences rose 0.02 → 0.03.) `keep`: which stems count (a scope's: those its documents
        use); with it, a word the whole corpus has is matched too, as in `variants`."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        stem = self._stemmer.stemWord(word.lower())
        if max_distance < 1 or (stem in self._vocab and keep is None):
            return None
        with self._lock:  # the first call reads surface.json; the stem and word lists are built once
            surface, stems, words = self.surface, self._stem_list, self._word_list
        found = {}
        for query, choices in ((stem, stems), (word.lower(), words)):
            near = process.extract(query, choices, scorer=Levenshtein.distance, score_cutoff=max_distance, limit=8 if keep is None else None)
            for _, distance, i in near:
                if stems[i][:1] == stem[:1] and stems[i] != stem and (keep is None or keep(frozenset({stems[i]}))):  # typos rarely hit the first letter
                    found[stems[i]] = min(distance, found.get(stems[i], distance))
        if not found:
            return None
        best = min(found, key=lambda s: (found[s], -int(self._df[self._vocab[s]]), s))
        return surface.get(best, best)

    def variants(
        self, word: str, min_stem: int, suffix: int, min_part: int, most: int, keep: Callable[[frozenset[str]], bool] | None = None
    ) -> list[tuple[str, frozenset[str]]]:
        """How the corpus writes a word it lacks, as (corpus form, stems) pairs, most likely first:
        - another form of the same word, when the stemmer leaves the two apart: a corpus stem of the same length
          that differs only in its last letter ("compliant" → "compliance"), or one that the other starts with, the
          longer at most `suffix` letters longer and those letters no corpus word ("compliant" → "comply";
          "childbearing" is no form of "child"); either way the two share their first `min_stem` letters ("remit"
          and "remix" share four);
        - the word split in two corpus words, as hyphenated or spaced spellings write it ("childbearing" → "child
          bearing", "postconditioning" → "post conditioning"), each part at least `min_part` letters or the first a
          bound prefix ("preexisting" → "pre-existing"); the most even split wins;
        - the other of a Greek -sis noun and its -tic adjective ("septic" → "sepsis", "fibrosis" → "fibrotic");
        - a Greek letter spelled the other way ("1beta" → "1β", "κb" → "kappab");
        - the number of an ordinal ("21st" → "21");
        - a short form in mixed case with a one-letter qualifier in front ("CoV" → "nCoV", as a paper on "2019-nCoV"
          writes it; all capitals never: "ACE" is no "face").
        At most `most` pairs. `keep`: which stems count (a scope's: those its documents use); with it, a word the whole
        corpus has is looked up too, since the documents asked about may lack it ("CoV" in a library, of one paper
        that writes "2019-nCoV")."""
        stem = self._stemmer.stemWord(word.lower())
        if not stem or (stem in self._vocab and keep is None):
            return []
        with self._lock:  # the first call reads surface.json and sorts the stems
            surface, stems = self.surface, self._sorted_stems
        found: list[tuple[tuple[int, int], str, frozenset[str]]] = []
        if len(stem) >= min_stem:
            prefix = stem[:min_stem]  # the range of sorted stems that start with it: the candidates share it
            for other in stems[bisect.bisect_left(stems, prefix) : bisect.bisect_right(stems, prefix + "\uffff")]:
                if self._same_word(stem, other, suffix, min_part):
                    shared = len(os.path.commonprefix([stem, other]))
                    found.append(((shared, int(self._df[self._vocab[other]])), surface.get(other, other), frozenset({other})))
        lower = word.lower()
        splits = [
            (lower[:i], lower[i:]) for i in range(2, len(lower) - min_part + 1)
            if (i >= min_part or lower[:i] in _PREFIXES)
            and all(part not in self._stopwords and self._stemmer.stemWord(part) in self._vocab for part in (lower[:i], lower[i:]))
        ]
        if splits:
            left, right = max(splits, key=lambda pair: min(map(len, pair)))
            joined = f"{left}-{right}" if len(left) < min_part else f"{left} {right}"  # a bound prefix is hyphenated
            found.append(((len(lower), 0), joined, frozenset({self._stemmer.stemWord(left), self._stemmer.stemWord(right)})))
        for ending, other in _GREEK_PAIRS:
            if lower.endswith(ending) and len(lower) - len(ending) >= _GREEK_ROOT:
                paired = lower[: -len(ending)] + other
                paired_stem = self._stemmer.stemWord(paired)
                if paired_stem in self._vocab:
                    found.append(((len(lower), 0), paired, frozenset({paired_stem})))
        ordinal = _ORDINAL.fullmatch(lower)
        for other in filter(None, (_greek_respelt(lower), ordinal.group(1) if ordinal else None)):
            if (other_stem := self._stemmer.stemWord(other)) in self._vocab:
                found.append(((len(lower), 0), other, frozenset({other_stem})))
        if _MIXED_SHORT_FORM.fullmatch(word):
            qualified = ((letter + lower, self._stemmer.stemWord(letter + lower)) for letter in string.ascii_lowercase)
            found += [((len(lower), int(self._df[self._vocab[s]])), q, frozenset({s})) for q, s in qualified if s in self._vocab]
        kept = [(form, alt) for _, form, alt in sorted(found, key=lambda f: (-f[0][0], -f[0][1], f[1])) if keep is None or keep(alt)]
        return kept[:most]

    def _same_word(self, stem: str, other: str, suffix: int, min_part: int) -> bool:
        """Two stems of one word that start alike (see `variants`)."""
        short, long = sorted((stem, other), key=len)
        if len(short) == len(long):
            return short[:-1] == long[:-1]
        rest = long[len(short) :]
        return long.startswith(short) and len(rest) <= suffix and not (len(rest) >= min_part and rest in self._vocab)

    @cached_property
    def _sorted_stems(self) -> list[str]:
        return sorted(self._stem_list)

    @cached_property
    def _stem_list(self) -> list[str]:
        return [s for s in self._vocab if s]

    @cached_property
    def _word_list(self) -> list[str]:
        """Each stem of `_stem_list` as the corpus writes it (lower case), in the same order."""
        return [self.surface.get(s, s).lower() for s in self._stem_list]

    @classmethod
    def load(cls, folder: Path) -> Lexicon:
        tokenizer = _tokenizer()
        tokenizer.load_vocab(str(folder))
        # scores memory-mapped (a question reads only its terms' columns); no second stem -> id map (scored by id)
        bm25 = bm25s.BM25.load(str(folder), load_corpus=False, mmap=True, load_vocab=False, allow_pickle=False, show_progress=False)
        df = np.load(folder / "df.npy", allow_pickle=False)
        n_docs = int(json.loads((folder / "lexicon.json").read_text())["n_docs"])
        if not (folder / "surface.json").is_file():
            raise FileNotFoundError(folder / "surface.json")
        lexicon = cls(tokenizer, bm25, df, n_docs, folder)
        lexicon._drop_word_maps()
        return lexicon

    def term_ids(self, text: str) -> list[int]:
        """Known stemmed terms of `text` (stopwords and unseen words dropped), in order, deduplicated."""
        return list(dict.fromkeys(self._vocab[s] for s in self.stems(text) if s and s in self._vocab))

    def stem_ids(self, stems: frozenset[str] | list[str]) -> list[int]:
        """Vocabulary ids of already-stemmed terms that occur in the index."""
        return [self._vocab[s] for s in stems if s and s in self._vocab]

    def stems(self, text: str) -> list[str]:
        """Every stemmed content term of `text`, known to the index or not."""
        words = re.findall(_SPLITTER, text.lower())
        return [self._stemmer.stemWord(w) for w in words if w not in self._stopwords]

    def idf(self, term_id: int) -> float:
        """BM25 idf of a known term."""
        return self.idf_at(float(self._df[term_id]) if term_id < len(self._df) else 0.0)

    def idf_at(self, df: float) -> float:
        """BM25 idf of a term found in `df` chunks, log(1 + (N - df + 0.5) / (df + 0.5))."""
        return float(np.log1p((self.n_docs - df + 0.5) / (df + 0.5)))

    @property
    def unseen_idf(self) -> float:
        """The weight of a word no chunk uses, log(1 + N + 0.5): above any known word's, so that its absence weighs,
        but finite (the formula at df = 0 would double it)."""
        return float(np.log1p(self.n_docs + 0.5))

    def chunk_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each chunk's BM25 term weights (idf x saturated tf, as bm25s scores them), by chunk: `bounds` (chunk c's
        entries are bounds[c]:bounds[c + 1]), term ids, weights. What a remote store's sparse vectors hold."""
        matrix = self._bm25.scores  # by term: data, indices (chunk rows), indptr
        data, rows, indptr = (np.asarray(matrix[key]) for key in ("data", "indices", "indptr"))
        terms = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
        order = np.argsort(rows, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=self.n_docs))])
        return bounds, terms[order], data[order].astype(np.float32)

    def rows_with(self, term_id: int) -> np.ndarray:
        """The chunk rows that hold a term, in order (its postings)."""
        matrix = self._bm25.scores
        indptr = matrix["indptr"]
        return np.asarray(matrix["indices"][indptr[term_id] : indptr[term_id + 1]], dtype=np.int64)

    def scores(self, term_ids: list[int]) -> np.ndarray:
        """BM25 score of every chunk for the given terms."""
        if not term_ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(term_ids), dtype=np.float32)
