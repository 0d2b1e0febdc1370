"""The grounding checker: true narrations pass, invented numbers are caught, in English and Chinese."""

from __future__ import annotations

import datetime as dt

import pytest

from nl2sql.answer.grounding import check, cn_to_number, evidence, mentions
from nl2sql.answer.narrator import narrate

COLUMNS = [("region", "VARCHAR"), ("revenue", "DOUBLE")]
ROWS = [("North America", 1_234_567.0), ("Europe", 500_000.0), ("Asia Pacific", 265_433.0)]
MONTHS = [("month", "DATE"), ("orders", "BIGINT")]
MONTH_ROWS = [(dt.date(2025, 1, 1), 1000), (dt.date(2025, 2, 1), 1150), (dt.date(2025, 3, 1), 1380)]


def _ev(columns=COLUMNS, rows=ROWS, extra="Revenue by region in 2025"):  # type: ignore[no-untyped-def]
    return evidence(columns, rows, extra)


@pytest.mark.parametrize("text, value, percent", [
    ("1.2M", 1_200_000, False), ("12.5 %", 12.5, True), ("1,234", 1234, False), ("3.4万", 34_000, False),
    ("2 亿", 200_000_000, False), ("three hundred 300", 300, False), ("5 percent", 5, True),
    ("百分之十二点五", 12.5, True), ("三百", 300, False), ("一千二百三十四", 1234, False), ("$4.5bn", 4.5e9, False),
])
def test_numbers_are_read_in_their_written_forms(text: str, value: float, percent: bool) -> None:
    found = mentions(text)
    assert found, text
    assert found[-1].value == pytest.approx(value) and found[-1].percent is percent


def test_chinese_numerals() -> None:
    assert cn_to_number("三百") == 300
    assert cn_to_number("两万三千") == 23_000
    assert cn_to_number("十二点五") == 12.5
    assert cn_to_number("三点五亿") == 350_000_000
    assert cn_to_number("一百二十三万四千五百六十七") == 1_234_567
    assert cn_to_number("二〇二五") == 2025


def test_dates_and_words_with_numeral_characters_are_not_claims() -> None:
    assert mentions("In 2025-03 and on March 3rd, 2025年3月, 十分明显, 一些地区, Q4") == []


def test_a_true_narration_is_grounded_with_receipts() -> None:
    text = ("North America leads with 1.23M, 61.7% of the 2,000,000 total; Europe follows with 500,000, "
            "about 734,567 less. That covers 3 regions in 2025.")
    verdict = check(text, _ev())
    assert verdict.ok, verdict.unsupported
    sources = {r.claim: r.source for r in verdict.receipts}
    assert sources["1.23M"] == "revenue of North America"
    assert sources["61.7%"] == "share of North America in total revenue"
    assert sources["2,000,000"] == "total of revenue"
    assert sources["734,567"] == "lead of North America over Europe in revenue"


def test_invented_numbers_are_named() -> None:
    verdict = check("North America leads with 1.5M and Europe has 320,000, 70% of the total.", _ev())
    assert verdict.unsupported == ["1.5M", "320,000", "70%"]


def test_rounding_is_tolerated_only_as_far_as_the_written_precision() -> None:
    assert check("North America: 1.2 million", _ev()).ok  # 1,234,567 rounds to 1.2M
    assert check("North America: 1,234,600", _ev()).ok
    assert not check("North America: 1,250,000", _ev()).ok  # more precise than 1.2M, and wrong
    assert not check("North America: 1.3 million", _ev()).ok


def test_chinese_narrations() -> None:
    good = "北美地区收入最高，为一百二十三万，占总计的百分之六十一点七；欧洲为50万。"
    assert check(good, _ev()).ok
    bad = check("北美地区收入最高，为一百五十万，占总计的百分之八十。", _ev())
    assert bad.unsupported == ["一百五十万", "百分之八十"]
    assert check("欧洲为 50 万，亚太为 26.5 万。", _ev()).ok


def test_changes_over_time() -> None:
    ev = _ev(MONTHS, MONTH_ROWS, "orders by month")
    assert check("Orders grew from 1,000 in January to 1,380 in March (+38%), the biggest step +20% in March.",
                 ev).ok
    assert not check("Orders grew by 45% from January to March.", ev).ok


def test_the_computed_narrator_is_always_grounded() -> None:
    for question, cols, rows in (("Revenue by region", COLUMNS, ROWS), ("每月订单", MONTHS, MONTH_ROWS),
                                 ("收入按地区", COLUMNS, ROWS), ("orders by month", MONTHS, MONTH_ROWS)):
        text = narrate(question, cols, rows)
        verdict = check(text, evidence(cols, rows, question))
        assert verdict.ok and verdict.receipts, (text, verdict.unsupported)
