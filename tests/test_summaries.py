"""District summaries by MHCLG's method, checked by hand on a tiny district."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.summaries import extent_weights, rank_summaries, summarise_districts


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


def test_extent_weights_slide_from_tenth_to_thirtieth_percentile():
    w = extent_weights(np.array([1, 1000, 2000, 3000, 4000]), 10000)
    assert w.tolist() == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0])


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
