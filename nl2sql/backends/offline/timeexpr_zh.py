"""Simplified-Chinese time expressions for timeexpr: patterns that turn a match into a spec tuple.

Data only: no calendar arithmetic here (timeexpr resolves the specs). A spec is a tuple whose first
item names its kind; see timeexpr._RESOLVERS. A year slot holds an int (2025), a relative offset as a
string ("+0" this year, "-1" last year) or None (no year said: the most recent one that has started).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Spec = tuple
Builder = Callable[[re.Match], "Spec | None"]

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUM = r"[零〇一二两三四五六七八九十百\d]+"
UNITS = {"天": "day", "日": "day", "周": "week", "星期": "week", "礼拜": "week", "月": "month", "个月": "month",
         "季度": "quarter", "季": "quarter", "年": "year"}
UNIT = r"(?P<u>天|日|周|星期|礼拜|个?月|季度|季|年)"
REL_YEARS = {"今年": "+0", "本年": "+0", "本年度": "+0", "去年": "-1", "上年": "-1", "上一年": "-1",
             "上年度": "-1", "前年": "-2", "明年": "+1", "下一年": "+1"}
YEAR_PREFIX = r"(?:(?P<y>(?:19|20)\d\d)\s*年度?|(?P<ry>今年|本年度?|去年|上一?年度?|前年|明年|下一年))"
MONTH = r"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
DAY = r"(?P<d>3[01]|[12]\d|0?[1-9]|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
WEEK = r"(?:周|星期|礼拜)(?![一二三四五六日天末])"
NOT_PART = r"(?![底末初中旬])"  # 月底, 月初, 上旬 ... are not whole months: leave them unmatched
WHOLE = r"(?:全年|整年)?"  # 去年全年 = 去年


def number(text: str) -> int | None:
    """'12' -> 12, '十二' -> 12, '二十四' -> 24, '两' -> 2, '一百' -> 100; None if not a number."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in DIGITS:
            current = DIGITS[ch]
        elif ch in "十百":
            total += (current or 1) * (10 if ch == "十" else 100)
            current = 0
        else:
            return None
    return total + current or None


def year_of(m: re.Match) -> int | str | None:
    groups = m.groupdict()
    if groups.get("y"):
        return int(groups["y"])
    if groups.get("ry"):
        return REL_YEARS[groups["ry"]]
    return None


def _unit(m: re.Match) -> str:
    return UNITS[m.group("u")]


def _quarter(m: re.Match) -> Spec | None:
    prefix, suffix = m.group("qp"), m.group("qs")
    if (prefix == "第" and not suffix) or (prefix not in (None, "第") and suffix) or (not prefix and suffix != "季度"):
        return None  # 第三季度, 第三季, 三季度, Q3; not 三季 or Q3季度
    if prefix not in (None, "第") and not m.group("q").isdigit():
        return None
    bare = m.group("y") is None and m.group("ry") is None and prefix is None
    if bare and m.start() and m.string[m.start() - 1] in "前后近头":
        return None  # 前三季度 is "the first three quarters", resolved as a suffix of a year
    q = number(m.group("q"))
    return ("cal", "quarter", q, year_of(m))


def _month(m: re.Match) -> Spec | None:
    month = number(m.group("m"))
    if m.group("y") is None and m.group("ry") is None and m.start() and m.string[m.start() - 1] in "近前后头第个":
        return None
    return ("cal", "month", month, year_of(m)) if month and month <= 12 else None


def _day(m: re.Match) -> Spec | None:
    month, day = number(m.group("m")), number(m.group("d"))
    return ("date", month, day, year_of(m)) if month and day else None


def _last_n(m: re.Match) -> Spec | None:
    n = number(m.group("n"))
    return ("lastn", _unit(m), n) if n else None


def _next_n(m: re.Match) -> Spec | None:
    n = number(m.group("n"))
    return ("nextn", _unit(m), n) if n else None


def _days_ago(m: re.Match) -> Spec | None:
    n = number(m.group("n"))
    return ("daysago", n) if n else None


HOLIDAYS = {"黑色星期五": "black friday", "黑五": "black friday", "圣诞节": "christmas", "圣诞": "christmas",
            "平安夜": "christmas eve", "元旦": "new year's day", "情人节": "valentine's day", "双十一": "singles' day",
            "双11": "singles' day", "万圣节": "halloween", "感恩节": "thanksgiving"}
PATTERNS: list[tuple[str, Builder]] = [
    (r"今天|今日", lambda m: ("day", 0)),
    (r"昨天|昨日", lambda m: ("day", -1)),
    (r"大前天", lambda m: ("day", -3)),
    (r"前天", lambda m: ("day", -2)),
    (r"明天|明日", lambda m: ("day", 1)),
    (r"(?:本|这个?|当)" + WEEK, lambda m: ("rel", "week", 0)),
    (r"上上个?" + WEEK, lambda m: ("rel", "week", -2)),
    (r"上一?个?" + WEEK, lambda m: ("rel", "week", -1)),
    (r"下一?个?" + WEEK, lambda m: ("rel", "week", 1)),
    (r"(?:本|这个?|当)月份?" + NOT_PART, lambda m: ("rel", "month", 0)),
    (r"上上个?月份?" + NOT_PART, lambda m: ("rel", "month", -2)),
    (r"上一?个?月份?" + NOT_PART, lambda m: ("rel", "month", -1)),
    (r"下一?个?月份?" + NOT_PART, lambda m: ("rel", "month", 1)),
    (r"(?:本|这个?|当)季度?" + NOT_PART, lambda m: ("rel", "quarter", 0)),
    (r"上一?个?季度?" + NOT_PART, lambda m: ("rel", "quarter", -1)),
    (r"下一?个?季度?" + NOT_PART, lambda m: ("rel", "quarter", 1)),
    (r"(?:今年|本年度?)" + WHOLE, lambda m: ("rel", "year", 0)),
    (r"(?:去年|上一?年度?)" + WHOLE, lambda m: ("rel", "year", -1)),
    (r"前年" + WHOLE, lambda m: ("rel", "year", -2)),
    (r"(?:明年|下一年)" + WHOLE, lambda m: ("rel", "year", 1)),
    (r"(?<!\d)(?P<y>(?:19|20)\d\d)\s*(?:财年|年度|年)(?!\d)" + NOT_PART + WHOLE, lambda m: ("year", int(m.group("y")))),
    (r"(?:最近|近|过去的?)半年", lambda m: ("lastn", "month", 6)),
    (r"(?:" + YEAR_PREFIX + r"的?)?(?P<h>上|下)半年",
     lambda m: ("cal", "half", 1 if m.group("h") == "上" else 2, year_of(m))),
    (r"(?:" + YEAR_PREFIX + r"的?)?(?P<qp>第|[Qq])?(?P<q>[一二三四1-4])(?P<qs>季度|季)?(?![\d月])", _quarter),
    (r"(?:" + YEAR_PREFIX + r"的?)?(?<!\d)" + MONTH + r"月份?" + NOT_PART, _month),
    (r"(?:" + YEAR_PREFIX + r"的?)?(?<!\d)" + MONTH + "月" + DAY + r"[日号]", _day),
    (r"(?:最近|近|过去的?|往前)(?P<n>" + NUM + r")个?" + UNIT, _last_n),
    (r"(?:未来|接下来的?|今后)(?P<n>" + NUM + r")个?" + UNIT, _next_n),
    (r"(?P<n>" + NUM + r")天(?:以前|之前|前)", _days_ago),
    (r"(?:今年|本年度?|年初)(?:以来|至今|迄今)", lambda m: ("todate", "year")),
    (r"(?:本季度?|这个?季度|季初)(?:以来|至今|迄今)", lambda m: ("todate", "quarter")),
    (r"(?:本月|这个?月|月初)(?:以来|至今|迄今)", lambda m: ("todate", "month")),
    (r"(?:本周|这周|这个星期|周初)(?:以来|至今|迄今)", lambda m: ("todate", "week")),
    (r"(?:去年|上一?年)同期", lambda m: ("shift", -1)),
    (r"前年同期", lambda m: ("shift", -2)),
    (r"同比", lambda m: ("shift", -1)),
    (r"环比|上一期", lambda m: ("before", "period", 1)),
    (r"(?:(?P<y>(?:19|20)\d\d)\s*年的?)?(?P<h>黑色星期五|黑五|圣诞节|圣诞|平安夜|元旦|情人节|双十一|双11|万圣节|感恩节)",
     lambda m: ("holiday", HOLIDAYS[m.group("h")], year_of(m))),
]
# After a period: 2025年第一周, 2025年的前10天, 2024年最后一个月, 今年前三季度 ('first/last/Nth ... of')
NTH_SUFFIX = (r"的?(?:(?P<k>第|前|头)(?P<n>" + NUM + r")|(?P<last>最后)(?P<ln>" + NUM + r")?)个?"
                        r"(?P<u>天|日|周|星期|礼拜|月|季度|季)")
# Between two periods: 从X到Y, X至Y; 介于X和Y之间
RANGE_PREFIX = r"从|自|由|介于|在"
RANGE_JOIN = r"到|至|－|—|~|～"
RANGE_AND = r"和|与|及|跟"
RANGE_SUFFIX = r"之间|期间|这段时间"
# Open ranges around one period
OPEN_PREFIX = {"自从": "since", "自": "since", "从": "since", "截至": "until", "截止到": "until", "截止": "until",
               "早于": "before", "晚于": "after", "到": "until"}
OPEN_SUFFIX = {"以来": "since", "至今": "since", "迄今": "since", "到现在": "since", "到目前为止": "since",
               "到目前": "since", "开始": "since", "起": "since", "以后": "after", "之后": "after",
               "以前": "before", "之前": "before", "为止": "until"}
PREPOSITIONS = r"在|于"
TRAILERS = r"(?:之内|以内|内|期间|里|当中)?的?"
