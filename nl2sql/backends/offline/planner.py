"""Question -> a small typed Plan, or a refusal naming the words it could not place.

The planner is schema-agnostic: everything it knows about the data comes from the lexicon
(catalog + annotations). Time expressions, grains, top-N and comparison words are parsed by
rules; every other content word must be a schema term, a value, or a known modifier.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import difflib
import re

from nl2sql.backends.offline.lexicon import CJK, Lexicon, Term, column_of, metric_of, singular, table_of, tokens
from nl2sql.core.errors import RefusalError
from nl2sql.data.catalog import Catalog, Column

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

STOP = set("""
a an the of in on at for to from with and or is are was were be been being what which who whom whose how
show me list give tell get find display please i we our us my do does did have has had there their it its
this that these those as into per each every by across all any some than then vs versus compared compare
between since during over under above below more less fewer greater most least top bottom best worst first
last next year years month months quarter quarters week weeks day days daily weekly monthly yearly quarterly
annual annually trend trends time over-time breakdown split broken down total sum average avg mean median max
maximum min minimum highest lowest largest smallest biggest count number many much distinct unique different
overall share percent percentage proportion portion only just also including include included same
when where while whose value values amount level levels so far up current recent latest ytd to-date date
rank ranked ranking order ordered sort sorted descending ascending high low greatest fewest
instead made make placed place bought buy purchased purchase sold sell spent spend generated earned come comes came
signed joined registered happened occurred got see look want know break group grouped split across within
""".split())
NEVER_WORDS = {"never", "no", "without", "not"}
AGG_WORDS = {"total": "sum", "sum": "sum", "average": "avg", "avg": "avg", "mean": "avg", "median": "median",
             "max": "max", "maximum": "max", "highest": "max", "largest": "max", "biggest": "max",
             "min": "min", "minimum": "min", "lowest": "min", "smallest": "min"}
PRICE_WORDS = {"expensive": "desc", "priciest": "desc", "pricey": "desc", "cheap": "asc", "cheapest": "asc",
               "cheaper": "asc", "costliest": "desc", "inexpensive": "asc"}
CN_COUNT = ("数量", "个数", "数目", "总数", "人数")
BREAKDOWN = r"\b(by|per|each|every|across)\b"
CJK_BREAKDOWN = r"各|每个|每|按|分"
CJK_STOP = set(
    "的了是在和与及或吗呢吧啊多少几个各每按分哪些什么有没从到中内"
    "里为总共计数量最高低大小前后名排行看只要显示列出给我们请共过去年月日周天季度"
)
CJK_SHARE = ("占比", "份额", "比例", "百分比")


@dataclasses.dataclass
class Measure:
    """What to compute: a metric, an aggregate of a column, or a count of rows."""

    kind: str  # metric | agg | count
    label: str
    metric: str | None = None
    agg: str | None = None
    table: str | None = None
    column: str | None = None


@dataclasses.dataclass
class Filter:
    """column op value(s)."""

    table: str
    column: str
    op: str  # in, =, >, >=, <, <=
    values: list[object]


@dataclasses.dataclass
class Plan:
    """A typed reading of a question."""

    measures: list[Measure] = dataclasses.field(default_factory=list)
    dims: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    filters: list[Filter] = dataclasses.field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None  # exclusive
    period_label: str | None = None
    grain: str | None = None  # day | week | month | quarter | year
    compare_years: list[int] = dataclasses.field(default_factory=list)
    order: str | None = None  # desc | asc
    limit: int | None = None
    share: bool = False
    list_table: str | None = None
    list_order: tuple[str, str] | None = None  # (column, direction) for listings
    never: tuple[str, str] | None = None  # (entity table, related table)
    assumptions: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Match:
    """A span of the question that was placed."""

    start: int
    end: int
    terms: list[Term]
    text: str


def _refuse(question: str, unplaced: list[str], lexicon: Lexicon, why: str | None = None) -> RefusalError:
    known = lexicon.known_words() + list(lexicon.cjk)
    close: list[str] = []
    for word in unplaced:
        close += difflib.get_close_matches(word, known, n=2, cutoff=0.75)
    words = ", ".join(f"'{w}'" for w in dict.fromkeys(unplaced))
    message = why or f"The offline engine could not place {words} in this database"
    hint = ("Closest known terms: " + ", ".join(dict.fromkeys(close)) + ". " if close else "") + \
        "Rephrase with the names listed by `nl2sql schema`, or use --backend openai for free-form questions."
    return RefusalError(message + ".", hint=hint)


# -- time -------------------------------------------------------------------------------------

def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def parse_time(text: str, plan: Plan, latest: dt.date | None) -> str:
    """Find time ranges, grains and period comparisons in `text`; return it with them blanked."""
    def blank(m: re.Match[str]) -> str:
        return " " * (m.end() - m.start())

    ref = latest or dt.date.today()

    def set_range(start: dt.date, end: dt.date, label: str) -> None:
        plan.start, plan.end, plan.period_label = start, end, label

    # comparisons: 2024 vs 2025, 2024年和2025年
    m = re.search(r"\b(20\d\d|19\d\d)\s*(?:vs\.?|versus|compared (?:to|with)|and|to|对比|和|与)\s*"
                  r"(20\d\d|19\d\d)\b", text)
    if m and re.search(r"\b(vs\.?|versus|compar)|对比|相比", text):
        plan.compare_years = sorted({int(m.group(1)), int(m.group(2))})
        text = text[: m.start()] + blank(m) + text[m.end():]
        text = re.sub(r"\b(vs\.?|versus|compared (?:to|with)|compare)\b|对比|相比", lambda x: blank(x), text)
    # between <month> [year] and <month> [year] / between dates
    m = re.search(r"(?:\b(?:between|from)|从)\s*(\d{4}-\d{2}-\d{2})\s*(?:and|to|until|through|thru|-|–|到|至)\s*"
                  r"(\d{4}-\d{2}-\d{2})\b", text)
    if m:
        a, b = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
        set_range(a, b + dt.timedelta(days=1), f"{a} to {b}")
        text = text.replace(m.group(0), blank(m))
    month_names = "|".join(sorted(MONTHS, key=len, reverse=True))
    m = re.search(rf"\bbetween ({month_names})\.? (?:(\d{{4}}) )?and ({month_names})\.? (\d{{4}})\b", text)
    if m:
        y2 = int(m.group(4))
        y1 = int(m.group(2)) if m.group(2) else y2
        a = dt.date(y1, MONTHS[m.group(1)], 1)
        b = _month_range(y2, MONTHS[m.group(3)])[1]
        set_range(a, b, f"{m.group(1).title()} {y1} to {m.group(3).title()} {y2}")
        text = text.replace(m.group(0), blank(m))
    # month + year: December 2025, dec 2025, 2025年12月, 2025-12
    m = re.search(rf"\b({month_names})\.?,? (\d{{4}})\b", text)
    if m and plan.start is None:
        set_range(*_month_range(int(m.group(2)), MONTHS[m.group(1)]), f"{m.group(1).title()} {m.group(2)}")
        text = text.replace(m.group(0), blank(m))
    m = re.search(r"(\d{4})\s*年\s*(\d{1,2})\s*月(份)?", text)
    if m and plan.start is None:
        set_range(*_month_range(int(m.group(1)), int(m.group(2))), f"{m.group(1)}-{int(m.group(2)):02d}")
        text = text.replace(m.group(0), blank(m))
    # quarters: Q4 2025, 2025 Q4, 2025年第四季度
    m = re.search(r"\bq([1-4])\s*(\d{4})\b|\b(\d{4})\s*q([1-4])\b", text)
    cm = re.search(r"(\d{4})\s*年\s*第?\s*([1-4一二三四])\s*季度", text)
    if (m or cm) and plan.start is None:
        if m:
            q, y = int(m.group(1) or m.group(4)), int(m.group(2) or m.group(3))
            text = text.replace(m.group(0), blank(m))
        else:
            assert cm is not None
            q = int(cm.group(2)) if cm.group(2).isdigit() else CN_NUM[cm.group(2)]
            y = int(cm.group(1))
            text = text.replace(cm.group(0), blank(cm))
        start = dt.date(y, 3 * (q - 1) + 1, 1)
        set_range(start, _month_range(y, 3 * q)[1], f"Q{q} {y}")
    # relative ranges
    rel = [
        (r"\b(?:in )?the (?:last|past) (\d+) days\b|最近\s*(\d+)\s*天|过去\s*(\d+)\s*天",
         lambda m: (ref - dt.timedelta(days=int(next(g for g in m.groups() if g)) - 1), ref + dt.timedelta(days=1),
                    f"the last {next(g for g in m.groups() if g)} days to {ref}")),
        (r"\b(?:last|past|previous) week\b|上周|上个星期",
         lambda m: (ref - dt.timedelta(days=ref.weekday() + 7), ref - dt.timedelta(days=ref.weekday()),
                    "last week (Monday to Sunday)")),
        (r"\bthis week\b|本周|这周",
         lambda m: (ref - dt.timedelta(days=ref.weekday()), ref + dt.timedelta(days=1), "this week")),
        (r"\b(?:last|previous) month\b|上个月|上月",
         lambda m: (*_month_range(ref.year - (ref.month == 1), (ref.month - 2) % 12 + 1), "last month")),
        (r"\bthis month\b|本月|这个月",
         lambda m: (dt.date(ref.year, ref.month, 1), ref + dt.timedelta(days=1), "this month")),
        (r"\b(?:this|current) year\b|\bytd\b|\byear to date\b|今年",
         lambda m: (dt.date(ref.year, 1, 1), ref + dt.timedelta(days=1), f"this year ({ref.year})")),
        (r"\b(?:last|previous) year\b|去年",
         lambda m: (dt.date(ref.year - 1, 1, 1), dt.date(ref.year, 1, 1), f"last year ({ref.year - 1})")),
    ]
    for pattern, make in rel:
        m = re.search(pattern, text)
        if m and plan.start is None:
            start, end, label = make(m)
            set_range(start, end, label)
            text = text.replace(m.group(0), blank(m))
    m = re.search(rf"\bsince ({month_names})\.?(?: (\d{{4}}))?\b", text)
    if m and plan.start is None:
        year = int(m.group(2)) if m.group(2) else (ref.year if MONTHS[m.group(1)] <= ref.month else ref.year - 1)
        set_range(dt.date(year, MONTHS[m.group(1)], 1), ref + dt.timedelta(days=1),
                  f"since {m.group(1).title()} {year}")
        text = text.replace(m.group(0), blank(m))
    # a single day: on 2025-06-09
    m = re.search(r"(?:\bon\s+)?(?<![\d-])(\d{4}-\d{2}-\d{2})(?![\d-])", text)
    if m and plan.start is None:
        day = dt.date.fromisoformat(m.group(1))
        set_range(day, day + dt.timedelta(days=1), str(day))
        text = text.replace(m.group(0), blank(m), 1)
    left = re.search(r"\d{4}-\d{2}-\d{2}", text)
    if left:
        # a date the question names but no pattern placed: refuse rather than ignore it
        raise RefusalError(f"The offline engine could not tell what the date {left.group(0)} limits.",
                           hint="Ask for one range: 'from 2025-06-09 to 2025-06-15', 'on 2025-06-09', 'in June 2025'.")
    # a bare year: in 2025, 2025年
    if plan.start is None and not plan.compare_years:
        m = re.search(r"(?<![\d-])(20\d\d|19\d\d)(?:\s*年(?!\s*\d))?(?![\d-])", text)
        if m:
            y = int(m.group(1))
            set_range(dt.date(y, 1, 1), dt.date(y + 1, 1, 1), str(y))
            text = text.replace(m.group(0), blank(m), 1)
    # grains
    grains = [
        ("day", r"\b(?:by|per|each) day\b|\bdaily\b|\bday by day\b|按天|每天|每日|逐日"),
        ("week", r"\b(?:by|per|each) week\b|\bweekly\b|\bweek by week\b|按周|每周|逐周"),
        ("month", r"\b(?:by|per|each) month\b|\bmonthly\b|\bmonth by month\b|\bmonth over month\b"
                  r"|按月|每月|逐月|月度|各月"),
        ("quarter", r"\b(?:by|per|each) quarter\b|\bquarterly\b|按季度|每季度|各季度|季度"),
        ("year", r"\b(?:by|per|each) year\b|\byearly\b|\bannual(?:ly)?\b|\byear by year\b|\byear over year\b"
                 r"|按年|每年|各年|年度"),
    ]
    for grain, pattern in grains:
        m = re.search(pattern, text)
        if m and plan.grain is None:
            plan.grain = grain
            text = text.replace(m.group(0), blank(m))
    if plan.grain is None and re.search(r"\btrends?\b|\bover time\b|趋势|走势|变化", text):
        span = (plan.end - plan.start).days if plan.start and plan.end else None
        plan.grain = "day" if span is not None and span <= 62 else "week" if span and span <= 120 else "month"
    text = re.sub(r"\btrends?\b|\bover time\b|趋势|走势|变化", lambda x: blank(x), text)
    return text


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if len(text) == 2 and text[0] == "十":
        return 10 + CN_NUM.get(text[1], 0)
    if len(text) == 2 and text[1] == "十":
        return CN_NUM.get(text[0], 0) * 10
    return CN_NUM.get(text)


def parse_ranking(text: str, plan: Plan) -> str:
    """Top / bottom N, share of total; return the text with them blanked."""
    def blank(s: str) -> str:
        return " " * len(s)

    m = re.search(r"\b(top|bottom|best|worst|first|highest|lowest|largest|smallest|biggest)\s+(\d+)\b", text)
    if m:
        plan.limit = int(m.group(2))
        plan.order = "asc" if m.group(1) in ("bottom", "worst", "lowest", "smallest") else "desc"
        text = text.replace(m.group(0), blank(m.group(0)))
    else:
        m = re.search(r"\b(\d+)\s+(most|least|highest|lowest|biggest|largest|smallest|best|worst|top|cheapest|"
                      r"priciest|costliest)\b", text)
        if m:
            plan.limit = int(m.group(1))
            plan.order = "asc" if m.group(2) in ("least", "lowest", "smallest", "worst", "cheapest") else "desc"
            text = text.replace(m.group(0), " " * len(m.group(1)) + " " + m.group(2))
    m = re.search(r"(前|后)\s*(\d+|[一二两三四五六七八九十]+)\s*(名|个|位|款|大)?", text)
    if m:
        n = _cn_number(m.group(2))
        if n:
            plan.limit = n
            plan.order = "asc" if m.group(1) == "后" else "desc"
            text = text.replace(m.group(0), blank(m.group(0)))
    if re.search(r"\b(share|percentage|percent|proportion)\b|%\s*of\b|" + "|".join(CJK_SHARE), text):
        plan.share = True
        text = re.sub(r"\b(share|percentage|percent|proportion)\b|%|" + "|".join(CJK_SHARE),
                      lambda x: blank(x.group(0)),
                      text)
    single = re.search(r"\b(which|what|who)\b|哪", text) and not re.search(
        r"\b(ordered|sorted|order by|sort by|descending|ascending|rank|ranked)\b|排序|排名", text)
    if plan.order is None and re.search(r"\b(most|highest|largest|biggest|best|top)\b|最高|最多|最大|最好", text):
        plan.order = "desc"
        plan.limit = plan.limit or (1 if single else None)
    elif plan.order is None and re.search(r"\b(least|lowest|smallest|fewest|worst|bottom)\b|最低|最少|最小|最差", text):
        plan.order = "asc"
        plan.limit = plan.limit or (1 if single else None)
    return text


# -- words ------------------------------------------------------------------------------------

def match_terms(text: str, lexicon: Lexicon) -> tuple[list[Match], list[str], list[str]]:
    """Greedy longest match of lexicon phrases. Returns (matches, leftover words, all words in order)."""
    matches: list[Match] = []
    # CJK phrases by substring, longest first
    working = text
    for phrase in sorted(lexicon.cjk, key=len, reverse=True):
        start = working.find(phrase)
        while start >= 0:
            matches.append(Match(start, start + len(phrase), lexicon.cjk[phrase], phrase))
            working = working[:start] + " " * len(phrase) + working[start + len(phrase):]
            start = working.find(phrase)
    leftover_cjk = [ch for ch in working if CJK.match(ch) and ch not in CJK_STOP]
    # English tokens with their positions
    words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[a-z0-9]+(?:'[a-z]+)?(?:\.\d+)?", working)]
    lemmas = [singular(w.replace("'s", "")) for _, _, w in words]
    i = 0
    leftover: list[str] = []
    while i < len(words):
        found = None
        for size in range(min(lexicon.max_len, len(words) - i), 0, -1):
            key = tuple(tokens(" ".join(lemmas[i: i + size])))
            if key in lexicon.phrases:
                found = (size, lexicon.phrases[key])
                break
        if found is None and lemmas[i].endswith("ed"):
            for stem in (lemmas[i][:-2], lemmas[i][:-1]):
                if (stem,) in lexicon.phrases:
                    found = (1, lexicon.phrases[(stem,)])
                    break
        if found and all(t.kind == "value" for t in found[1]) and all(
                w in STOP or w in AGG_WORDS for w in lemmas[i: i + found[0]]):
            found = None  # a value that is also a common word ("Average") is not read as a filter
        if found:
            size, terms = found
            matches.append(Match(words[i][0], words[i + size - 1][1], terms, " ".join(w for _, _, w in
                                                                                         words[i: i + size])))
            i += size
            continue
        leftover.append(lemmas[i])
        i += 1
    matches.sort(key=lambda m: m.start)
    return matches, leftover + leftover_cjk, [w for _, _, w in words]


FOLLOW_UP = re.compile(
    r"^\s*(only|just|and|what about|how about|now|instead|split|break|also|but|same|then|limit|show only|"
    r"top \d+ only|exclude|excluding|without)\b|\binstead\b|\bonly\s*\??\s*$|^\s*(只看|只要|仅看|那|换成|改为|再按)")


def is_follow_up(question: str) -> bool:
    """True when a question reads as a revision of the previous one ("only web", "by month instead")."""
    return bool(FOLLOW_UP.search(question.lower()))


def plan_question(question: str, lexicon: Lexicon, latest: dt.date | None, previous: Plan | None = None) -> Plan:
    """Read a question into a Plan, or raise RefusalError naming what could not be placed.

    With `previous`, the question is read as a follow-up that revises that plan: filters are
    added or replaced, the period, grain, dimensions or top-N changed ("by month instead",
    "only for the web channel", "and in 2025?", "top 3 only", "只看企业客户").
    """
    catalog = lexicon.catalog
    plan = Plan()
    text = " " + question.lower().replace("’", "'").replace("?", " ").replace(",", " ") + " "
    text = parse_time(text, plan, latest)
    text = parse_ranking(text, plan)
    comparisons = []
    for m in re.finditer(r"\b(over|above|more than|greater than|at least|under|below|less than|fewer than|at most)\s+"
                         r"\$?(\d+(?:\.\d+)?)\b|(>=|<=|>|<)\s*(\d+(?:\.\d+)?)", text):
        op_word = m.group(1) or m.group(3)
        op = {"over": ">", "above": ">", "more than": ">", "greater than": ">", "at least": ">=", "under": "<",
              "below": "<", "less than": "<", "fewer than": "<", "at most": "<="}.get(op_word, op_word)
        comparisons.append((m.start(), op, float(m.group(2) or m.group(4))))
        text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end():]
    matches, leftover, words = match_terms(text, lexicon)
    price_order = next((PRICE_WORDS[w] for w in words if w in PRICE_WORDS), None)
    unplaced = [w for w in leftover if w not in STOP and w not in AGG_WORDS and w not in PRICE_WORDS
                and w not in NEVER_WORDS and not w.isdigit() and w not in ("s", "t")]
    if unplaced:
        raise _refuse(question, unplaced, lexicon)
    if not matches and previous is None:
        raise _refuse(question, [], lexicon, why="The question names nothing this database holds")

    # -- roles: filters (values), measures (metrics, aggregates, counts), dimensions (columns)
    never = any(w in NEVER_WORDS for w in words) or "从未" in question or "没有" in question
    agg_before = {}
    before_words: dict[int, list[str]] = {}
    previous_end = 0
    for hit in matches:
        # only the words since the previous term qualify this one ("average discount by category")
        before = text[max(previous_end, hit.start - 30): hit.start].split()
        before_words[hit.start] = before
        previous_end = hit.end
        agg = next((AGG_WORDS[w] for w in reversed(before[-3:]) if w in AGG_WORDS), None)
        if agg:
            agg_before[hit.start] = agg
        count_words = r"(how many|number of|count of|count|num)\s*(distinct|unique|different)?\s*$"
        if re.search(count_words, " ".join(before[-4:])):
            agg_before[hit.start] = "count_distinct" if re.search(r"distinct|unique|different", " ".join(before[-2:])) \
                else "count"
        if any(c in text[max(0, hit.start - 4): hit.start] for c in ("平均",)):
            agg_before[hit.start] = "avg"
        if re.search(r"(多少|几个|多少个)\s*$", text[max(0, hit.start - 4): hit.start]):
            agg_before[hit.start] = "count"
    values: dict[tuple[str, str], list[str]] = {}
    entity_tables: list[str] = []
    entity_roles: list[tuple[str, bool]] = []  # (table, preceded by a breakdown word)
    pending: list[tuple[list[Term], bool]] = []  # dimension candidates, with the same flag
    agg_choices: list[tuple[Measure, list[Term]]] = []  # same-named columns an aggregate may mean
    ambiguous_values: list[list[Term]] = []  # a value found in several columns, resolved by the measure
    for position, hit in enumerate(matches):
        following = matches[position + 1] if position + 1 < len(matches) else None
        adjacent = following is not None and all(w in STOP for w in text[hit.end: following.start].split())
        kinds = {t.kind for t in hit.terms}
        metric_terms = [t for t in hit.terms if t.kind == "metric"]
        value_terms = [t for t in hit.terms if t.kind == "value"]
        column_terms = [t for t in hit.terms if t.kind == "column"]
        table_terms = [t for t in hit.terms if t.kind == "table"]
        agg = agg_before.get(hit.start)
        before = before_words.get(hit.start, [])
        if (hit.text.endswith("ed") or never) and table_terms and agg is None:
            # a verb ("ordered", "purchased") names the related table, not a measure
            entity_tables.append(str(table_terms[0].table))
            continue
        if agg in ("count", "count_distinct") and table_terms and not metric_terms:
            plan.measures.append(Measure("count", label=table_terms[0].table or "rows", table=table_terms[0].table))
            continue
        if metric_terms and not (agg == "count_distinct" and column_terms):
            name = metric_terms[0].metric
            if not any(x.metric == name for x in plan.measures):
                plan.measures.append(Measure("metric", label=str(name), metric=name))
            continue
        if value_terms and kinds == {"value"}:
            if len({(v.table, v.column) for v in value_terms}) > 1:
                ambiguous_values.append(value_terms)  # "web": orders.channel or marketing_spend.channel?
            else:
                for t in value_terms:
                    values.setdefault((str(t.table), str(t.column)), []).append(str(t.value))
            continue
        if value_terms and not column_terms and not table_terms:
            t = value_terms[0]
            values.setdefault((str(t.table), str(t.column)), []).append(str(t.value))
            continue
        prior = matches[position - 1] if position > 0 else None
        if hit.text in CN_COUNT and prior is not None and prior.end == hit.start and any(
                t.kind == "table" for t in prior.terms):
            # "客户数量": the number of customers
            table = next(str(t.table) for t in prior.terms if t.kind == "table")
            plan.measures.append(Measure("count", label=table, table=table))
            continue
        if column_terms:
            cols = column_terms
            numeric = [c for c in cols if _col(catalog, c).is_numeric]
            if agg and agg not in ("count", "count_distinct") and numeric:
                c = numeric[0]
                plan.measures.append(Measure("agg", label=f"{agg}_{c.column}", agg=agg, table=c.table, column=c.column))
                agg_choices.append((plan.measures[-1], numeric))
                continue
            own = {(c.table, c.column) for c in cols}
            if adjacent and following is not None and any(
                    t.kind == "value" and (t.table, t.column) in own for t in following.terms):
                continue  # "the city of San Francisco": the column only introduces its value
            if prior is not None and all(w in STOP for w in text[prior.end: hit.start].split()) and any(
                    t.kind == "value" and (t.table, t.column) in own for t in prior.terms):
                continue  # "the web channel": the column only names the value's column
            if agg == "count_distinct" or (agg == "count" and not table_terms):
                c = cols[0]
                plan.measures.append(Measure("agg", label=f"distinct_{c.column}", agg="count_distinct", table=c.table,
                                             column=c.column))
                continue
            comp = next((x for x in comparisons if 0 < x[0] - hit.end <= 3), None)
            if comp is not None:
                numeric = [c for c in cols if _col(catalog, c).is_numeric]
                if numeric:
                    plan.filters.append(Filter(str(numeric[0].table), str(numeric[0].column), comp[1], [comp[2]]))
                    comparisons.remove(comp)
                    continue
            if price_order and _col(catalog, cols[0]).is_numeric and not plan.measures:
                plan.list_order = (f"{cols[0].table}.{cols[0].column}", price_order)
                continue
            # a dimension, resolved once the measure's tables are known
            pending.append((cols, bool(re.search(BREAKDOWN, " ".join(before[-3:])) or
                                       re.search(CJK_BREAKDOWN, text[max(0, hit.start - 3): hit.start]))))
            continue
        if table_terms:
            entity_tables.append(str(table_terms[0].table))
            # "business category": a table name right before another term only qualifies it
            breakdown = bool(re.search(BREAKDOWN, " ".join(before[-2:]))) and not adjacent
            entity_roles.append((str(table_terms[0].table), breakdown))
            continue
    if comparisons:
        raise _refuse(question, [], lexicon, why="The offline engine could not tell which column a number compares")
    bounds = [f for f in plan.filters if f.op != "in"]
    if len(bounds) > 1:
        raise _refuse(question, [], lexicon, why="The offline engine handles one numeric condition per question")
    for table_column, col_values in values.items():
        plan.filters.append(Filter(table_column[0], table_column[1], "in", list(dict.fromkeys(col_values))))

    if previous is not None:
        return _revise(previous, plan, pending, agg_choices, ambiguous_values, question, lexicon)

    # listings and "never"
    if never and not plan.measures and len(entity_tables) >= 2:
        plan.never = (entity_tables[0], entity_tables[1])
        return plan
    if not plan.measures:
        if len(set(entity_tables)) > 1:
            raise _refuse(question, [], lexicon, why="The question relates several tables without saying what "
                          "to compute (count, total, average or a metric)")
        if entity_tables and (plan.order or plan.limit) and not plan.list_order and not any(
                w in PRICE_WORDS for w in words):
            raise _refuse(question, [], lexicon, why="The question ranks rows without naming what to rank them by")
        if entity_tables and (plan.list_order or plan.limit or plan.order or not pending):
            plan.list_table = entity_tables[0]
            _resolve_values(plan, ambiguous_values, [plan.list_table], question, lexicon)
            if price_order and not plan.list_order:
                price_cols = [c for c in catalog.table(plan.list_table).columns  # type: ignore[union-attr]
                              if "price" in c.name.lower() and c.is_numeric]
                if price_cols:
                    plan.list_order = (f"{plan.list_table}.{price_cols[0].name}", price_order)
            return plan
        if entity_tables and pending and all(flag for _, flag in pending):
            # "customers by region": count the entity
            plan.measures.append(Measure("count", label=entity_tables[0], table=entity_tables[0]))
        elif pending:
            raise _refuse(question, [], lexicon, why="The question names columns but no measure to compute "
                          "(say 'how many', 'total', 'average' or a metric)")
        else:
            raise _refuse(question, [], lexicon, why="The question names no measure the offline engine can compute")
    for measure, choices in agg_choices:
        # "average rating of businesses": the column of the table the question names
        preferred = next((c for c in choices if c.table in entity_tables), choices[0])
        measure.table, measure.column = preferred.table, preferred.column
        others = [t for t in entity_tables if t != preferred.table]
        if measure.agg in ("avg", "median") and others and preferred.table not in entity_tables:
            raise _refuse(question, [], lexicon, why=f"'{measure.agg} {preferred.column} of {others[0]}' can mean "
                          f"over every {preferred.table} row or per {others[0]}; the offline engine will not guess")
    measure_tables = measure_table_names(plan, catalog)
    _resolve_values(plan, ambiguous_values, measure_tables, question, lexicon)
    counted = {m.table for m in plan.measures if m.kind == "count"}
    for entity, broken_down in entity_roles:
        # "top 5 products by revenue", "revenue per customer": break down by the entity's name
        if entity not in counted and (plan.limit or plan.order or broken_down):
            label = _label_column(catalog, entity)
            pending.append(([Term("column", table=entity, column=label)], True))
    for cols, _flag in pending:
        choice = _pick_column(cols, measure_tables, catalog)
        if choice is None:
            raise _refuse(question, [], lexicon, why=f"'{cols[0].column}' is in several tables and none joins "
                          "the measure unambiguously")
        column = _col(catalog, Term("column", table=choice[0], column=choice[1]))
        if column.is_numeric and (column.profile.distinct or 0) > 50:
            raise _refuse(question, [], lexicon, why=f"'{choice[1]}' is a measure-like number; the offline engine "
                          "does not break results down by it (say 'total', 'average' or 'max' to aggregate it)")
        if choice not in plan.dims:
            plan.dims.append(choice)
    used = set(measure_tables) | {t for t, _ in plan.dims} | {f.table for f in plan.filters}
    idle = [t for t in dict.fromkeys(entity_tables) if t not in used and not any(
        join_path_exists(catalog, t, u) and t in _between(catalog, used) for u in used)]
    if idle:
        raise _refuse(question, [], lexicon, why=f"The offline engine could not tell what role '{idle[0]}' plays "
                      "in the question")
    unique: list[Measure] = []
    for measure in plan.measures:
        if all(measure.label != u.label for u in unique):
            unique.append(measure)
    plan.measures = unique
    if len(plan.dims) > 2:
        raise _refuse(question, [], lexicon, why="The offline engine breaks results down by at most two columns")
    return plan


def _col(catalog: Catalog, term: Term) -> Column:
    return column_of(catalog, str(term.table), str(term.column))


def measure_table_names(plan: Plan, catalog: Catalog) -> list[str]:
    """The tables the plan's measures read (metric expressions and filters included)."""
    names: list[str] = []
    for m in plan.measures:
        if m.kind == "metric":
            metric = metric_of(catalog, str(m.metric))
            text = f"{metric.sql} {metric.filter or ''}"
            tables = catalog.tables
            names += [t.name for t in tables if re.search(rf"\b{re.escape(t.name)}\.", text)]
        elif m.table:
            names.append(m.table)
    return list(dict.fromkeys(names))


def _pick_column(cols: list[Term], measure_tables: list[str], catalog: Catalog) -> tuple[str, str] | None:
    """Among same-named columns, the one in a measure table, else the one nearest to them."""

    names = {str(c.column).lower() for c in cols}
    for table in measure_tables:  # "渠道" names orders.channel; marketing spend has a channel too
        found = catalog.table(table)
        if found is None:
            continue
        for column in found.columns:
            if column.name.lower() in names:
                return (found.name, column.name)

    for c in cols:
        if c.table in measure_tables:
            return (str(c.table), str(c.column))
    best: tuple[int, tuple[str, str]] | None = None
    for c in cols:
        for name in measure_tables[:1]:
            path = catalog.join_path(name, str(c.table))
            if path and (best is None or len(path) < best[0]):
                best = (len(path), (str(c.table), str(c.column)))
    return best[1] if best else None


def _label_column(catalog: Catalog, table: str) -> str:
    """The column that names a table's rows: a text column called *name* or *title*."""
    t = table_of(catalog, table)
    text = [c for c in t.columns if c.is_text]  # shown to the user only: no model sees offline results
    for c in text:
        if "name" in c.name.lower() or "title" in c.name.lower():
            return c.name
    ids = [c for c in t.columns if c.primary_key or c.name.lower().endswith("id")]
    return (text[0] if text else ids[0] if ids else t.columns[0]).name


def join_path_exists(catalog: Catalog, a: str, b: str) -> bool:
    """True when a relationship path joins a and b."""

    return bool(catalog.join_path(a, b))


def _between(catalog: Catalog, tables: set[str]) -> set[str]:
    """Tables on the join paths between the given tables (they join the query anyway)."""

    names = sorted(tables)
    out: set[str] = set()
    for a in names:
        for b in names:
            if a < b:
                out.update(catalog.join_path(a, b))
    return out


def _resolve_values(plan: Plan, ambiguous: list[list[Term]], measure_tables: list[str], question: str,
                    lexicon: Lexicon) -> None:
    """Turn values found in several columns into a filter on the column nearest the measure."""
    for terms in ambiguous:
        choice = _pick_column(terms, measure_tables, lexicon.catalog)
        if choice is None:
            raise _refuse(question, [], lexicon, why=f"'{terms[0].value}' is a value of several columns and none "
                          "joins the measure")
        wanted: list[object] = [str(t.value) for t in terms if (t.table, t.column) == choice]
        existing = next((f for f in plan.filters if (f.table, f.column) == choice), None)
        if existing is not None:
            existing.values = list(dict.fromkeys([*existing.values, *wanted]))
        else:
            plan.filters.append(Filter(choice[0], choice[1], "in", wanted))


def _revise(previous: Plan, change: Plan, pending: list[tuple[list[Term], bool]],
            agg_choices: list[tuple[Measure, list[Term]]], ambiguous_values: list[list[Term]], question: str,
            lexicon: Lexicon) -> Plan:
    """The previous plan with a follow-up's changes applied."""
    import copy

    catalog = lexicon.catalog
    if previous.list_table or previous.never:
        raise _refuse(question, [], lexicon, why="The offline engine revises aggregate answers only")
    merged = copy.deepcopy(previous)
    instead = bool(re.search(r"\binstead\b|换成|改为", question.lower()))
    changed = False
    for measure, choices in agg_choices:
        measure.table, measure.column = choices[0].table, choices[0].column
    if change.measures:
        merged.measures, changed = change.measures, True
    _resolve_values(change, ambiguous_values, measure_table_names(merged, catalog), question, lexicon)
    for f in change.filters:
        merged.filters = [g for g in merged.filters if (g.table, g.column) != (f.table, f.column)] + [f]
        changed = True
    if change.start:
        merged.start, merged.end, merged.period_label = change.start, change.end, change.period_label
        merged.compare_years, changed = [], True
    if change.compare_years:
        merged.compare_years, merged.start, merged.end, changed = change.compare_years, None, None, True
    if change.limit or change.order:
        merged.limit = change.limit or merged.limit
        merged.order, changed = change.order or merged.order, True
    if change.share:
        merged.share, changed = True, True
    measure_tables = measure_table_names(merged, catalog)
    new_dims = []
    for cols, _flag in pending:
        choice = _pick_column(cols, measure_tables, catalog)
        if choice is None:
            raise _refuse(question, [], lexicon, why=f"'{cols[0].column}' does not join the previous measure")
        new_dims.append(choice)
    if change.grain:
        if instead or (not new_dims and merged.dims and merged.grain is None and re.search(r"\bby\b|按", question)):
            merged.dims = [] if instead else merged.dims
        merged.grain, changed = change.grain, True
    if new_dims:
        merged.dims = new_dims if instead else list(dict.fromkeys(merged.dims + new_dims))
        changed = True
    if not changed:
        raise _refuse(question, [], lexicon, why="The offline engine could not tell what to change in the previous "
                      "answer")
    if len(merged.dims) > 2:
        raise _refuse(question, [], lexicon, why="The offline engine breaks results down by at most two columns")
    return merged
