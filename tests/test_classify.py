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


def test_legend_ranges_share_one_precision_by_the_values_kind():
    """#17: "8.501 – 9.899" beside "14.8 – 14.8" — every class at one precision, a one-value class as one value."""
    c = classify_values(pd.Series([8.501, 9.899, 14.8, 14.8, 20.1, 35.2]), "quantiles", 3)
    ranges = [label.split(" (")[0] for label in c.labels]
    assert ranges == ["8.5 – 9.9", "14.8", "20.1 – 35.2"]
    shares = classify_values(pd.Series([0.013, 0.114, 0.142, 0.425, 0.5, 0.517]), "quantiles", 3, kind="share")
    assert shares.labels[0].startswith("1.3% – 11.4%") and "0.013" not in " ".join(shares.labels)
    ranks = classify_values(pd.Series([10263.021, 2000.5, 30000.2]), "quantiles", 3, higher_is_worse=False,
                            kind="rank")
    assert ranks.labels[-1].startswith("2,000") and "10,263" in ranks.labels[1] and "." not in ranks.labels[1]
    money = classify_values(pd.Series([0.0, 16.12, 40.0]), "quantiles", 3, kind="money_per_head")
    assert money.labels[0].startswith("£0.00")


def test_deciles_of_a_mapped_score_show_ranges_at_one_precision():
    vals = pd.Series([50.123, 40.5, 30.25, 20.0, 10.75, 5.5, 4.25, 3.0, 2.5, 1.125])
    c = classify_values(vals, "national_deciles", deciles=pd.Series(range(1, 11)))
    assert c.labels[-1] == "Decile 1 (most deprived 10%) · 50.1"
    assert c.labels[0] == "Decile 10 (least deprived 10%) · 1.1"


def test_change_is_diverging_around_a_neutral_no_change():
    """#17: rank change on a diverging ramp: no change is neutral grey, each side says which way it moved."""
    from geo.present.classify import NO_CHANGE_COLOUR, classify_change

    c = classify_change(pd.Series([-500, -10, 0, 0, 3, 40, 900, None]), 5, unit="ranks")
    assert c.k == 5 and c.scheme == "diverging"
    assert list(c.classes) == [0, 1, 2, 2, 3, 3, 4, NO_DATA] and c.no_data_count == 1
    assert c.labels[2] == "No change" and c.colours[2] == NO_CHANGE_COLOUR
    assert c.labels[0] == "500 ranks towards less deprived" and c.labels[-1] == "900 ranks towards more deprived"
    assert c.labels[3] == "3 – 40 ranks towards more deprived"
    assert len(set(c.colours)) == 5  # the two sides never share a colour
    only_up = classify_change(pd.Series([0, 5, 6]), 3)
    assert only_up.labels[0].startswith("(no area moved towards less deprived")


def _samples():
    """Arrays of the kinds maps classify: real IoD2019 LSOA scores when the shared data is here, random floats,
    heavy ties, integers (ranks, deciles), negatives (change), tiny and huge magnitudes, two values."""
    rng = np.random.default_rng(7)
    out = [rng.normal(20, 9, 32_844), rng.integers(1, 32_845, 5_000).astype(float), np.repeat([1.0, 2, 3], [50, 3, 900]),
           rng.integers(1, 11, 3_000).astype(float), rng.normal(0, 1e-6, 777), rng.lognormal(10, 3, 1_234) * 1e6,
           np.array([4.0, 9.0]), rng.normal(-5, 2, 101), np.arange(1000.0), np.linspace(0.1, 0.9, 17)]
    from tests.cases import SHARED  # the real table where it is installed

    scores = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
    if scores.is_file():
        table = pd.read_csv(scores)
        out += [table[c].to_numpy(dtype=float) for c in table.columns
                if str(c).lower().endswith(("_score", "_rank"))][:8]  # scores, and ranks (every value distinct)
    return out


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6, 7, 9, 10, 12])
def test_quantiles_and_equal_interval_are_mapclassifys_exactly(k):
    """The atlas' own quantiles and equal intervals (mapclassify's, written out so that `geo map` need not import
    it) give mapclassify's bins and classes exactly, on every sample."""
    import warnings

    import mapclassify

    from geo.present.classify import bin_ids, equal_interval_bins, quantile_bins

    for y in _samples():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            q = mapclassify.Quantiles(y, k=k)
        ours = quantile_bins(y, k)
        assert np.array_equal(ours, q.bins) and np.array_equal(bin_ids(y, ours), q.yb), (k, y[:5])
        if y.min() == y.max():
            continue
        e = mapclassify.EqualInterval(y, k=k)
        ours = equal_interval_bins(y, k)
        assert np.array_equal(ours, e.bins) and np.array_equal(bin_ids(y, ours), e.yb), (k, y[:5])


def test_binning_is_remembered_by_values_and_settings_not_redone_on_a_rerun(monkeypatch):
    """A rerun that changes only the palette (or the title, a tooltip…) does not bin again: on natural breaks that
    was k-means over every national LSOA on each rerun. Other values, k or direction bin afresh."""
    from geo.present import classify

    calls = []
    real = classify.SCHEMES["natural_breaks"].bin
    monkeypatch.setitem(classify.SCHEMES, "natural_breaks", classify.Scheme(
        "natural_breaks", "Natural breaks (k-means)", True, lambda req: calls.append(req.k) or real(req)))
    values = pd.Series(np.random.default_rng(3).normal(30, 10, 2_000))
    first = classify_values(values, "natural_breaks", 5, palette="viridis")
    again = classify_values(values.copy(), "natural_breaks", 5, palette="cividis")
    assert calls == [5] and again.classes.tolist() == first.classes.tolist() and again.colours != first.colours
    classify_values(values, "natural_breaks", 4)
    classify_values(values, "natural_breaks", 5, higher_is_worse=False)
    changed = values.copy()
    changed.iloc[0] += 1.0
    classify_values(changed, "natural_breaks", 5)
    assert calls == [5, 4, 5, 5]


def test_seeded_schemes_give_the_same_classes_when_sessions_classify_at_once():
    """k-means seeds NumPy's global generator (and so does the Fisher-Jenks sample, under the same lock): four server
    threads classifying at once get exactly what each gets alone (without classify's lock, 23 of 24 differed)."""
    import threading

    from geo.present import classify

    data = np.random.default_rng(1).gamma(2, 10, 3000)
    calls = [(classify._natural_breaks, classify.ClassifyRequest(data, data, 7, True, None, seed)) for seed in (1, 2, 3, 4)]
    alone = [scheme(req).yb.tobytes() for scheme, req in calls]
    differed: list[int] = []

    def run(i: int) -> None:
        scheme, req = calls[i]
        differed.extend(i for _ in range(6) if scheme(req).yb.tobytes() != alone[i])
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert differed == []
