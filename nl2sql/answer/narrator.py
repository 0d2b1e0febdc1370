"""Deterministic narration: a few sentences computed from the result, in English or Chinese.

Used when no model narrates (offline engine, privacy tier `schema`, or a model narration that
could not be used). Every number it states is computed from the result rows, and it respects
what a number means (answer/measures.py): totals and shares only for measures that add up (sums,
counts), never for averages, rates or percentages; a top-N list is not "the total"; years and ids
are labels. `summarize` holds the facts; `narrate` words them.

Shapes: one row; a comparison (a period column such as year next to a category: both values, the
change and the change in %); a trend (one row per date); two dimensions (the top cells and the
leader of each dimension); one dimension (the leader and the lowest).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nl2sql.answer.measures import Measure, fmt_measure, humanize, measure_kinds, measures_of
from nl2sql.answer.shape import (
    ResultShape,
    group_totals,
    label,
    pivot_periods,
    result_shape,
)
from nl2sql.core.values import as_number, fmt_number


def language_of(text: str) -> str:
    """'zh' when the text holds CJK characters, else 'en'."""
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


def _pct(change: float | None) -> str:
    return f"{change:+.1f}%" if change is not None else ""


def signed(value: float, fmt: Any = fmt_number) -> str:
    """+1,234 or -1,234 (an ASCII minus, as in the percentages)."""
    return ("+" if value >= 0 else "-") + str(fmt(abs(value)))


def _change(first: float, last: float) -> dict[str, Any]:
    return {"change": last - first, "change_pct": (last - first) / abs(first) * 100 if first else None}


def summarize(columns: list[tuple[str, str]], rows: list[tuple[Any, ...]], sql: str | None = None,
              partial: tuple[dt.date, ...] | list[dt.date] = ()) -> dict[str, Any]:
    """Facts about a result: the measure and its kind, and what its shape allows (see the module doc).

    `partial`: starts of the first/last periods the data only partly covers; a trend skips them.
    """
    kinds = measure_kinds(columns, sql, rows)
    facts: dict[str, Any] = {"rows": len(rows)}
    measures = measures_of(columns, kinds)
    if not rows or not measures:
        return facts
    shape = result_shape(columns, rows, kinds, sql)
    m = measures[0]
    measure = kinds[columns[m][0]]
    values = [v for v in (as_number(r[m]) for r in rows) if v is not None]
    if not values:
        return facts
    facts.update(measure=measure.name, kind=measure.kind, min=min(values), max=max(values))
    if measure.additive:
        facts["total"] = sum(values)
    if shape.top_n:
        facts["top_n"] = shape.top_n
    if len(rows) == 1:
        facts["values"] = {columns[i][0]: v for i in measures if (v := as_number(rows[0][i])) is not None}
        if shape.labels:
            facts["label"] = " · ".join(label(rows[0][i]) for i in shape.labels)
        return facts
    if shape.period is not None and shape.labels and shape.repeated_periods:
        facts["comparison"] = _comparison(shape, rows, m, measure)
    elif shape.period is not None and not shape.repeated_periods:
        facts.update(_trend(shape, rows, m, partial))
    elif len(shape.labels) >= 2:
        facts.update(_two_dimensions(columns, shape, rows, m, measure))
    elif shape.labels or shape.period is not None:
        facts.update(_one_dimension(shape, rows, m, measure))
    return facts


def _trend(shape: ResultShape, rows: list[tuple[Any, ...]], m: int, partial: Any = ()) -> dict[str, Any]:
    assert shape.period is not None
    p = shape.period
    points = sorted(((r[p], v) for r in rows if r[p] is not None and (v := as_number(r[m])) is not None),
                    key=lambda pair: pair[0])
    skipped = [label(x, shape.grain) for x, _ in (points[:1] + points[-1:]) if _day(x) in partial]
    if skipped and len(points) > 3:
        points = [pt for pt in points if _day(pt[0]) not in partial]
    else:
        skipped = []
    if len(points) < 2:
        return {}
    (first, a), (last, b) = points[0], points[-1]
    peak = max(points, key=lambda pair: pair[1])
    return {"trend": {"first": label(first, shape.grain), "first_value": a, "last": label(last, shape.grain),
                      "last_value": b, **_change(a, b), "skipped": skipped},
            "peak": {"label": label(peak[0], shape.grain), "value": peak[1]}}


def _day(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


def _comparison(shape: ResultShape, rows: list[tuple[Any, ...]], m: int, measure: Measure) -> dict[str, Any]:
    """The first and last period side by side: totals (additive only) and each label's change."""
    assert shape.period is not None
    first, last, table = pivot_periods(rows, shape.period, shape.labels, m)
    out: dict[str, Any] = {"first": label(first, shape.grain), "last": label(last, shape.grain)}
    if measure.additive:
        a = sum(v[0] for v in table.values() if v[0] is not None)
        b = sum(v[1] for v in table.values() if v[1] is not None)
        out["total"] = {"first_value": a, "last_value": b, **_change(a, b)}
    both = [(k, v[0], v[1]) for k, v in table.items() if v[0] is not None and v[1] is not None]
    if both:
        ranked = sorted(both, key=lambda t: t[2] - t[1])
        for key, (name, a, b) in (("biggest_fall", ranked[0]), ("biggest_rise", ranked[-1])):
            out[key] = {"label": name, "first_value": a, "last_value": b, **_change(a, b)}
    out["new"] = [k for k, v in table.items() if v[0] is None and v[1] is not None][:3]
    out["gone"] = [k for k, v in table.items() if v[0] is not None and v[1] is None][:3]
    return out


def _two_dimensions(columns: list[tuple[str, str]], shape: ResultShape, rows: list[tuple[Any, ...]], m: int,
                    measure: Measure) -> dict[str, Any]:
    cells = sorted(((" · ".join(label(r[i]) for i in shape.labels), v) for r in rows
                    if (v := as_number(r[m])) is not None), key=lambda c: -c[1])
    out: dict[str, Any] = {"top_cells": [{"label": k, "value": v} for k, v in cells[:3]],
                           "lowest_cell": {"label": cells[-1][0], "value": cells[-1][1]}}
    if measure.additive and not shape.top_n:
        leaders = []
        for i in shape.labels[:2]:
            totals = group_totals(rows, i, m)
            whole = sum(totals.values())
            name, value = max(totals.items(), key=lambda kv: kv[1])
            share = value / whole * 100 if whole and all(v >= 0 for v in totals.values()) else None
            leaders.append({"dimension": columns[i][0], "label": name, "value": value, "share_pct": share})
        out["leaders"] = leaders
    return out


def _one_dimension(shape: ResultShape, rows: list[tuple[Any, ...]], m: int, measure: Measure) -> dict[str, Any]:
    x = shape.labels[0] if shape.labels else shape.period
    assert x is not None
    pairs = [(label(r[x], shape.grain), v) for r in rows if (v := as_number(r[m])) is not None]
    if len(pairs) < 2:
        return {}
    top = max(pairs, key=lambda p: p[1])
    bottom = min(pairs, key=lambda p: p[1])
    total = sum(p[1] for p in pairs)
    shares = measure.additive and not shape.top_n and total and all(p[1] >= 0 for p in pairs)
    return {"leader": {"label": top[0], "value": top[1], "share_pct": top[1] / total * 100 if shares else None},
            "last_place": {"label": bottom[0], "value": bottom[1]}}


def facts_text(facts: dict[str, Any]) -> str:
    """The facts as 'key: value' lines for a model's narration prompt (numbers formatted, nested flattened)."""
    def show(value: Any) -> str:
        if isinstance(value, float):
            return fmt_number(value)
        if isinstance(value, dict):
            return ", ".join(f"{k}={show(v)}" for k, v in value.items() if v is not None)
        if isinstance(value, list):
            return "; ".join(show(v) for v in value)
        return str(value)

    return "\n".join(f"{key}: {show(value)}" for key, value in facts.items() if value not in (None, [], {}))


def narrate(question: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]],
            truncated: bool = False, sql: str | None = None, partial: tuple[dt.date, ...] | list[dt.date] = ()) -> str:
    """A short narration in the question's language, from computed facts only."""
    facts = summarize(columns, rows, sql, partial)
    zh = language_of(question) == "zh"
    n = facts["rows"]
    if n == 0:
        return "查询没有返回任何行。" if zh else "The query returned no rows."
    if "measure" not in facts:
        return f"查询返回了 {n:,} 行。" if zh else f"The query returned {n:,} row{'s' if n != 1 else ''}."
    kinds = measure_kinds(columns, sql, rows)
    words = _Words(zh, kinds, facts)
    if "values" in facts:
        parts = [words.one_row()]
    elif "comparison" in facts:
        parts = words.comparison()
    elif "trend" in facts:
        parts = words.trend()
    elif "top_cells" in facts:
        parts = words.two_dimensions()
    elif "leader" in facts:
        parts = words.one_dimension(n)
    else:
        parts = [words.total_only(n)]
    if truncated:
        parts.append("结果已截断，以上数字只涵盖显示的行。" if zh
                     else "The result was truncated; these figures cover the rows shown only.")
    return " ".join(p for p in parts if p)


class _Words:
    """The sentences of each shape, in English or Chinese; numbers formatted as their kind reads."""

    def __init__(self, zh: bool, kinds: dict[str, Measure], facts: dict[str, Any]) -> None:
        self.zh, self.kinds, self.facts = zh, kinds, facts
        self.measure = kinds.get(facts["measure"])
        self.m = humanize(facts["measure"])

    def v(self, value: float, name: str | None = None) -> str:
        return fmt_measure(value, self.kinds.get(name) if name else self.measure, fmt_number)

    def delta(self, c: dict[str, Any]) -> str:
        """'+3,522,883, +14.7%' (points for percentages: a change of a rate is not a % of a %)."""
        absolute = signed(c["change"], self.v)
        if self.measure is not None and self.measure.is_percent:
            return absolute + (" 个百分点" if self.zh else " points")
        return absolute + (f", {_pct(c['change_pct'])}" if c["change_pct"] is not None else "")

    def one_row(self) -> str:
        values = self.facts["values"]
        text = ("；" if self.zh else "; ").join(
            (f"{humanize(name)} 为 {self.v(v, name)}" if self.zh else f"{humanize(name)} {self.v(v, name)}")
            for name, v in list(values.items())[:4])
        if "label" in self.facts:
            return f"{self.facts['label']}：{text}。" if self.zh else f"{self.facts['label']}: {text}."
        return f"{text}。" if self.zh else f"{text[0].upper()}{text[1:]}."

    def comparison(self) -> list[str]:
        c = self.facts["comparison"]
        a, b, parts = c["first"], c["last"], []
        if "total" in c:
            t = c["total"]
            parts.append(f"{self.m} 合计从 {a} 的 {self.v(t['first_value'])} 变为 {b} 的 {self.v(t['last_value'])}"
                         f"（{self.delta(t)}）。" if self.zh else
                         f"In total, {self.m} went from {self.v(t['first_value'])} in {a} to "
                         f"{self.v(t['last_value'])} in {b} ({self.delta(t)}).")
        for key, en, zh in (("biggest_rise", "The biggest rise", "增幅最大"), ("biggest_fall", "the biggest fall",
                                                                                "降幅最大")):
            item = c.get(key)
            if item is None or (key == "biggest_fall" and c["biggest_rise"]["label"] == item["label"]):
                continue
            if (key == "biggest_rise") != (item["change"] >= 0):
                en, zh = (("The smallest fall", "降幅最小") if key == "biggest_rise"
                          else ("the smallest rise", "增幅最小"))
            parts.append(f"{zh}的是 {item['label']}：{self.v(item['first_value'])} → {self.v(item['last_value'])}"
                         f"（{self.delta(item)}）。" if self.zh else
                         f"{en[0].upper()}{en[1:]}: {item['label']}, {self.v(item['first_value'])} in {a} → "
                         f"{self.v(item['last_value'])} in {b} ({self.delta(item)}).")
        if c["new"]:
            parts.append(f"仅在 {b} 出现：{'、'.join(c['new'])}。" if self.zh
                         else f"Only in {b}: {', '.join(c['new'])}.")
        if c["gone"]:
            parts.append(f"仅在 {a} 出现：{'、'.join(c['gone'])}。" if self.zh
                         else f"Only in {a}: {', '.join(c['gone'])}.")
        return parts

    def trend(self) -> list[str]:
        t, peak = self.facts["trend"], self.facts["peak"]
        if self.zh:
            whole = f"（不含不完整的 {'、'.join(t['skipped'])}）" if t["skipped"] else ""
            return [f"{self.m} 从 {t['first']} 的 {self.v(t['first_value'])} 变为 {t['last']} 的 "
                    f"{self.v(t['last_value'])}（{self.delta(t)}）{whole}。"] + (
                [f"峰值出现在 {peak['label']}，为 {self.v(peak['value'])}。"]
                if peak["label"] not in (t["first"], t["last"]) else [])
        lead = f"Leaving out the partial {' and '.join(t['skipped'])}, " if t["skipped"] else ""
        sentence = (f"{lead}{self.m} went from {self.v(t['first_value'])} in {t['first']} to "
                    f"{self.v(t['last_value'])} in {t['last']} ({self.delta(t)}).")
        parts = [sentence[:1].upper() + sentence[1:]]
        if peak["label"] not in (t["first"], t["last"]):
            parts.append(f"The peak was {self.v(peak['value'])} in {peak['label']}.")
        return parts

    def two_dimensions(self) -> list[str]:
        f = self.facts
        cells = ("；" if self.zh else "; ").join(f"{c['label']} {self.v(c['value'])}" for c in f["top_cells"])
        low = f["lowest_cell"]
        parts = [f"{self.m} 最高的组合：{cells}；最低的是 {low['label']}（{self.v(low['value'])}）。" if self.zh else
                 f"The largest {self.m}: {cells}. The smallest is {low['label']} ({self.v(low['value'])})."]
        for lead in f.get("leaders", []):
            share = lead["share_pct"]
            dimension = humanize(lead["dimension"])
            parts.append(f"按 {dimension}，{lead['label']} 合计最高，为 {self.v(lead['value'])}"
                         + (f"，占 {share:.1f}%。" if share is not None else "。") if self.zh else
                         f"By {dimension}, {lead['label']} leads with {self.v(lead['value'])} in total"
                         + (f" ({share:.1f}% of all)." if share is not None else "."))
        return parts

    def one_dimension(self, n: int) -> list[str]:
        f = self.facts
        lead, low = f["leader"], f["last_place"]
        share = lead["share_pct"]
        if self.zh:
            parts = [f"{lead['label']} 的 {self.m} 最高，为 {self.v(lead['value'])}"
                     + (f"，占总计的 {share:.1f}%。" if share is not None else "。"),
                     f"最低的是 {low['label']}（{self.v(low['value'])}）。"]
            if "total" in f:
                parts.append(f"前 {n} 名合计 {self.v(f['total'])}。" if f.get("top_n") else
                             f"{n} 行合计 {self.v(f['total'])}。")
            return parts
        parts = [f"{lead['label']} leads on {self.m} with {self.v(lead['value'])}"
                 + (f", {share:.1f}% of the total." if share is not None else "."),
                 f"The lowest is {low['label']} ({self.v(low['value'])})."]
        if "total" in f:
            parts.append(f"The top {n} add up to {self.v(f['total'])}." if f.get("top_n") else
                         f"The {n} rows add up to {self.v(f['total'])}.")
        return parts

    def total_only(self, n: int) -> str:
        f = self.facts
        if "total" in f:
            return (f"{n} 行的 {self.m} 合计 {self.v(f['total'])}。" if self.zh
                    else f"Across {n} rows, {self.m} adds up to {self.v(f['total'])}.")
        return (f"{n} 行的 {self.m} 介于 {self.v(f['min'])} 与 {self.v(f['max'])} 之间。" if self.zh
                else f"Across {n} rows, {self.m} ranges from {self.v(f['min'])} to {self.v(f['max'])}.")

