"""Condition kinds are one registry: every kind is described, written, checked and evaluated by its entry."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.derive.eligibility import (
    KINDS,
    RULE_KINDS,
    Condition,
    Rule,
    evaluate_rule,
    parse_rule,
    rule_kind,
    threshold_of,
    with_threshold,
)
from geo.errors import AtlasError

TINY = {"imd": pd.DataFrame({"district": list("AAABBBBCCC"), "score": [50.0, 30, 10, 40, 20, 5, 4, 3, 2, 1],
                             "rank": [1, 3, 6, 2, 4, 5, 7, 8, 9, 10], "population": [100, 300, 600] + [100] * 7})}
ONE_OF_EACH = {
    "top_n": Condition("top_n", measures=("average_score",), n=2),
    "share_in_most_deprived": Condition("share_in_most_deprived", percent=30, at_least=0.5),
    "score_at_least": Condition("score_at_least", at_least=20),
    "count_in_most_deprived": Condition("count_in_most_deprived", percent=20, at_least=1),
}


def test_kinds_is_the_tuple_of_registered_ids():
    assert KINDS == tuple(RULE_KINDS) == ("top_n", "share_in_most_deprived", "score_at_least", "count_in_most_deprived")
    assert set(ONE_OF_EACH) == set(KINDS)
    assert all(k.doc and k.id == i for i, k in RULE_KINDS.items())


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_round_trips_describes_evaluates_and_has_a_control(kind):
    cond = ONE_OF_EACH[kind]
    rule = Rule("r", (cond,))
    assert parse_rule(rule.to_toml(), ("imd",)) == rule
    assert cond.describe({"imd": "IMD"})
    table = evaluate_rule(rule, TINY, 10).table
    assert table["eligible"].any() and table.loc[table["eligible"], "reasons"].str.len().gt(0).all()
    t = threshold_of(cond, 3)
    assert t.low <= getattr(cond, t.field) <= t.high and t.label
    assert t.key == {"top_n": "n", "share_in_most_deprived": "s", "score_at_least": "a", "count_in_most_deprived": "c"}[kind]
    assert getattr(with_threshold(cond, t.low), t.field) == t.low


@pytest.mark.parametrize("call", [
    lambda c: c.describe({}),
    lambda c: Rule("r", (c,)).to_toml(),
    lambda c: evaluate_rule(Rule("r", (c,)), TINY, 10),
    lambda c: threshold_of(c, 3),
    lambda c: rule_kind(c.kind),
])
def test_an_unknown_kind_is_refused_wherever_it_is_met(call):
    with pytest.raises(AtlasError, match="unknown kind 'magic'") as err:
        call(Condition("magic", at_least=1))
    assert err.value.hint == f"Kinds: {', '.join(KINDS)}."
