"""The question's tokens and what consumed each one: the coverage invariant.

Every token (an English word, a number, '%', one CJK character) must be claimed by something
that gives it a meaning: a time expression, a catalog term, a cue word, or a listed function
word. Whatever is left over is named in a refusal, with the nearest terms the catalog knows.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata

from nl2sql.core.errors import RefusalError

MASK = "\ue000"  # stands for a claimed character in Coverage.masked()
CJK = re.compile(r"[\u4e00-\u9fff]")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?(?:\.[0-9]+)?|%|[\u4e00-\u9fff]")
_IRREGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman", "sales": "sales",
              "series": "series", "status": "status", "analysis": "analysis", "business": "business",
              "address": "address", "campus": "campus", "news": "news", "plus": "plus", "this": "this", "its": "its",
              "was": "was", "has": "has", "does": "does", "is": "is", "us": "us", "less": "less", "across": "across"}


def singular(word: str) -> str:
    """A crude English lemma: plural nouns to singular (categories -> category)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalize(question: str) -> str:
    """Lower case, full-width forms folded, curly quotes straightened; every character keeps its place."""
    out = []
    for ch in question:
        folded = unicodedata.normalize("NFKC", ch).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out).replace("’", "'").replace("‘", "'")


def words(text: str) -> list[str]:
    """Lemmas of a name or phrase: underscores and camelCase split, CJK characters one by one."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).replace("_", " ")
    return [singular(t) for t in _TOKEN.findall(normalize(text))]


@dataclasses.dataclass(frozen=True)
class Token:
    """One token of the question, with its place in the normalized text."""

    index: int
    start: int
    end: int
    text: str
    lemma: str

    @property
    def cjk(self) -> bool:
        """True for a CJK character."""
        return bool(CJK.match(self.text))


def tokenize(text: str) -> list[Token]:
    """The tokens of a normalized question."""
    return [Token(i, m.start(), m.end(), m.group(0), singular(m.group(0)))
            for i, m in enumerate(_TOKEN.finditer(text))]


class Coverage:
    """Which part of the reading claimed each token (None: not yet placed)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.claims: list[str | None] = [None] * len(self.tokens)

    def inside(self, start: int, end: int) -> list[Token]:
        """The tokens within [start, end)."""
        return [t for t in self.tokens if t.start >= start and t.end <= end]

    def free(self, start: int, end: int) -> bool:
        """True when no token within [start, end) is claimed yet."""
        return all(self.claims[t.index] is None for t in self.inside(start, end))

    def claim(self, start: int, end: int, by: str) -> None:
        """Claim every unclaimed token within [start, end)."""
        for t in self.inside(start, end):
            if self.claims[t.index] is None:
                self.claims[t.index] = by

    def masked(self) -> str:
        """The text with every claimed token's characters replaced by MASK."""
        chars = list(self.text)
        for t in self.tokens:
            if self.claims[t.index] is not None:
                chars[t.start:t.end] = MASK * (t.end - t.start)
        return "".join(chars)

    def leftover(self) -> list[Token]:
        """Tokens nothing claimed."""
        return [t for t in self.tokens if self.claims[t.index] is None]

    def leftover_words(self) -> list[str]:
        """Leftover tokens as words: neighbouring CJK characters joined."""
        out: list[str] = []
        last: Token | None = None
        for t in self.leftover():
            if last is not None and t.cjk and last.cjk and last.end == t.start:
                out[-1] += t.text
            else:
                out.append(t.text)
            last = t
        return list(dict.fromkeys(out))


def refuse(words: list[str], known: list[str], why: str | None = None) -> RefusalError:
    """A refusal that names the words not placed and the closest terms the catalog knows."""
    close: list[str] = []
    for word in words:
        pool = [k for k in known if bool(CJK.search(k)) == bool(CJK.search(word))]
        close += difflib.get_close_matches(word, pool, n=3, cutoff=0.6)
    named = ", ".join(f"'{w}'" for w in words)
    message = why or f"The offline engine could not place {named} in this database"
    hint = ("Closest known terms: " + ", ".join(dict.fromkeys(close)) + ". " if close else "") + \
        "Rephrase with the names listed by `nl2sql schema`, or use --backend openai for free-form questions."
    return RefusalError(message.rstrip(".") + ".", hint=hint)
