"""Cue words: the parts of a question that carry a reading but name nothing in the catalog.

Each cue is found by a pattern over the question with the already placed words masked, and
claims its words: aggregates (total, average, 平均), counts (how many, 多少), rankings (top 5,
the three lowest, 前十), shares and rates, comparisons (vs, 对比), growth, breakdowns (by, per,
each, 各, 按), time grains (monthly, 每月), first/last, never, conditions (over 500), and the
words of a follow-up (only, instead, what about, 只看). Then the listed function words claim what
is left; anything still unclaimed is refused by the planner.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import nl2sql.backends.offline.words as w
from nl2sql.backends.offline.timeexpr_en import number as en_number
from nl2sql.backends.offline.timeexpr_zh import number as zh_number
from nl2sql.backends.offline.tokens import MASK, Coverage

T = MASK + "+"  # a placed term
NUM_EN = r"(?P<n>\d{1,4}|" + "|".join(sorted(w.NUMBER_WORDS, key=len, reverse=True)) + r")"
NUM_ZH = r"(?P<n>\d{1,4}|[一二两三四五六七八九十百]+)"
CLASSIFIER = r"(?:个|名|位|款|家|种|大|条|只|件|类)"


@dataclasses.dataclass
class Cue:
    """A cue word or phrase: its kind, its place, and what it says."""

    kind: str
    start: int
    end: int
    value: str | None = None  # agg: sum|avg|...; rank/price: desc|asc|good|bad; grain: day|week|...
    n: int | None = None  # rank: how many
    cond: tuple[str, float, bool] | None = None  # a condition: (operator, number, written as a percentage)


def number(text: str) -> int | None:
    """'5', 'five', '五', '十' -> the number; None otherwise."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    if text in w.NUMBER_WORDS:
        return w.NUMBER_WORDS[text]
    try:
        return en_number(text)
    except (KeyError, ValueError):
        return zh_number(text)


def _rank_dir(word: str) -> str:
    word = word.lower()
    if word in ("best", "worst", "weakest", "strongest", "leading"):
        return "good" if word in ("best", "strongest", "leading") else "bad"
    if word in w.RANK_ASC_EN or word in ("低", "少", "小", "差", "后", "末"):
        return "asc" if word not in ("差",) else "bad"
    return "good" if word == "好" else "desc"


_RANK_WORDS = "|".join(w.RANK_DESC_EN + w.RANK_ASC_EN + ("strongest",))
_FILLER = "|".join(w.RANK_FILLER)
_AGG_WORDS = "|".join(sorted(w.AGG_EN, key=len, reverse=True))
_COND_WORDS = {"over": ">", "above": ">", "more than": ">", "greater than": ">", "higher than": ">", "exceeding": ">",
               "at least": ">=", "under": "<", "below": "<", "less than": "<", "fewer than": "<", "lower than": "<",
               "at most": "<=", "超过": ">", "大于": ">", "高于": ">", "多于": ">", "不少于": ">=", "至少": ">=",
               "小于": "<", "低于": "<", "少于": "<", "不超过": "<=", "至多": "<="}
_COND_RE = "|".join(sorted((re.escape(k).replace(r"\ ", r"\s+") for k in _COND_WORDS), key=len, reverse=True))
_NUMBER = r"(?P<v>\d+(?:\.\d+)?)\s*(?P<pct>%|percent|pct)?"


def _cond(m: re.Match) -> Cue:
    groups = m.groupdict()
    op = _COND_WORDS.get(" ".join((groups.get("op") or "").split()), groups.get("sym") or "")
    if m.groupdict().get("tail"):
        op = ">=" if re.search(r"more|above|up|over|plus|\+", m.group("tail")) else "<="
    return Cue("cond", m.start(), m.end(), cond=(op, float(m.group("v")), bool(m.group("pct"))))


def _rank(kind_group: str, n_group: str | None) -> Callable[[re.Match], Cue]:
    def make(m: re.Match) -> Cue:
        n = number(m.group(n_group)) if n_group and m.group(n_group) else None
        word = m.group(kind_group) if kind_group in m.groupdict() and m.group(kind_group) else ""
        if word.lower() in ("cheapest", "priciest"):  # "the 5 cheapest products": a listing by price
            return Cue("price", m.start(), m.end(), "asc" if word.lower() == "cheapest" else "desc", n)
        return Cue("rank", m.start(), m.end(), _rank_dir(word) if word else None, n)
    return make


def _simple(kind: str, value: str | None = None) -> Callable[[re.Match], Cue]:
    return lambda m: Cue(kind, m.start(), m.end(), value)


def _grain(m: re.Match) -> Cue:
    unit = next(g for g in m.groups() if g)
    grain = w.GRAINS_EN.get(unit.lower()) or w.GRAINS_ZH.get(unit) or "day"
    return Cue("grain", m.start(), m.end(), grain)


# (pattern, builder), tried in order; each match claims its words
PATTERNS: list[tuple[str, Callable[[re.Match], Cue]]] = [
    (r"\b" + w.META_PREFIX + r"\b(?:" + "|".join(w.META_EN) + r")\b", _simple("meta")),
    # first / last dates, never
    (r"\b(?:first|earliest|oldest)\b|第一次|首次|第一笔|首单|最早", _simple("first", "min")),
    (r"\b(?:last|latest|most\s+recent|newest|final)\b|最后一次|最近一次|最后一笔|最后|最晚|最新|最近",
     _simple("last", "max")),
    (r"\bwhen\b|什么时候|何时", _simple("when")),
    (r"\b(?:" + w.NEVER_EN + r")\b|\b(?:no|without|zero)\b(?=\s*" + MASK + ")|" + "|".join(w.NEVER_ZH),
     _simple("never")),
    # rankings with a number
    (r"\b(?:the\s+)?(?P<k>" + _RANK_WORDS + r"|cheapest|priciest)\s+" + NUM_EN + r"\b(?:\s+(?:" + _FILLER + r"))?",
     _rank("k", "n")),
    (r"\b(?:the\s+)?" + NUM_EN + r"\s+(?P<k>" + _RANK_WORDS + r"|cheapest|priciest)\b(?:\s+(?:" + _FILLER + r"))?",
     _rank("k", "n")),
    (r"\b(?:which|what|list|show|name)\s+(?:are\s+the\s+|were\s+the\s+|the\s+)?" + NUM_EN + r"\b(?=\s*" + MASK + ")",
     _rank("", "n")),
    (r"(?:排名|排行)?(?P<k>前|后)\s*" + NUM_ZH + r"\s*" + CLASSIFIER + r"?", _rank("k", "n")),
    (r"最(?P<k>高|多|大|好|低|少|小|差)(?:的)?\s*(?:" + NUM_ZH + r"\s*" + CLASSIFIER + r"?)?", _rank("k", "n")),
    (r"(?<![\d.])" + NUM_ZH + r"\s*" + CLASSIFIER + r"(?=\s*" + MASK + ")", _rank("", "n")),
    (r"\b(?:the\s+)?(?P<k>" + _RANK_WORDS + r")(?:[\s-]+(?:" + _FILLER + r"))?\b", _rank("k", None)),
    (r"\b(?:most|least)\s+(?P<k>expensive|costly|pricey)\b|\b(?P<j>" + "|".join(w.PRICE_DESC + w.PRICE_ASC) + r")\b",
     lambda m: Cue("price", m.start(), m.end(),
                   "asc" if (m.group("j") in w.PRICE_ASC or m.group(0).startswith("least")) else "desc")),
    # conditions on numbers
    (r"(?:(?P<op>" + _COND_RE + r")|(?P<sym>>=|<=|>|<|=))\s*\$?" + _NUMBER, _cond),
    (r"(?:by\s+)?\$?" + _NUMBER + r"\s+(?P<tail>or\s+(?:more|above|higher|over|less|below|fewer|under)"
     r"|and\s+(?:above|up|over|more|below|under|less)|plus|\+)", _cond),
    # comparisons and growth
    (r"\b(?:compared?\s+(?:to|with)|in\s+comparison\s+(?:to|with)|compare[sd]?|comparing|versus|vs\.?|against"
     r"|relative\s+to)(?!\w)|对比|相比|相较|比较|比一比|(?<!占)比(?!例|重|率)", _simple("compare")),
    (r"\b(?:growth|grow(?:n|ing)?|grew|increase[sd]?|decrease[sd]?|decline[sd]?|change[sd]?|(?:going\s+)?(?:up|down)(?!\s+by))\b"
     r"|(?:增长|增加|下降|减少|变化)了?多少|同比增长|环比增长|"
     r"增长率|增长|增速|涨幅|下降|变化", _simple("growth")),
    (r"\b(?:excluding|exclude|except(?:\s+for)?|other\s+than|not\s+including|apart\s+from|besides|not\s+(?:from|in|on|via"
     r"|through))\b|\b(?:not|isn't|aren't|wasn't|weren't)\b(?=\s+(?:a\s+|an\s+|the\s+)?" + MASK + r")"
     r"|除了|不包括|不含|除外|以外",
     _simple("exclude")),
    # aggregates, counts, shares
    (r"\b(?:" + w.COUNT_EN + r")\b|(?<=" + MASK + r")\s*(?:" + "|".join(w.COUNT_ZH_AFTER) + ")|" +
     "|".join(w.COUNT_ZH), _simple("count")),
    (r"\b(?:" + "|".join(w.DISTINCT_EN) + r")\b|" + "|".join(w.DISTINCT_ZH), _simple("distinct")),
    (r"\bhow\s+much\b", _simple("agg", "sum")),
    (r"\b(?P<a>" + _AGG_WORDS + r")\b(?:\s+of)?", lambda m: Cue("agg", m.start(), m.end(), w.AGG_EN[m.group("a")])),
    ("|".join(sorted(w.AGG_ZH, key=len, reverse=True)), lambda m: Cue("agg", m.start(), m.end(), w.AGG_ZH[m.group(0)])),
    (r"\b(?:share|percentage|percent|pct|proportion|fraction)\b(?:\s+of)?|%|占比|比例|百分比|比重|份额|占",
     _simple("share")),
    (r"\brates?\b|率", _simple("rate")),
    # time grains, trends, breakdowns
    (r"\b(day|week|month|quarter|year)\s+(?:by|over|on|after)\s+(?:day|week|month|quarter|year)\b", _grain),
    (r"\b(?:by|per|each|every|a|for\s+each|for\s+every|in\s+each|across)\s+(?:single\s+)?(day|week|month|quarter"
     r"|year)\b", _grain),
    (r"\b(daily|weekly|monthly|quarterly|yearly|annual|annually)\b", _grain),
    (r"(?:\b(?:which|what)\s+)(day|week|month|quarter|year)\b", _grain),
    (r"(?<=" + MASK + r")\s*(?:,|&|\band\b)\s*(?:by\s+)?(day|week|month|quarter|year)\b"
     r"(?!\s+(?:to|before|of)\b)", _grain),
    (r"(?:按|每一?个?|逐|各个?|分)\s*(天|日|周|星期|月|季度|季|年)(?:度|份)?|(月度|季度|年度)", _grain),
    (r"\b(?:trends?|over\s+time|time\s+series)\b|趋势|走势", _simple("trend")),
    (r"\b(?:sorted|ordered|ranked|sort|rank|order)\s+(?:them\s+|it\s+)?by\b|\b(?:in\s+)?(?:descending|ascending)"
     r"(?:\s+order)?\b|\brank(?:ed|ing)?\b|\bfrom\s+(?:highest|lowest|most|least)\s+to\s+(?:lowest|highest|least|most)\b"
     r"|排序|排名|排行|从高到低|从低到高|降序|升序", _simple("order")),
    (r"单均|每单|每笔订单|每笔", _simple("per_order")),
    (r"\b(?:for\s+each|for\s+every|broken\s+down\s+by|break\s*(?:it\s+|that\s+|this\s+)?down\s+by|split\s+(?:it\s+|that\s+"
     r"|this\s+)?(?:up\s+)?by|grouped\s+by|group\s+by|segmented\s+by|by|per|each|every|across)\b|按照|按|各个|各|每一个|每个|每"
     r"|分别|拆分|细分|分(?=" + MASK + ")", _simple("by")),
    (r"\b(?:dates?|days?|times?)\b", _simple("dateword")),  # 'the first ticket date': only with first/last/when
    # follow-ups and modifiers
    (r"\b(?:only|just|solely|exclusively)\b|只看|仅看|只要|只|仅", _simple("only")),
    (r"\b(?:all|any|everything|anything)\b|全部|所有|全体", _simple("all")),
    (r"\bnew\b|新增|新", _simple("new")),
    (r"\binstead\b|\bmake\s+(?:that|it)\b|\bswitch\s+to\b|\bchange\s+(?:that|it)\s+to\b|换成|改成|改为|换为",
     _simple("instead")),
    (r"^\s*(?:and|what\s+about|how\s+about|now|then|same\s+for|but|ok|okay)\b|^\s*那|呢(?=\W*$)|\balso\b"
     r"|\b(?:the\s+)?same(?:\s+(?:but|thing|again|for))?\b",
     _simple("followup")),
    (r"\b(?:of\s+them|among\s+them|them|they|those|these)\b|他们|其中|这些", _simple("them")),
]
SKIP_WORDS = {"top", "bottom", "highest", "lowest", "most", "least", "best", "worst", "total", "sum", "average",
              "avg", "mean", "median", "max", "min", "maximum", "minimum", "count", "number", "first", "last", "new",
              "all", "only", "share", "percent", "percentage", "rate", "daily", "weekly", "monthly", "yearly", "never"}


def find_cues(cov: Coverage) -> list[Cue]:
    """Every cue in the question's unclaimed words, in order of position; claims their words."""
    cues: list[Cue] = []
    for pattern, build in _compiled():
        masked = cov.masked()
        for m in pattern.finditer(masked):
            if m.end() > m.start() and cov.inside(m.start(), m.end()) and cov.free(m.start(), m.end()):
                cue = build(m)
                cov.claim(cue.start, cue.end, cue.kind)
                cues.append(cue)
                masked = cov.masked()
    cues += _ranked_buckets(cov, cues)
    return sorted(cues, key=lambda c: c.start)


def _ranked_buckets(cov: Coverage, cues: list[Cue]) -> list[Cue]:
    """'the weakest 3 months', 'the busiest day': a time bucket named right after a ranking."""
    found = []
    for cue in [c for c in cues if c.kind == "rank"]:
        m = re.match(r"\s*(day|week|month|quarter|year)s?\b", cov.text[cue.end:], re.I)
        if m and cov.free(cue.end, cue.end + m.end()) and cov.inside(cue.end, cue.end + m.end()):
            found.append(Cue("grain", cue.end + m.start(1), cue.end + m.end(), w.GRAINS_EN[m.group(1).lower()]))
            cov.claim(cue.end, cue.end + m.end(), "grain")
    return found


_CACHE: list[tuple[re.Pattern, Callable[[re.Match], Cue]]] = []


def _compiled() -> list[tuple[re.Pattern, Callable[[re.Match], Cue]]]:
    if not _CACHE:
        _CACHE.extend((re.compile(p, re.I), build) for p, build in PATTERNS)
    return _CACHE


def claim_function_words(cov: Coverage) -> None:
    """Function words (and CJK function phrases) claim what is left; they add no meaning."""
    for t in cov.tokens:
        if cov.claims[t.index] is None and not t.cjk and (t.text in w.FUNCTION_EN or t.lemma in w.FUNCTION_EN
                                                           or t.text.split("'")[0] in w.FUNCTION_EN):
            cov.claims[t.index] = "function"
    masked = cov.masked()
    for phrase in sorted(w.FUNCTION_ZH, key=len, reverse=True):
        start = masked.find(phrase)
        while start >= 0:
            cov.claim(start, start + len(phrase), "function")
            masked = cov.masked()
            start = masked.find(phrase, start + len(phrase))
