"""Never confidently wrong: every word of a question is placed, or the question is refused naming it.

The property: for every question of the shop sets that the engine answers, replacing any one
word with a word it does not know gives a refusal, never the same SQL (or any SQL at all).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from nl2sql.backends.offline.lexicon import build_lexicon
from nl2sql.backends.offline.planner import plan_question
from nl2sql.backends.offline.tokens import normalize, tokenize
from nl2sql.core.errors import RefusalError
from tests.helpers import REPO, SHOP_QUESTIONS

AS_OF = dt.date(2025, 12, 31)
SETS = (SHOP_QUESTIONS, REPO / "benchmarks" / "questions" / "shop_fresh_dev.jsonl")


def _questions() -> list[str]:
    out = []
    for path in SETS:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item.get("expect") != "refuse" and not item.get("turns"):
                out.append(item["question"])
    return out


@pytest.fixture(scope="module")
def lexicon(shop):  # type: ignore[no-untyped-def]
    return build_lexicon(shop[0])


def _answered(lexicon) -> list[str]:  # type: ignore[no-untyped-def]
    answered = []
    for question in _questions():
        try:
            plan_question(question, lexicon, AS_OF)
        except RefusalError:
            continue
        answered.append(question)
    return answered


def test_any_one_word_replaced_by_an_unknown_word_is_refused(lexicon) -> None:  # type: ignore[no-untyped-def]
    answered = _answered(lexicon)
    assert len(answered) > 150  # the property is about questions the engine does answer
    answered_anyway = []
    for question in answered:
        for token in tokenize(normalize(question)):
            unknown = "犀" if token.cjk else "zorblax"
            changed = question[:token.start] + unknown + question[token.end:]
            try:
                plan_question(changed, lexicon, AS_OF)
            except RefusalError as exc:
                assert unknown in exc.message or "犀" in exc.message, (changed, exc.message)
                continue
            answered_anyway.append(changed)
    assert answered_anyway == []


def test_an_unknown_word_inserted_anywhere_is_refused(lexicon) -> None:  # type: ignore[no-untyped-def]
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    answered = _answered(lexicon)

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(st.sampled_from(answered), st.integers(0, 200), st.sampled_from(["blorp", "warehouse", "卡车"]))
    def check(question: str, at: int, word: str) -> None:
        words = question.split(" ")
        position = at % (len(words) + 1)
        changed = " ".join([*words[:position], word, *words[position:]])
        with pytest.raises(RefusalError, match=word):
            plan_question(changed, lexicon, AS_OF)

    check()


@pytest.mark.parametrize(("question", "named", "close"), [
    ("profit by warehouse last quarter", "'warehouse'", None),
    ("revenu by region", "'revenu'", "revenue"),
    ("各仓库的库存水平", "'仓库'", None),
    ("average customer age by segment", "'age'", None),
])
def test_refusals_name_the_word_and_the_nearest_known_terms(lexicon, question: str, named: str,  # type: ignore[no-untyped-def]
                                                            close: str | None) -> None:
    with pytest.raises(RefusalError) as caught:
        plan_question(question, lexicon, AS_OF)
    assert named in caught.value.message
    if close:
        assert close in str(caught.value.hint)


@pytest.mark.parametrize("question", [
    "revenue by category and warehouse",      # an unknown word in a breakdown
    "revenue for 2026",                        # after the data: no forecasts
    "top selling product in each category",   # ranking within groups
    "revenue 2024 2025",                       # two periods, no word saying how they relate
    "average unit price by category",          # which unit price: list or paid?
    "same period last year",                   # a shift with nothing to shift
    "what will revenue be next month",
])
def test_questions_it_cannot_read_with_confidence_are_refused(lexicon, question: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RefusalError):
        plan_question(question, lexicon, AS_OF)


@pytest.mark.parametrize("question", [
    "revenue excluding the top customer",   # 'excluding' with nothing it can exclude
    "revenue from new customers in 2025",   # 'new' that no reading uses
    "customers and their revenue",          # a breakdown the engine did not read
    "when did revenue peak",                # 'when' without first/last
])
def test_a_word_that_would_change_the_answer_is_never_dropped(lexicon, question: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RefusalError):
        plan_question(question, lexicon, AS_OF)
