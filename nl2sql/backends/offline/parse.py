"""Question -> Parse: every token placed (time, catalog term, fact verb, cue, function word) or refused.

The order is fixed: time expressions first (they hold numbers and month names), then catalog
terms, then verbs that point at the fact table ("sold", 购买), then cue words, then function
words. A token nothing claimed is a word the engine does not understand: the question is
refused with that word and the nearest known terms, never answered without it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import nl2sql.backends.offline.words as w
from nl2sql.backends.offline.cues import SKIP_WORDS, Cue, claim_function_words, find_cues
from nl2sql.backends.offline.lexicon import Lexicon, Term, metric_of
from nl2sql.backends.offline.match import Hit, match_terms
from nl2sql.backends.offline.timeexpr import TimeMatch, find_time
from nl2sql.backends.offline.tokens import Coverage, normalize, refuse


@dataclasses.dataclass
class Parse:
    """A question with every token placed."""

    question: str
    text: str
    hits: list[Hit]
    cues: list[Cue]
    times: list[TimeMatch]
    cov: Coverage
    lexicon: Lexicon
    as_of: dt.date

    def of(self, *kinds: str) -> list[Cue]:
        """The cues of these kinds, in order."""
        return [c for c in self.cues if c.kind in kinds]

    def has(self, *kinds: str) -> bool:
        """True when a cue of one of these kinds is present."""
        return any(c.kind in kinds for c in self.cues)

    def quiet(self, start: int, end: int, allowed: tuple[str, ...] = ()) -> bool:
        """True when [start, end) holds only function words and cues of the allowed kinds (no term, no time)."""
        for t in self.cov.inside(start, end):
            claim = self.cov.claims[t.index]
            if claim not in ("function", *allowed):
                return False
        return True

    def next_hit(self, pos: int, allowed: tuple[str, ...] = ()) -> Hit | None:
        """The first term at or after pos, when only function words and allowed cues lie between."""
        hit = next((h for h in self.hits if h.start >= pos), None)
        return hit if hit is not None and self.quiet(pos, hit.start, allowed) else None

    def prev_hit(self, pos: int, allowed: tuple[str, ...] = ()) -> Hit | None:
        """The last term ending at or before pos, when only function words and allowed cues lie between."""
        hit = next((h for h in reversed(self.hits) if h.end <= pos), None)
        return hit if hit is not None and self.quiet(hit.end, pos, allowed) else None

    def cue_before(self, hit: Hit, kinds: tuple[str, ...], allowed: tuple[str, ...] = ()) -> Cue | None:
        """The nearest cue of these kinds before a term, with only function words (and allowed cues) between."""
        for cue in reversed(self.cues):
            if cue.end <= hit.start and cue.kind in kinds and self.quiet(cue.end, hit.start, allowed + kinds):
                return cue
        return None

    def words(self) -> str:
        """The question's text with time expressions removed (for messages)."""
        return self.text


def _fact_term(lexicon: Lexicon, nouns: tuple[str, ...]) -> Term | None:
    """The table a fact verb points at: the table (or the metric's first dated table) named by its noun."""
    for noun in nouns:
        terms = lexicon.cjk.get(noun) if not noun.isascii() else lexicon.phrases.get(tuple(noun.split()))
        for term in terms or []:
            if term.kind == "table":
                return term
        for term in terms or []:
            if term.kind == "metric":
                metric = metric_of(lexicon.catalog, str(term.metric))
                for table in lexicon.catalog.tables:
                    if f"{table.name}." in metric.sql + (metric.filter or "") and any(
                            c.is_temporal for c in table.columns):
                        return Term("table", table=table.name)
    return None


def _fact_verbs(cov: Coverage, lexicon: Lexicon) -> list[Hit]:
    """'sold', 'bought', 售出, 购买: the fact table they point at, as a verb hit."""
    hits = []
    for t in cov.tokens:
        noun = w.FACT_VERBS_EN.get(t.text)
        if cov.claims[t.index] is None and noun:
            term = _fact_term(lexicon, (noun, *w.FACT_NOUNS))
            if term is not None:
                hits.append(Hit(t.start, t.end, t.text, [term], verb=True))
                cov.claim(t.start, t.end, "term")
    masked = cov.masked()
    for verb in sorted(w.FACT_VERBS_ZH, key=len, reverse=True):
        start = masked.find(verb)
        term = _fact_term(lexicon, w.FACT_NOUNS_ZH + w.FACT_NOUNS) if start >= 0 else None
        while start >= 0 and term is not None:
            hits.append(Hit(start, start + len(verb), verb, [term], verb=True))
            cov.claim(start, start + len(verb), "term")
            masked = cov.masked()
            start = masked.find(verb)
    return hits


def parse_question(question: str, lexicon: Lexicon, as_of: dt.date) -> Parse:
    """Place every token of the question, or raise RefusalError naming the words left over."""
    text = normalize(question)
    cov = Coverage(text)
    times = find_time(text, as_of)
    for m in times:
        cov.claim(m.span[0], m.span[1], "time")
    skip = set(w.FUNCTION_EN) | SKIP_WORDS
    hits = match_terms(cov, lexicon, skip)
    hits = sorted(hits + _fact_verbs(cov, lexicon), key=lambda h: h.start)
    cues = find_cues(cov)
    claim_function_words(cov)
    left = cov.leftover_words()
    if left:
        raise refuse(left, lexicon.known_words())
    return Parse(question, text, hits, cues, times, cov, lexicon, as_of)
