"""District summaries by MHCLG's method, checked by hand on a tiny district."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.derive.summaries import extent_weights, national_percentile, rank_summaries, summarise_districts


def tiny() -> pd.DataFrame:
    # 10 LSOAs nationally; district A has 3 of them.
    return pd.DataFrame({
        "district": ["A", "A", "A", "B", "B", "B", "B", "C", "C", "C"],
        "score": [50.0, 30.0, 10.0, 40.0, 20.0, 5.0, 4.0, 3.0, 2.0, 1.0],
        "rank": [1, 3, 6, 2, 4, 5, 7, 8, 9, 10],
        "pop": [100, 300, 600, 100, 100, 100, 100, 100, 100, 100],
    })


def test_weighted_averages_and_proportion():
    out = summarise_districts(tiny(), "district", "score", "rank", "pop").set_index("district_code")
    assert out.loc["A", "average_score"] == pytest.approx((50 * 100 + 30 * 300 + 10 * 600) / 1000)
    assert out.loc["A", "average_rank"] == pytest.approx((1 * 100 + 3 * 300 + 6 * 600) / 1000)
    assert out.loc["A", "proportion_most_deprived_10pct"] == pytest.approx(1 / 3)
    assert out.loc["A", "lsoa_count"] == 3


def test_local_concentration_takes_exactly_ten_percent_of_population():
    out = summarise_districts(tiny(), "district", "score", "rank", "pop").set_index("district_code")
    # A: 10% of 1,000 = 100 people, all in the rank-1 LSOA.
    assert out.loc["A", "local_concentration"] == pytest.approx(1.0)
    # B: 10% of 400 = 40 people, all within its most deprived LSOA (rank 2).
    assert out.loc["B", "local_concentration"] == pytest.approx(2.0)
    frame = tiny()
    frame.loc[0, "pop"] = 50  # A: 95 people needed; 50 at rank 1, 45 at rank 3
    out = summarise_districts(frame, "district", "score", "rank", "pop").set_index("district_code")
    assert out.loc["A", "local_concentration"] == pytest.approx((1 * 50 + 3 * 45) / 95)


def test_extent_weights_are_banded_by_national_percentile():
    # p = ceil(100 × rank / N): weight 1 for p 1–10, (31 − p) / 21 for p 11–30 ("0.95 to 0.05"), 0 above.
    n = 1000
    ranks = np.array([1, 10, 11, 100, 101, 110, 111, 200, 290, 291, 300, 301, 1000])
    assert national_percentile(ranks, n).tolist() == [1, 1, 2, 10, 11, 11, 12, 20, 29, 30, 30, 31, 100]
    w = extent_weights(ranks, n)
    expected = [1, 1, 1, 1, 20 / 21, 20 / 21, 19 / 21, 11 / 21, 2 / 21, 1 / 21, 1 / 21, 0, 0]
    assert w.tolist() == pytest.approx(expected)
    # Banded, not continuous: every LSOA of one percentile gets the same weight.
    assert extent_weights(np.array([151, 160]), n).tolist() == pytest.approx([15 / 21, 15 / 21])
    # Percentile edges exact on a national count that does not divide by 100 (IoD2019: 32,844).
    assert national_percentile(np.array([3284, 3285, 9853, 9854]), 32844).tolist() == [10, 11, 30, 31]


def test_extent_of_a_district_by_hand():
    # 20 LSOAs nationally, district A holds ranks 2 (p10), 3 (p15), 6 (p30) and 7 (p35), 100 people each.
    frame = pd.DataFrame({"district": ["A"] * 4 + ["B"] * 16, "score": range(20, 0, -1),
                          "rank": [2, 3, 6, 7, 1, 4, 5, *range(8, 21)], "pop": [100] * 20})
    out = summarise_districts(frame, "district", "score", "rank", "pop").set_index("district_code")
    assert out.loc["A", "extent"] == pytest.approx((100 * 1 + 100 * 16 / 21 + 100 * 1 / 21 + 0) / 400)


def test_scale_counts_people_deprived():
    frame = tiny().assign(rate=[0.5, 0.1, 0.0, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1], denominator=[80, 200, 500] + [50] * 7)
    out = rank_summaries(summarise_districts(frame, "district", "rate", "rank", "pop", scale_population="denominator"))
    out = out.set_index("district_code")
    assert out.loc["A", "scale"] == pytest.approx(0.5 * 80 + 0.1 * 200)
    assert out.loc["B", "scale"] == pytest.approx(0.2 * 50 * 4)
    assert out.loc["A", "scale_rank"] == 1 and out.loc["B", "scale_rank"] == 2 and out.loc["C", "scale_rank"] == 3


def test_ties_share_the_lower_rank():
    summary = pd.DataFrame({"district_code": list("ABCD"), "average_score": [30.0, 20.0, 20.0, 10.0],
                            "average_rank": [5.0, 5.0, 7.0, 9.0]})
    ranked = rank_summaries(summary).set_index("district_code")
    assert ranked["average_score_rank"].tolist() == [1, 2, 2, 4]
    assert ranked["average_rank_rank"].tolist() == [1, 1, 3, 4]


def test_missing_values_and_wrong_national_count_are_refused():
    frame = tiny()
    frame.loc[0, "score"] = np.nan
    with pytest.raises(ValueError, match="lack a score"):
        summarise_districts(frame, "district", "score", "rank", "pop")
    with pytest.raises(ValueError, match="n_national"):
        summarise_districts(tiny().head(3), "district", "score", "rank", "pop")


def test_ranks_of_summaries_put_most_deprived_first():
    out = rank_summaries(summarise_districts(tiny(), "district", "score", "rank", "pop")).set_index("district_code")
    assert out.loc["A", "average_score_rank"] == 1 and out.loc["C", "average_score_rank"] == 3
    assert out.loc["B", "average_rank_rank"] == 1  # B: 4.5 against A: 4.6
