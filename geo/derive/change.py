"""Change between two releases of the Indices of Deprivation, on one geography.

Ranks and deciles are relative: an area can move down the ranking while getting better in
absolute terms, because others improved faster. Every view of change carries MHCLG's caveat.
"""

from __future__ import annotations

import pandas as pd

from geo.link.codes import normalise_codes
from geo.derive.summaries import district_figures
from geo.link.vintages import successor_map

CAVEAT = ("Ranks and deciles are relative: a change shows an area's position against all others, not an absolute "
          "change in deprivation. Scores from different releases are not directly comparable either (MHCLG).")


def lsoa_change(old: pd.DataFrame, new: pd.DataFrame, code: str = "code") -> pd.DataFrame:
    """Per area, both releases' score/rank/decile and their changes (rank change > 0 = more deprived now).

    Each frame has columns `code`, `score`, `rank`, `decile`; only codes present in both are compared
    (the caller reports the rest).
    """
    a = old.assign(**{code: normalise_codes(old[code])[0]}).set_index(code)
    b = new.assign(**{code: normalise_codes(new[code])[0]}).set_index(code)
    both = a.merge(b, left_index=True, right_index=True, suffixes=("_old", "_new"), how="inner")
    out = pd.DataFrame(index=both.index)
    for col in ("score", "rank", "decile"):
        out[f"{col}_old"], out[f"{col}_new"] = both[f"{col}_old"], both[f"{col}_new"]
    out["score_change"] = out["score_new"] - out["score_old"]
    out["rank_change"] = out["rank_old"] - out["rank_new"]  # positive: moved towards rank 1 (more deprived)
    out["decile_change"] = out["decile_new"] - out["decile_old"]
    return out.reset_index()


def decile_transitions(change: pd.DataFrame) -> pd.DataFrame:
    """How many areas moved from each old decile (rows) to each new decile (columns)."""
    table = pd.crosstab(change["decile_old"].astype("Int64"), change["decile_new"].astype("Int64"),
                        rownames=["old decile"], colnames=["new decile"])
    return table.reindex(index=range(1, 11), columns=range(1, 11), fill_value=0)


def to_current_districts(codes: pd.Series) -> pd.Series:
    """District codes mapped through every later merger or recode to the code in use today."""
    final = successor_map()
    clean = normalise_codes(codes)[0]
    return clean.map(lambda code: final.get(code, code))


def district_change(old_lsoas: pd.DataFrame, new_lsoas: pd.DataFrame, old_n: int, new_n: int) -> pd.DataFrame:
    """District summaries of two releases on the newer district geography, and their change.

    Each frame has columns `district`, `score`, `rank`, `population` (one row per LSOA of that
    release, with national ranks out of `old_n` / `new_n`). The older release's LSOAs are assigned to
    the successors of their districts (mergers are of whole districts), then summarised by MHCLG's
    method, so both releases are compared on one set of districts.
    """
    old = old_lsoas.assign(district=to_current_districts(old_lsoas["district"]))
    new = new_lsoas.assign(district=to_current_districts(new_lsoas["district"]))
    s_old = district_figures(old, old_n).reset_index()
    s_new = district_figures(new, new_n).reset_index()
    both = s_old.merge(s_new, on="district_code", suffixes=("_old", "_new"), how="outer", indicator=True)
    both["in"] = both.pop("_merge").map({"both": "both", "left_only": "older only", "right_only": "newer only"})
    both["average_score_change"] = both["average_score_new"] - both["average_score_old"]
    both["average_score_rank_change"] = both["average_score_rank_old"] - both["average_score_rank_new"]
    both["extent_change"] = both["extent_new"] - both["extent_old"]
    both["proportion_most_deprived_10pct_change"] = (both["proportion_most_deprived_10pct_new"]
                                                     - both["proportion_most_deprived_10pct_old"])
    return both
