"""District summaries of LSOA deprivation, exactly as MHCLG publishes them (IoD2019 technical report, ch. 3).

For each district, from its LSOAs' national scores, ranks and populations:
- average rank: population-weighted mean of LSOA ranks;
- average score: population-weighted mean of LSOA scores;
- proportion of LSOAs in the most deprived 10% nationally;
- extent: the share of the population living in the most deprived 30% of LSOAs nationally, on a
  *banded* sliding scale by national percentile p = ceil(100 × rank / N): weight 1 for p = 1–10,
  (31 − p) / 21 for p = 11–30 ("from 0.95 to 0.05"), 0 above. This reproduces every published
  IoD2019 district extent to its rounding (≤ 0.0005 for all 317);
- local concentration: population-weighted mean rank of the district's most deprived LSOAs that
  together hold exactly 10% of its population (the last LSOA counts in part);
- scale (income and employment only): the number of people deprived — the domain rate × its
  denominator (total population for income, working-age population for employment).
Each with its rank among districts: 1 = most deprived, ties share the lower rank (`method="min"`).
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
# Summary measure → is a higher value more deprived? (average rank and local concentration: rank 1 is).
MEASURES = {
    "average_rank": False,
    "average_score": True,
    "proportion_most_deprived_10pct": True,
    "extent": True,
    "local_concentration": False,
    "scale": True,
}
SCALE_DOMAINS = ("income", "employment")


def national_percentile(ranks: np.ndarray, n_national: int) -> np.ndarray:
    """Each LSOA's national percentile p = ceil(100 × rank / N): 1 = the most deprived 1%."""
    return np.ceil(np.asarray(ranks, dtype=float) * 100.0 / n_national - 1e-9)


def extent_weights(ranks: np.ndarray, n_national: int) -> np.ndarray:
    """Weight each LSOA's population counts towards extent: 1 for p ≤ 10, (31 − p)/21 for p 11–30, else 0."""
    p = national_percentile(ranks, n_national)
    return np.where(p <= 10, 1.0, np.where(p <= 30, (31.0 - p) / 21.0, 0.0))


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
    scale_population: str | None = None,
) -> pd.DataFrame:
    """Summarise national LSOA scores/ranks to districts; returns one row per district code.

    `n_national` is the number of LSOAs the ranks were computed over (32,844 for IoD2019); it
    defaults to the number of rows, which is right only for a whole-England table. With
    `scale_population` (the domain's denominator) a `scale` column is added: Σ rate × denominator.
    """
    df = pd.DataFrame({
        "district_code": lsoas[district].astype("string").str.strip(),
        "score": pd.to_numeric(lsoas[score], errors="coerce"),
        "rank": pd.to_numeric(lsoas[rank], errors="coerce"),
        "pop": pd.to_numeric(lsoas[population], errors="coerce"),
    })
    needed = ["score", "rank", "pop"]
    if scale_population is not None:
        df["scale_pop"] = pd.to_numeric(lsoas[scale_population], errors="coerce")
        needed.append("scale_pop")
    missing = df[needed].isna().any(axis=1)
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
    })
    columns = list(SUMMARY_COLUMNS)
    if scale_population is not None:
        out["scale"] = (df["score"] * df["scale_pop"]).groupby(df["district_code"], sort=True).sum()
        columns.append("scale")
    return out.reset_index()[columns]


def rank_summaries(summary: pd.DataFrame) -> pd.DataFrame:
    """Add rank columns (1 = most deprived; ties share the lower rank) for each summary measure present."""
    out = summary.copy()
    for col, higher_is_worse in MEASURES.items():
        if col in out.columns:
            out[f"{col}_rank"] = out[col].rank(ascending=not higher_is_worse, method="min").astype("Int64")
    return out


def summarise_measure(lsoas: pd.DataFrame, district: str, score: str, rank: str, weight: str, n_national: int,
                      scale_population: str | None = None) -> pd.DataFrame:
    """One measure's district summaries with their ranks: the single implementation the app, rules and CLI use."""
    return rank_summaries(summarise_districts(lsoas, district, score, rank, weight, n_national, scale_population))


def summarise_release(lsoas: pd.DataFrame, layout, measures: list[dict]) -> pd.DataFrame:
    """Every measure's district summaries and ranks, one row per district (numbers already parsed).

    `layout` is a `geo.catalogue.ReleaseLayout`; `measures` the catalogue's measure entries. Columns:
    `district_code`, `district_name` (when the table has names), `lsoa_count`, `population`, then the
    IMD's summaries under today's names (`average_score`, `average_score_rank`, `average_rank`, …) and
    each domain's as `<domain>_<summary>` and `<domain>_<summary>_rank` (e.g. `income_scale_rank`).
    """
    if "pop_total" not in layout.populations:
        raise ValueError("The table has no total population column; district summaries are population-weighted.")
    out: pd.DataFrame | None = None
    for entry in measures:
        mid = entry["id"]
        if mid not in layout.scores or mid not in layout.ranks:
            continue
        weight = layout.populations.get(entry.get("weight", "pop_total"))
        if weight is None:
            raise ValueError(f"{entry['label']} summaries are weighted by the {entry['weight']} column, "
                             "which the table lacks.")
        scale = layout.populations.get(entry["scale_denominator"]) if "scale_denominator" in entry else None
        s = summarise_measure(lsoas, layout.district_column, layout.scores[mid], layout.ranks[mid], weight,
                              layout.n_national, scale)
        if out is None:
            pops = summarise_districts(lsoas, layout.district_column, layout.scores[mid], layout.ranks[mid],
                                       layout.populations["pop_total"], layout.n_national)
            out = pops[["district_code", "lsoa_count", "population"]]
        s = s[["district_code", *[c for m in MEASURES if m in s.columns for c in (m, f"{m}_rank")]]]
        if mid != "imd":
            s = s.rename(columns={c: f"{mid}_{c}" for c in s.columns if c != "district_code"})
        out = out.merge(s, on="district_code", how="left", validate="1:1")
    if out is None:
        raise ValueError("The table has no measure with both a score and a rank column.")
    if layout.district_name_column:
        names = (lsoas[[layout.district_column, layout.district_name_column]]
                 .assign(district_code=lambda d: d[layout.district_column].astype("string").str.strip())
                 .drop_duplicates("district_code")[["district_code", layout.district_name_column]]
                 .rename(columns={layout.district_name_column: "district_name"}))
        out = out.merge(names, on="district_code", how="left", validate="1:1")
        out = out[["district_code", "district_name", *[c for c in out.columns if c not in ("district_code", "district_name")]]]
    return out


def district_figures(lsoas: pd.DataFrame, n_national: int) -> pd.DataFrame:
    """MHCLG summaries and ranks, plus LSOA counts by national percentile, for one domain.

    `lsoas` has columns district, score, rank, population (one row per LSOA of the release), and
    optionally `weight` (the population the domain is weighted by: working-age for Employment) and
    `scale_population` (the denominator of the domain's scale: Income and Employment).
    """
    weight = "weight" if "weight" in lsoas and lsoas["weight"].notna().all() else "population"
    scale = "scale_population" if "scale_population" in lsoas and lsoas["scale_population"].notna().all() else None
    out = summarise_measure(lsoas, "district", "score", "rank", weight, n_national, scale)
    if weight != "population":  # lsoa_count/population stay the total population, whatever the weight
        out["population"] = pd.to_numeric(lsoas["population"], errors="coerce").groupby(
            lsoas["district"].astype("string").str.strip()).sum().reindex(out["district_code"]).to_numpy()
    return out.set_index("district_code")
