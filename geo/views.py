"""From an LSOA indicator table and boundary layers to the layer a map shows.

Two views of deprivation: districts nationally (summaries computed from LSOAs by MHCLG's
method) and the LSOAs inside one or more chosen districts (national scores, ranks, deciles).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.catalogue import Column, find_population_column, measures, recognise_columns
from geo.codes import GSS, detect_level, detect_vintage, normalise_codes
from geo.errors import AtlasError
from geo.io import parse_numbers
from geo.join import CODE, guess_code_column
from geo.summaries import rank_summaries, summarise_districts

NATIONAL_LSOAS = {"LSOA 2011": 32844, "LSOA 2021": 33755}


@dataclass
class IndicatorTable:
    """An LSOA-level table with its recognised IoD columns parsed as numbers."""

    frame: pd.DataFrame
    code_column: str
    district_column: str | None
    district_name_column: str | None
    name_column: str | None
    columns: dict[str, Column]
    population_column: str | None
    suppressed: dict[str, int]

    def column_for(self, measure: str, kind: str) -> Column | None:
        for col in self.columns.values():
            if col.measure == measure and col.kind == kind:
                return col
        return None

    def available_measures(self) -> list[dict]:
        have = {c.measure for c in self.columns.values()}
        return [m for m in measures() if m["id"] in have]

    def n_national(self) -> int:
        """How many LSOAs the national ranks are out of: 33,755 on 2021 codes, else 32,844 (IoD2019)."""
        codes, _ = normalise_codes(self.frame[self.code_column])
        if detect_vintage(codes, "LSOA").startswith("LSOA 2021"):
            return NATIONAL_LSOAS["LSOA 2021"]
        rank_max = max((self.frame[c.name].max() for c in self.columns.values() if c.kind == "rank"), default=0)
        return max(NATIONAL_LSOAS["LSOA 2011"], int(rank_max) if pd.notna(rank_max) else 0)


def _find_column(headers: list[str], *needles: str) -> str | None:
    for needle in needles:
        for h in headers:
            if needle in h.lower():
                return h
    return None


def prepare_table(table: pd.DataFrame, code_column: str | None = None) -> IndicatorTable:
    """Recognise IoD columns, parse their numbers ('29,199' → 29199) and find the code columns."""
    headers = [str(c) for c in table.columns]
    code_column = code_column or guess_code_column(table)
    recognised = recognise_columns(headers)
    frame = table.copy()
    suppressed: dict[str, int] = {}
    population = find_population_column(headers)
    for col in list(recognised) + ([population] if population else []):
        numbers, marked = parse_numbers(frame[col])
        frame[col] = numbers
        if marked.any():
            suppressed[col] = int(marked.sum())
    district = None
    for h in headers:
        if h == code_column:
            continue
        codes, _ = normalise_codes(table[h].head(500))
        if codes.str.fullmatch(GSS.pattern).fillna(False).mean() > 0.9 and detect_level(codes) == "District":
            district = h
            break
    district_name = _find_column([h for h in headers if h not in (district, code_column)],
                                 "local authority district name", "lad19nm", "lad24nm", "lad21nm", "district name")
    name = _find_column([h for h in headers if h not in (district_name,)], "lsoa name", "lsoa11nm", "lsoa21nm")
    return IndicatorTable(frame, code_column, district, district_name, name, recognised, population, suppressed)


def measure_frame(ind: IndicatorTable, measure: str) -> pd.DataFrame:
    """One measure as columns code, district, score, rank, decile, population (missing parts as NaN)."""
    out = pd.DataFrame({"code": normalise_codes(ind.frame[ind.code_column])[0]})
    out["district"] = ind.frame[ind.district_column].astype("string").str.strip() if ind.district_column else pd.NA
    for kind in ("score", "rank", "decile"):
        col = ind.column_for(measure, kind)
        out[kind] = ind.frame[col.name] if col else float("nan")
    out["population"] = ind.frame[ind.population_column] if ind.population_column else float("nan")
    return out


def guess_name_column(frame: pd.DataFrame, exclude: tuple[str, ...] = ()) -> str | None:
    """A column of area names: header like '…NM' / '…name', values mostly text that is not a code."""
    for col in frame.columns:
        header = str(col).lower()
        if col in exclude or col == getattr(frame, "_geometry_column_name", None):
            continue
        if header.endswith("nm") or "name" in header:
            values = frame[col].astype("string").dropna().head(200)
            if len(values) and not values.str.fullmatch(GSS.pattern).mean() > 0.5:
                return str(col)
    return None


def numeric_columns(table: pd.DataFrame, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns where most non-empty cells parse as numbers (candidates to map in a user's own table)."""
    out = []
    for col in table.columns:
        if col in exclude or col == CODE or str(col).startswith("_"):
            continue
        text = table[col].astype("string").str.strip()
        filled = text[text.fillna("") != ""]
        if filled.empty:
            continue
        numbers, marked = parse_numbers(filled)
        if (numbers.notna() | marked).mean() > 0.8:
            out.append(col)
    return out


def district_summaries(ind: IndicatorTable, measure: str) -> pd.DataFrame:
    """MHCLG district summaries of one IoD measure from the LSOA table."""
    score, rank = ind.column_for(measure, "score"), ind.column_for(measure, "rank")
    if ind.district_column is None:
        raise AtlasError("The table has no district code column, so districts cannot be summarised.",
                         "Use a table with a 'Local Authority District code' column (as in IoD File 7).")
    if score is None or rank is None or ind.population_column is None:
        missing = [w for w, c in (("score", score), ("rank", rank), ("population", ind.population_column)) if c is None]
        raise AtlasError(f"District summaries of this measure need LSOA {', '.join(missing)} columns.",
                         "Use IoD File 7 (all scores, ranks, deciles and population denominators).")
    out = summarise_districts(ind.frame, ind.district_column, score.name, rank.name, ind.population_column,
                              n_national=ind.n_national())
    out = rank_summaries(out)
    if ind.district_name_column:
        names = ind.frame[[ind.district_column, ind.district_name_column]].drop_duplicates(ind.district_column)
        names = names.rename(columns={ind.district_column: "district_code", ind.district_name_column: "district_name"})
        names["district_code"] = names["district_code"].astype("string").str.strip()
        out = out.merge(names, on="district_code", how="left")
    return out


def lsoas_in_districts(joined: gpd.GeoDataFrame, ind: IndicatorTable, districts: list[str],
                       boundary_district_column: str | None = None) -> gpd.GeoDataFrame:
    """The joined LSOA rows inside the chosen districts (by the table's or the boundaries' district code)."""
    col = boundary_district_column or ind.district_column
    if col is None or col not in joined.columns:
        raise AtlasError("Cannot tell which district each LSOA is in.",
                         "The table or the boundary file needs a district code column.")
    codes = joined[col].astype("string").str.strip().str.upper()
    return joined[codes.isin([d.upper() for d in districts])].copy()
