"""F4: a number written out in words is checked like one written in digits: "revenue is one billion
dollars" about a result that holds no such figure is not shown as the model's narration."""

from __future__ import annotations

import pytest

from nl2sql.answer.grounding import check, evidence, mentions
from nl2sql.jobs.workspace import Workspace
from tests.helpers import FakeBackend

COLUMNS = [("category", "VARCHAR"), ("revenue", "DOUBLE")]
ROWS = [("Books", 1234.0), ("Toys", 325000.0), ("Games", 12.0)]


@pytest.mark.parametrize("text", ["Revenue is one billion dollars.", "Toys make up ninety-nine percent of revenue.",
                                  "Books brought in a million.", "Revenue reached one point five million.",
                                  "收入为一千万。", "Revenue was four hundred thousand."])
def test_unsupported_numbers_in_words_are_caught(text: str) -> None:
    verdict = check(text, evidence(COLUMNS, ROWS))
    assert not verdict.ok, [r.to_dict() for r in verdict.receipts]


@pytest.mark.parametrize("text", ["Toys lead with three hundred and twenty-five thousand.",
                                  "Games brought in twelve.", "Books made one thousand two hundred thirty-four.",
                                  "One of the three categories leads.", "Toys lead by a wide margin."])
def test_supported_numbers_in_words_pass(text: str) -> None:
    verdict = check(text, evidence(COLUMNS, ROWS))
    assert verdict.ok, [r.to_dict() for r in verdict.receipts]


def test_words_keep_their_value_and_rounding() -> None:
    found = {m.text: m for m in mentions("about twelve percent, one point five million and 一千万")}
    assert found["twelve percent"].value == 12 and found["twelve percent"].percent
    assert found["one point five million"].value == 1_500_000
    assert found["一千万"].value == 10_000_000


def test_a_narration_in_words_that_the_rows_do_not_support_is_replaced() -> None:
    backend = FakeBackend(sql=["SELECT category, count(*) AS products FROM products GROUP BY category"],
                          narrations=["There are one billion products.", "There are one billion products."])
    with Workspace.open(backend=lambda: backend) as ws:
        answer = ws.ask("Products by category")
    assert answer.narrated_by == "computed" and "billion" not in (answer.narration or "")
    assert any("one billion" in note for note in answer.notes)
