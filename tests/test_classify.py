"""Classification: the last class is always the most deprived, whatever the direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.present.classify import NO_DATA, classify_values, palette_colours


def test_scores_high_is_darkest():
    c = classify_values(pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "quantiles", 5, higher_is_worse=True)
    assert c.classes[-1] == 4 and c.classes[0] == 0 and "most deprived" in c.labels[-1]


def test_ranks_one_is_darkest():
    c = classify_values(pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "quantiles", 5, higher_is_worse=False)
    assert c.classes[0] == 4 and c.classes[-1] == 0
    assert c.labels[-1].startswith("1 – 2")


def test_national_deciles_decile_one_darkest_and_missing_is_no_data():
    values = pd.Series([10.0, 20.0, np.nan])
    c = classify_values(values, "national_deciles", deciles=pd.Series([1, 10, np.nan]))
    assert c.classes.tolist() == [9, 0, NO_DATA]
    assert c.counts[9] == 1 and c.no_data_count == 1 and c.k == 10
    assert c.labels[9].startswith("Decile 1")


@pytest.mark.parametrize("scheme", ["quantiles", "equal_interval", "natural_breaks", "fisher_jenks_sampled"])
def test_every_scheme_is_repeatable_and_covers_values(scheme):
    rng = np.random.default_rng(1)
    values = pd.Series(rng.gamma(2, 10, 5000))
    a = classify_values(values, scheme, 6)
    b = classify_values(values, scheme, 6)
    assert (a.classes == b.classes).all() and sum(a.counts) == 5000 and a.k == 6


def test_user_defined_breaks_and_k_larger_than_distinct_values():
    c = classify_values(pd.Series([1.0, 5, 15, 25]), "user_defined", breaks=[10, 20])
    assert c.classes.tolist() == [0, 0, 1, 2] and c.k == 3
    small = classify_values(pd.Series([1.0, 1.0, 2.0]), "quantiles", 5)
    assert small.k == 2


def test_no_data_is_not_a_palette_colour():
    for name in ("viridis", "cividis", "blue-purple", "greys"):
        colours = palette_colours(name, 10)
        assert "#ffffff" not in colours and len(set(colours)) == 10


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(ValueError, match="Choose one of"):
        classify_values(pd.Series([1.0]), "jenks_exact")


def test_schemes_are_a_registry_indexed_like_label_and_needs_k():
    from geo.present.classify import SCHEMES, get_scheme

    assert list(SCHEMES) == ["national_deciles", "quantiles", "equal_interval", "natural_breaks",
                             "fisher_jenks_sampled", "user_defined"]
    for scheme_id, scheme in SCHEMES.items():
        assert scheme.id == scheme_id and SCHEMES[scheme_id][0] == scheme.label and scheme.label
        assert SCHEMES[scheme_id][1] is scheme.needs_k
        assert (scheme.bin is None) == (scheme_id == "national_deciles")
    assert SCHEMES["quantiles"][1] and not SCHEMES["user_defined"][1]
    with pytest.raises(ValueError, match="Choose one of: national_deciles, quantiles"):
        get_scheme("Quantiles")  # ids, never display labels
