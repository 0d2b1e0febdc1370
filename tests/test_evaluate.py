"""The result-set comparator on the cases that trip up naive comparisons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from nl2sql.jobs.evaluate.compare import asks_for_order, results_match


@pytest.mark.parametrize(
    ("gold", "candidate", "ordered", "expected"),
    [
        # column order and names do not matter
        ([("a", 1), ("b", 2)], [(1, "a"), (2, "b")], False, True),
        # extra candidate columns are fine
        ([("a",), ("b",)], [("a", 10), ("b", 20)], False, True),
        # a missing gold column is not
        ([("a", 1), ("b", 2)], [("a",), ("b",)], False, False),
        # duplicates are dropped on both sides
        ([("a",), ("a",), ("b",)], [("a",), ("b",)], False, True),
        # row order is ignored unless the question asks for an order
        ([("a", 1), ("b", 2)], [("b", 2), ("a", 1)], False, True),
        ([("a", 1), ("b", 2)], [("b", 2), ("a", 1)], True, False),
        ([("a", 1), ("b", 2)], [("a", 1), ("b", 2)], True, True),
        # ties in the sort key may come in any order; the order of the keys still counts
        ([("a", 3), ("b", 3), ("c", 1)], [("b", 3), ("a", 3), ("c", 1)], True, True),
        ([("a", 3), ("b", 1), ("c", 1)], [("b", 1), ("a", 3), ("c", 1)], True, False),
        # floats vs decimals, within 1e-6 relative
        ([(Decimal("1234.5600"),)], [(1234.56,)], False, True),
        ([(1 / 3,)], [(0.3333333,)], False, True),
        ([(1.0,)], [(1.01,)], False, False),
        ([(5,)], [(5.0,)], False, True),
        # dates vs midnight timestamps
        ([(dt.date(2025, 1, 1),)], [(dt.datetime(2025, 1, 1),)], False, True),
        ([(dt.date(2025, 1, 1),)], [(dt.datetime(2025, 1, 1, 12),)], False, False),
        # empty results
        ([], [], False, True),
        ([], [("a",)], False, False),
        ([("a",)], [], False, False),
        # NULLs compare equal to NULLs only
        ([("a", None)], [("a", None)], False, True),
        ([("a", None)], [("a", 0)], False, False),
        # different values
        ([("a", 1)], [("a", 2)], False, False),
        # a row more is wrong
        ([("a",)], [("a",), ("b",)], False, False),
        # two columns with the same values must map to distinct candidate columns
        ([(1, 1), (2, 2)], [(1,), (2,)], False, False),
    ],
)
def test_results_match(gold, candidate, ordered: bool, expected: bool) -> None:  # type: ignore[no-untyped-def]
    assert results_match(gold, candidate, ordered) is expected


def test_order_words() -> None:
    assert asks_for_order("List the products ordered by price")
    assert asks_for_order("Rank the authors by citations")
    assert asks_for_order("names sorted alphabetically")
    assert not asks_for_order("How many orders per channel?")
    assert not asks_for_order("products never ordered")
    assert not asks_for_order("customers who never placed an order")
