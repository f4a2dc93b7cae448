"""An area profile's numbers: one district (or a group of districts) seen through its LSOAs.

Pure: from each measure's LSOA frame (`geo.link.layers.measure_frame`: code, district, score, rank,
decile, population, weight) it computes

- the district's LSOAs by national IMD decile (decile 1 = England's most deprived 10%);
- its **priority neighbourhoods**: the LSOAs in England's most deprived 10% and 20% on the IMD
  (by national rank: rank ≤ 10% / 20% of the national count), each with its worst domains (the
  lowest domain ranks, 1 = most deprived);
- the **local gap** on each domain between the priority LSOAs (most deprived 20%) and the rest of the
  district: the population-weighted mean LSOA score of each (weighted by each domain's own
  population, working-age for Employment, as MHCLG weights its district summaries), their difference,
  and that difference in standard deviations of England's LSOA scores (domains have different scales:
  Income is a share of people, Education a score, so only the standardised gaps compare across domains).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PRIORITY_PERCENTS = (10, 20)
WORST_DOMAINS = 3


@dataclass
class AreaProfile:
    codes: list[str]                       # the districts, as asked
    name: str                              # "Hartlepool", or "Hartlepool and Middlesbrough"
    n_national: int                        # LSOAs in England (what ranks are out of)
    lsoas: pd.DataFrame                    # one row per LSOA: code, name, district, imd rank/decile/score, band …
    deciles: pd.Series                     # national IMD decile 1–10 → LSOAs of the area
    priority: pd.DataFrame                 # the LSOAs in the most deprived 20% (band 10% or 20%), worst domains
    gaps: pd.DataFrame                     # per domain: priority mean, rest mean, gap
    names: dict[str, str] = field(default_factory=dict)  # district code → name

    @property
    def n_lsoas(self) -> int:
        return len(self.lsoas)

    def in_most_deprived(self, percent: int) -> int:
        return int((self.lsoas["imd_rank"] <= self.n_national * percent / 100).sum())


def _weighted_mean(values: pd.Series, weights: pd.Series) -> float:
    v, w = pd.to_numeric(values, errors="coerce"), pd.to_numeric(weights, errors="coerce")
    ok = v.notna() & w.notna() & (w > 0)
    return float(np.average(v[ok], weights=w[ok])) if ok.any() else float("nan")


def area_profile(frames: dict[str, pd.DataFrame], codes: list[str], n_national: int,
                 labels: dict[str, str] | None = None, lsoa_names: pd.Series | None = None,
                 district_names: dict[str, str] | None = None) -> AreaProfile:
    """The profile of the districts `codes` from each measure's LSOA frame (`frames['imd']` required).

    `lsoa_names`: LSOA code → name (optional); `district_names`: district code → name.
    """
    labels = labels or {}
    wanted = [str(c).strip().upper() for c in codes]
    imd = frames["imd"]
    inside = imd["district"].astype("string").str.strip().str.upper().isin(wanted).fillna(False).to_numpy()
    lsoas = pd.DataFrame({"code": imd["code"].to_numpy()[inside],
                          "district": imd["district"].astype("string").str.strip().str.upper().to_numpy()[inside],
                          "imd_score": pd.to_numeric(imd["score"], errors="coerce").to_numpy()[inside],
                          "imd_rank": pd.to_numeric(imd["rank"], errors="coerce").to_numpy()[inside],
                          "imd_decile": pd.to_numeric(imd["decile"], errors="coerce").to_numpy()[inside],
                          "population": pd.to_numeric(imd["population"], errors="coerce").to_numpy()[inside]})
    if lsoa_names is not None:
        lsoas.insert(1, "name", lsoas["code"].map(lsoa_names).fillna(lsoas["code"]))
    else:
        lsoas.insert(1, "name", lsoas["code"])
    missing = lsoas["imd_decile"].isna()
    lsoas.loc[missing, "imd_decile"] = np.ceil(lsoas.loc[missing, "imd_rank"] * 10 / n_national)
    domains = [d for d in frames if d != "imd"]
    for d in domains:
        f = frames[d].set_index("code")
        lsoas[f"{d}_rank"] = pd.to_numeric(f["rank"], errors="coerce").reindex(lsoas["code"]).to_numpy()
        lsoas[f"{d}_score"] = pd.to_numeric(f["score"], errors="coerce").reindex(lsoas["code"]).to_numpy()
        weight = f["weight"] if "weight" in f and f["weight"].notna().any() else f["population"]
        lsoas[f"{d}_weight"] = pd.to_numeric(weight, errors="coerce").reindex(lsoas["code"]).to_numpy()
    band = pd.Series("", index=lsoas.index, dtype=object)
    for percent in sorted(PRIORITY_PERCENTS, reverse=True):
        band[lsoas["imd_rank"] <= n_national * percent / 100] = f"most deprived {percent}%"
    lsoas["priority"] = band
    worst = []
    for _, row in lsoas.iterrows():
        ranked = sorted(((row[f"{d}_rank"], d) for d in domains if pd.notna(row[f"{d}_rank"])))[:WORST_DOMAINS]
        worst.append("; ".join(f"{labels.get(d, d)} (rank {int(r):,})" for r, d in ranked))
    lsoas["worst_domains"] = worst
    lsoas = lsoas.sort_values("imd_rank", kind="stable").reset_index(drop=True)
    deciles = lsoas["imd_decile"].value_counts().reindex(range(1, 11), fill_value=0).astype(int)
    deciles.index.name = "imd_decile"
    priority = lsoas[lsoas["priority"] != ""][["code", "name", "district", "priority", "imd_rank", "imd_decile",
                                                "imd_score", "worst_domains"]].reset_index(drop=True)
    is_priority = lsoas["priority"] != ""
    rows = []
    for d in ["imd", *domains]:
        score = lsoas["imd_score"] if d == "imd" else lsoas[f"{d}_score"]
        weight = lsoas["population"] if d == "imd" else lsoas[f"{d}_weight"]
        p, r = _weighted_mean(score[is_priority], weight[is_priority]), _weighted_mean(score[~is_priority],
                                                                                         weight[~is_priority])
        gap = p - r if np.isfinite(p) and np.isfinite(r) else float("nan")
        spread = float(pd.to_numeric(frames[d]["score"], errors="coerce").std())  # England's LSOAs
        rows.append({"measure": d, "label": labels.get(d, d), "priority_lsoas": int(is_priority.sum()),
                     "rest_lsoas": int((~is_priority).sum()), "priority_mean_score": p, "rest_mean_score": r,
                     "gap": gap, "gap_in_england_sd": gap / spread if spread > 0 else float("nan")})
    gaps = pd.DataFrame(rows)
    names = {c: (district_names or {}).get(c, c) for c in wanted}
    shown = [names[c] for c in wanted]
    name = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return AreaProfile(wanted, name, n_national, lsoas, deciles, priority, gaps, names)


def profile_headlines(p: AreaProfile, labels: dict[str, str] | None = None) -> list[str]:
    """Sentences a strategy paper can quote: counts in the most deprived 10% and 20%, the widest gap."""
    labels = labels or {}
    its = "its" if len(p.codes) == 1 else "their"
    ten, twenty = p.in_most_deprived(10), p.in_most_deprived(20)
    out = [f"{p.name}: {ten} of {its} {p.n_lsoas} LSOAs are in England's most deprived 10%; {twenty} are in the "
           f"most deprived 20%."]
    gaps = p.gaps[(p.gaps["measure"] != "imd") & p.gaps["gap_in_england_sd"].notna()]
    if ten + twenty and not gaps.empty and p.gaps["rest_lsoas"].iloc[0] > 0:
        ranked = p.priority.copy()
        worst = gaps.loc[gaps["gap_in_england_sd"].idxmax()]
        out.append(f"The widest local gap (against England's spread of LSOA scores) is on {worst['label']}: the "
                   f"priority neighbourhoods score {worst['priority_mean_score']:.3f} against "
                   f"{worst['rest_mean_score']:.3f} in the rest of {p.name} (population-weighted mean scores; "
                   f"{worst['gap_in_england_sd']:.1f} standard deviations).")
        if not ranked.empty:
            first = ranked.iloc[0]
            out.append(f"The most deprived is {first['name']} ({first['code']}), ranked {int(first['imd_rank']):,} of "
                       f"{p.n_national:,} in England; its worst domains: {first['worst_domains']}.")
    elif not ten + twenty:
        out.append(f"None of {its} LSOAs is in England's most deprived 20% on the IMD.")
    return out
