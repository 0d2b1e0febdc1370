"""Catalog terms in a question: the longest lexicon phrases over the tokens nothing claimed yet.

English phrases match by lemma sequence, with a verb's stem ("priced" -> price, "ordered" ->
order), a phrase written as two words ("signed up" -> signup) and irregular verbs; CJK phrases
by their characters, plus the one-character short forms after 各/每 (各国 -> 国家).
"""

from __future__ import annotations

import dataclasses

from nl2sql.backends.offline.lexicon import Lexicon, Term
from nl2sql.backends.offline.tokens import Coverage, Token

_IRREGULAR_VERBS = {"sold": "sell", "bought": "buy", "spent": "spend", "paid": "pay", "made": "make", "sent": "send",
                    "shipped": "ship", "signed": "sign", "got": "get", "brought": "bring"}


@dataclasses.dataclass
class Hit:
    """A span of the question placed as a catalog term (one or several candidate meanings)."""

    start: int
    end: int
    text: str
    terms: list[Term]
    plural: bool = False  # the last word was a plural ("products")
    verb: bool = False  # matched through a verb form ("ordered", "sold", 购买)

    def of(self, kind: str) -> list[Term]:
        """The candidate terms of one kind."""
        return [t for t in self.terms if t.kind == kind]

    @property
    def kinds(self) -> set[str]:
        """The kinds of the candidate meanings."""
        return {t.kind for t in self.terms}


def _variants(token: Token) -> list[tuple[str, bool]]:
    """(lemma, is a verb form) for one token, most literal first."""
    word, out = token.text, [(token.lemma, False)]
    if word in _IRREGULAR_VERBS:
        out.append((_IRREGULAR_VERBS[word], True))
    if len(word) > 4 and word.endswith("ed"):
        out += [(word[:-2], True), (word[:-1], True)]
        if word[-3] == word[-4]:
            out.append((word[:-3], True))  # shipped -> ship
    if len(word) > 5 and word.endswith("ing"):
        out += [(word[:-3], True), (word[:-3] + "e", True)]
    return out


def _runs(cov: Coverage, cjk: bool) -> list[list[Token]]:
    """Runs of consecutive unclaimed tokens (English or CJK)."""
    runs: list[list[Token]] = []
    for t in cov.tokens:
        usable = cov.claims[t.index] is None and t.cjk == cjk
        if usable and runs and runs[-1][-1].index == t.index - 1:
            runs[-1].append(t)
        elif usable:
            runs.append([t])
    return runs


def _english(run: list[Token], i: int, lexicon: Lexicon, skip: set[str]) -> tuple[int, list[Term], bool] | None:
    """The longest phrase starting at run[i]: (length, terms, via a verb form)."""
    for size in range(min(lexicon.max_len, len(run) - i), 0, -1):
        window = run[i: i + size]
        heads = tuple(t.lemma for t in window[:-1])
        for lemma, verb in _variants(window[-1]):
            key = (*heads, lemma)
            terms = lexicon.phrases.get(key)
            if terms and not (all(w in skip for w in key) and size == 1 and not verb):
                return size, terms, verb
        if size == 2:
            for lemma, verb in _variants(window[0]):
                joined = lexicon.phrases.get((lemma + window[1].lemma,))
                if joined:
                    return 2, joined, verb  # "sign up" -> signup, "sub category" -> subcategory
    return None


def _cjk(run: list[Token], i: int, lexicon: Lexicon, text: str) -> tuple[int, list[Term]] | None:
    chars = "".join(t.text for t in run)
    for size in range(min(len(chars) - i, 12), 0, -1):
        terms = lexicon.cjk.get(chars[i: i + size])
        if terms:
            return size, terms
    before = text[run[i].start - 1] if run[i].start else ""
    if before and before in "各每":
        # 各国 -> 国家, 各省 -> 省份: the one-character short form of exactly one column's name
        columns = {(t.table, t.column): t for name, terms in lexicon.cjk.items() for t in terms
                   if t.kind == "column" and len(name) == 2 and name[0] == chars[i] and name[1] in "家份"}
        if len(columns) == 1:
            return 1, list(columns.values())
    return None


def match_terms(cov: Coverage, lexicon: Lexicon, skip: set[str]) -> list[Hit]:
    """Place catalog terms over the unclaimed tokens, longest first; claims what it places.

    `skip` holds cue and function words: a one-word phrase made of one is not read as a term
    (a value 'All' or 'Top' in some column must not swallow the word).
    """
    hits: list[Hit] = []
    for run in _runs(cov, cjk=False):
        i = 0
        while i < len(run):
            found = _english(run, i, lexicon, skip)
            if found is None:
                i += 1
                continue
            size, terms, verb = found
            first, last = run[i], run[i + size - 1]
            hits.append(Hit(first.start, last.end, cov.text[first.start:last.end], terms,
                            plural=last.lemma != last.text and not last.text.endswith("'s"), verb=verb))
            i += size
    for run in _runs(cov, cjk=True):
        i = 0
        while i < len(run):
            found_cjk = _cjk(run, i, lexicon, cov.text)
            if found_cjk is None:
                i += 1
                continue
            size, terms = found_cjk
            hits.append(Hit(run[i].start, run[i + size - 1].end, cov.text[run[i].start:run[i + size - 1].end], terms))
            i += size
    for hit in hits:
        cov.claim(hit.start, hit.end, "term")
    return sorted(hits, key=lambda h: h.start)
