"""Replay the 2001 Neighbourhood Renewal Fund selection from the IMD 2000 ward file (an approximation).

The NRF (2001) went to 88 authorities: the 50 most deprived on any of the six district measures of
the Indices of Deprivation 2000 (81 authorities) plus 7 from the Index of Local Deprivation 1998
(HC Deb 26 Nov 2001 cc610-1W). DETR's district measures weight wards by population; the ward file
has no populations, so here every ward counts once:

- average of ward scores → mean ward IMD score;
- average of ward ranks → mean ward IMD rank;
- extent → share of the district's wards in England's most deprived 10% of wards (ward rank at most
  ceil(10% of all wards): 842 of 8,414, the file's own IMD decile 1). In 2000 extent was the share
  of population in the most deprived 10% of wards, with no sliding 10–30% band (that came with the
  Indices of Deprivation 2004), so none is applied here;
- local concentration → mean rank of the district's most deprived wards making up 10% of its wards,
  the last one counted in part (as DETR counted part of a ward to reach exactly 10% of population),
  so a district of fewer than ten wards is represented by its most deprived ward;
- income scale and employment scale → not computed: they are counts of income- and employment-
  deprived people, which the ward file does not hold.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import AtlasError
from geo.load.io import Source, parse_numbers, read_table

WARD = "Ward"
DISTRICT = "LA"
DISTRICT_NAME = "LA Name"
SCORE = "Index of Multiple Deprivation Score"
RANK = "Rank of Index of Multiple Deprivation"
COLUMNS = (WARD, DISTRICT, DISTRICT_NAME, SCORE, RANK)

# measure id → (label, higher value is more deprived)
MEASURES: dict[str, tuple[str, bool]] = {
    "average_score": ("average of ward scores", True),
    "average_rank": ("average of ward ranks", False),
    "extent": ("extent", True),
    "local_concentration": ("local concentration", False),
}
NOT_COMPUTED = ("income scale", "employment scale")
SHARE = 0.10

APPROXIMATION = (
    "This is an approximation of the 2001 selection, not a reconstruction: every ward is weighted equally "
    "because the ward file has no populations. Making it exact needs ward populations (for the population-weighted "
    "average score and rank, for extent and for local concentration), the numbers of income- and "
    "employment-deprived people per district (for the income and employment scales, not computed here), and the "
    "Index of Local Deprivation 1998 district measures (for the 7 authorities added from it)."
)


def read_wards(source: Source, name: str | None = None) -> pd.DataFrame:
    """Read an IMD 2000 ward table through the safe reader; return ward, district, district_name, score, rank."""
    table = read_table(source, name=name)
    return prepare_wards(table)


def prepare_wards(table: pd.DataFrame) -> pd.DataFrame:
    """Check and convert a ward table in the IMD 2000 layout; raise AtlasError on anything unusable."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        found = ", ".join(map(str, list(table.columns)[:10]))
        raise AtlasError(
            f"The table is not an IMD 2000 ward file: it has no column {', '.join(repr(c) for c in missing)}.",
            f"Give the IMD 2000 ward table (8,414 wards of 1998, columns {', '.join(COLUMNS)}). "
            f"Columns found: {found}{' …' if len(table.columns) > 10 else ''}")
    out = pd.DataFrame({
        "ward": table[WARD].astype("string").str.strip(),
        "district": table[DISTRICT].astype("string").str.strip(),
        "district_name": table[DISTRICT_NAME].astype("string").str.strip(),
        "score": parse_numbers(table[SCORE])[0],
        "rank": parse_numbers(table[RANK])[0],
    })
    for column, header in (("score", SCORE), ("rank", RANK)):
        bad = out[column].isna()
        if bad.any():
            raise AtlasError(f"{int(bad.sum()):,} ward(s) have no number in '{header}' (first: {out['ward'][bad].iloc[0]}).",
                             "Every ward needs its IMD 2000 score and rank; use the file as published.")
    for column, header in (("ward", WARD), ("district", DISTRICT), ("district_name", DISTRICT_NAME)):
        if out[column].isna().any() or out[column].eq("").any():
            raise AtlasError(f"Some wards have an empty '{header}'.", "Every ward needs its code and its district.")
    if out["ward"].duplicated().any():
        raise AtlasError(f"Ward {out['ward'][out['ward'].duplicated()].iloc[0]} appears more than once.",
                         "Give each 1998 ward once.")
    n = len(out)
    if (out["rank"] < 1).any() or (out["rank"] > n).any() or (out["rank"] % 1 != 0).any():
        raise AtlasError(f"'{RANK}' is not a national ward rank from 1 to {n:,}.",
                         "Give the whole ward table (all of England's wards), not a selection of it.")
    names = out.groupby("district")["district_name"].nunique()
    if (names > 1).any():
        raise AtlasError(f"District {names[names > 1].index[0]} has more than one name.", "Check the LA Name column.")
    return out


def _concentration(ranks: np.ndarray, share: float) -> float:
    """Mean of the lowest ranks making up `share` of the wards, the last ward counted in part (at least one ward)."""
    ranks = np.sort(ranks)
    k = share * len(ranks)
    weights = np.clip(k - np.arange(len(ranks)), 0.0, 1.0)  # k < 1 still gives the first ward weight k > 0
    return float((weights * ranks).sum() / weights.sum())


def district_measures(wards: pd.DataFrame, share: float = SHARE) -> pd.DataFrame:
    """The four equal-weight district measures and their ranks (1 = most deprived, ties share the lowest rank)."""
    national = math.ceil(round(share * len(wards), 9))
    in_worst = wards["rank"] <= national
    grouped = wards.assign(in_worst=in_worst).groupby("district", sort=True)
    out = pd.DataFrame({
        "district_name": grouped["district_name"].first(),
        "wards": grouped.size(),
        "wards_in_worst_10pc": grouped["in_worst"].sum().astype(int),
        "average_score": grouped["score"].mean(),
        "average_rank": grouped["rank"].mean(),
        "extent": grouped["in_worst"].mean(),
        "local_concentration": grouped["rank"].apply(lambda r: _concentration(r.to_numpy(float), share)),
    }).reset_index()
    for measure, (_, higher_worse) in MEASURES.items():
        out[f"rank_{measure}"] = out[measure].rank(method="min", ascending=not higher_worse).astype(int)
    return out


def select(measures: pd.DataFrame, n: int = 50) -> pd.DataFrame:
    """Add `eligible` (in the top n on any measure) and `eligible_on` (the measures that put it there)."""
    if n < 1:
        raise AtlasError(f"--n must be at least 1 (got {n}).", "Give how many districts count as most deprived, e.g. 50.")
    out = measures.copy()
    hits = pd.DataFrame({label: out[f"rank_{m}"] <= n for m, (label, _) in MEASURES.items()})
    out["eligible"] = hits.any(axis=1)
    out["eligible_on"] = hits.apply(lambda row: "; ".join(c for c in hits.columns if row[c]), axis=1)
    return out


def normalise_name(name: str) -> str:
    """A district name reduced for matching: case, '&'/'and', 'St.', ', City of', 'County of', punctuation."""
    text = unicodedata.normalize("NFKC", str(name)).replace("\u2019", "'").lower().strip()
    text = text.replace("&", " and ")
    text = re.sub(r",\s*(city|county) of$", "", text)
    text = re.sub(r"^(city|county) of\s+", "", text)
    text = re.sub(r"\bsaint\b", "st", text)
    text = re.sub(r"[.'’]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.strip()


def match_names(districts: pd.DataFrame, names: Iterable[str]) -> dict[str, str]:
    """Each given (2001) name → the district code whose name matches it; raise AtlasError naming any unmatched."""
    keys: dict[str, list[str]] = {}
    for code, district_name in zip(districts["district"], districts["district_name"]):
        keys.setdefault(normalise_name(district_name), []).append(code)
    out: dict[str, str] = {}
    unmatched, ambiguous = [], []
    for name in names:
        codes = keys.get(normalise_name(name), [])
        if len(codes) == 1:
            out[name] = codes[0]
        elif codes:
            ambiguous.append(name)
        else:
            unmatched.append(name)
    if unmatched or ambiguous:
        words = []
        if unmatched:
            words.append(f"{len(unmatched)} NRF name(s) match no district in the ward file: {', '.join(unmatched)}")
        if ambiguous:
            words.append(f"{len(ambiguous)} match more than one district: {', '.join(ambiguous)}")
        raise AtlasError("; ".join(words) + ".",
                         "Give the IMD 2000 ward file of 1998 districts (354), or add the spelling to normalise_name.")
    codes = pd.Series(out)
    if codes.duplicated().any():
        twice = codes[codes.duplicated(keep=False)]
        raise AtlasError(f"NRF names {', '.join(twice.index)} all match district {twice.iloc[0]}.",
                         "Each NRF authority must be a different district.")
    return out


@dataclass
class Replay:
    """The replayed selection: per-district measures and flags, and how it compares with the NRF 88."""

    districts: pd.DataFrame
    n: int
    eligible: int
    reference: int
    recovered: int
    missed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    note: str = APPROXIMATION

    def recovery_sentence(self) -> str:
        """The recovery figures in words."""
        return (f"The top {self.n} on any of the four measures select {self.eligible} of {len(self.districts)} districts; "
                f"they recover {self.recovered} of the {self.reference} NRF authorities of 2001, miss "
                f"{len(self.missed)} and add {len(self.added)} that were not funded. The 88 are the 81 chosen on "
                "the IMD 2000 plus 7 from the Index of Local Deprivation 1998, which the list does not mark, so the "
                "81 cannot be separated here: some of the missed are expected to be the 7.")

    def lines(self) -> list[str]:
        """The report as printable lines."""
        not_computed = " and ".join(NOT_COMPUTED)
        return [
            self.recovery_sentence(),
            f"Missed ({len(self.missed)}): {', '.join(self.missed) or 'none'}.",
            f"Added ({len(self.added)}): {', '.join(self.added) or 'none'}.",
            f"Measures used: {', '.join(label for label, _ in MEASURES.values())} (every ward weighted equally); "
            f"{not_computed} not computed (no counts of deprived people in the ward file).",
            self.note,
        ]


def replay_2001(wards: pd.DataFrame, n: int = 50, nrf_names: Iterable[str] | None = None) -> Replay:
    """Apply "top n on any of the four measures" to a prepared ward table and compare with the NRF 88."""
    if nrf_names is None:
        from geo.derive.nrf import nrf_2001

        nrf_names = nrf_2001()["nrf_name"].tolist()
    nrf_names = list(nrf_names)
    table = select(district_measures(wards), n)
    matched = match_names(table, nrf_names)
    nrf_of = {code: name for name, code in matched.items()}
    table["nrf_name"] = table["district"].map(nrf_of).astype("string")
    table["nrf_2001"] = table["nrf_name"].notna()
    eligible = table["eligible"]
    missed = table.loc[table["nrf_2001"] & ~eligible, "nrf_name"].astype(str).tolist()
    added = table.loc[~table["nrf_2001"] & eligible, "district_name"].astype(str).tolist()
    return Replay(districts=table, n=n, eligible=int(eligible.sum()), reference=len(nrf_names),
                  recovered=int((table["nrf_2001"] & eligible).sum()), missed=sorted(missed), added=sorted(added))
