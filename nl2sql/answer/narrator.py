"""Deterministic narration: a few sentences computed from the result, in English or Chinese.

Used when no model narrates (offline engine, privacy tier `schema`, or a model narration that
could not be used). Every number it states is computed from the result rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nl2sql.core.values import as_number, fmt_number, is_additive, is_numeric_type, is_temporal_type


def language_of(text: str) -> str:
    """'zh' when the text holds CJK characters, else 'en'."""
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


def _label(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def summarize(columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Facts about a result: the measure, its total, the leader and its share, the trend."""
    names = [n for n, _ in columns]
    types = [t.upper() for _, t in columns]
    # identifiers are numbers but not measures
    numeric = [i for i, t in enumerate(types) if is_numeric_type(t) and not names[i].lower().endswith("id")]
    temporal = [i for i, t in enumerate(types) if is_temporal_type(t)]
    labels = [i for i in range(len(names)) if i not in numeric and i not in temporal]
    facts: dict[str, Any] = {"rows": len(rows)}
    if not rows or not numeric:
        return facts
    # the measure is the last numeric column that is not the x axis (year columns are often first)
    measure = numeric[-1]
    values = [v for v in (as_number(r[measure]) for r in rows) if v is not None]
    if not values:
        return facts
    facts.update(measure=names[measure], total=sum(values), min=min(values), max=max(values),
                 mean=sum(values) / len(values))
    unique_dates = bool(temporal) and len({r[temporal[0]] for r in rows}) == len(rows)
    x = temporal[0] if unique_dates else (labels[0] if labels else (numeric[0] if len(numeric) > 1 else None))
    if labels and len(rows) == 1:
        facts["label"] = _label(rows[0][labels[0]])
    if x is None:
        return facts
    pairs = [(r[x], v) for r in rows if (v := as_number(r[measure])) is not None]
    if unique_dates and x == temporal[0] and len(pairs) >= 2:
        ordered = sorted(pairs, key=lambda p: p[0])
        if all(_label(p[0]).endswith("-01") and len(_label(p[0])) == 10 for p in ordered):
            ordered = [(_label(p[0])[:7], p[1]) for p in ordered]  # monthly data reads as 2025-03
        first, last = ordered[0], ordered[-1]
        facts["trend"] = {"first": _label(first[0]), "first_value": first[1], "last": _label(last[0]),
                          "last_value": last[1],
                          "change_pct": (last[1] - first[1]) / abs(first[1]) * 100 if first[1] else None}
        peak = max(ordered, key=lambda p: p[1])
        facts["peak"] = {"label": _label(peak[0]), "value": peak[1]}
    elif len(pairs) >= 2:
        top = max(pairs, key=lambda p: p[1])
        bottom = min(pairs, key=lambda p: p[1])
        total = sum(p[1] for p in pairs)
        all_positive = all(p[1] >= 0 for p in pairs)
        additive = is_additive(names[measure])
        facts["leader"] = {"label": _label(top[0]), "value": top[1],
                           "share_pct": top[1] / total * 100 if total and all_positive and additive else None}
        facts["last_place"] = {"label": _label(bottom[0]), "value": bottom[1]}
    return facts


def narrate(question: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]],
            truncated: bool = False) -> str:
    """A short narration in the question's language, from computed facts only."""
    facts = summarize(columns, rows)
    zh = language_of(question) == "zh"
    n = facts["rows"]
    if n == 0:
        return "查询没有返回任何行。" if zh else "The query returned no rows."
    if "measure" not in facts:
        return (f"查询返回了 {n:,} 行。" if zh else f"The query returned {n:,} row{'s' if n != 1 else ''}.")
    m = facts["measure"]
    parts = []
    if n == 1:
        v = fmt_number(facts["total"])
        if "label" in facts:
            parts.append(f"{facts['label']}：{m} 为 {v}。" if zh else f"{facts['label']}: {m} {v}.")
        else:
            parts.append(f"{m} 为 {v}。" if zh else f"{m}: {v}.")
    elif "trend" in facts:
        t = facts["trend"]
        change = t["change_pct"]
        if zh:
            parts.append(f"{m} 从 {t['first']} 的 {fmt_number(t['first_value'])} 变为 {t['last']} 的 "
                         f"{fmt_number(t['last_value'])}" + (f"（{change:+.1f}%）。" if change is not None else "。"))
            parts.append(f"峰值出现在 {facts['peak']['label']}，为 {fmt_number(facts['peak']['value'])}。")
        else:
            parts.append(f"{m} went from {fmt_number(t['first_value'])} in {t['first']} to "
                         f"{fmt_number(t['last_value'])} in {t['last']}"
                         + (f" ({change:+.1f}%)." if change is not None else "."))
            parts.append(f"The peak was {fmt_number(facts['peak']['value'])} in {facts['peak']['label']}.")
    elif "leader" in facts:
        lead, low = facts["leader"], facts["last_place"]
        share = lead["share_pct"]
        if zh:
            parts.append(f"{lead['label']} 的 {m} 最高，为 {fmt_number(lead['value'])}"
                         + (f"，占总计的 {share:.1f}%。" if share is not None else "。"))
            parts.append(f"最低的是 {low['label']}（{fmt_number(low['value'])}）；"
                         f"{n} 行合计 {fmt_number(facts['total'])}。")
        else:
            parts.append(f"{lead['label']} leads on {m} with {fmt_number(lead['value'])}"
                         + (f", {share:.1f}% of the total." if share is not None else "."))
            parts.append(f"The lowest is {low['label']} ({fmt_number(low['value'])}); "
                         f"the {n} rows add up to {fmt_number(facts['total'])}.")
    else:
        parts.append(f"{n} 行的 {m} 合计 {fmt_number(facts['total'])}。" if zh
                     else f"Across {n} rows, {m} adds up to {fmt_number(facts['total'])}.")
    if truncated:
        parts.append("结果已截断，以上数字只涵盖显示的行。" if zh
                     else "The result was truncated; these figures cover the rows shown only.")
    return " ".join(parts)
