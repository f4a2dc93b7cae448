"""The layers the maps show: an LSOA indicator table recognised, joined to boundaries, summarised by district.

The building blocks of the views in `geo.views`: districts nationally (summaries computed from LSOAs
by MHCLG's method) and the LSOAs inside one or more chosen districts (national scores, ranks, deciles).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.catalogue import Column, find_population_column, measure_entry, measures, recognise_columns
from geo.link.codes import GSS, codes_of, detect_level, detect_vintage, normalise_codes, with_normalised_codes
from geo.errors import AtlasError
from geo.load.io import parse_numbers
from geo.link.join import CODE, guess_code_column
from geo.derive.summaries import summarise_measure

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
    working_age_column: str | None = None

    def weight_column(self, measure: str) -> str | None:
        """The population a measure's district summaries are weighted by (working-age for Employment)."""
        try:
            wanted = measure_entry(measure).get("weight", "pop_total")
        except KeyError:
            wanted = "pop_total"
        return self.working_age_column if wanted == "pop_working_age" else self.population_column

    def scale_column(self, measure: str) -> str | None:
        """The denominator of a measure's scale (people deprived), where MHCLG publishes one (Income, Employment)."""
        try:
            wanted = measure_entry(measure).get("scale_denominator")
        except KeyError:
            return None
        return {"pop_total": self.population_column, "pop_working_age": self.working_age_column}.get(wanted)

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
        codes, _ = codes_of(self.frame, self.code_column)
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
    working_age = find_population_column(headers, "pop_working_age")
    for col in list(recognised) + [c for c in (population, working_age) if c]:
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
    if code_column in frame.columns:  # the table enters here: its codes are normalised once, and carried
        frame = with_normalised_codes(frame, code_column)
    return IndicatorTable(frame, code_column, district, district_name, name, recognised, population, suppressed,
                          working_age)


def measure_frame(ind: IndicatorTable, measure: str) -> pd.DataFrame:
    """One measure as columns code, district, score, rank, decile, population (missing parts as NaN)."""
    out = pd.DataFrame({"code": codes_of(ind.frame, ind.code_column)[0].values})
    out["district"] = ind.frame[ind.district_column].astype("string").str.strip() if ind.district_column else pd.NA
    for kind in ("score", "rank", "decile"):
        col = ind.column_for(measure, kind)
        out[kind] = ind.frame[col.name] if col else float("nan")
    out["population"] = ind.frame[ind.population_column] if ind.population_column else float("nan")
    weight, scale = ind.weight_column(measure), ind.scale_column(measure)
    out["weight"] = ind.frame[weight] if weight else float("nan")
    out["scale_population"] = ind.frame[scale] if scale else float("nan")
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
    weight = ind.weight_column(measure)
    if score is None or rank is None or weight is None:
        missing = [w for w, c in (("score", score), ("rank", rank), ("population", weight)) if c is None]
        raise AtlasError(f"District summaries of this measure need LSOA {', '.join(missing)} columns.",
                         "Use IoD File 7 (all scores, ranks, deciles and population denominators).")
    out = summarise_measure(ind.frame, ind.district_column, score.name, rank.name, weight, ind.n_national(),
                            ind.scale_column(measure))
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


# ------------------------------------------------------------------ the layers the app's maps show
# (shared by the app and `python -m geo render`, so a slide from the command line is the app's map)

DEMO_NOTE = "Illustrative demo data: fictional places and synthetic values, not real statistics."


@dataclass
class MapLayer:
    """One map's rows and how to draw them (the app wraps this in its own View record)."""

    layer: gpd.GeoDataFrame
    spec: object  # geo.present.mapping.MapSpec
    higher_is_worse: bool
    deciles: pd.Series | None = None
    report: object = None


def prepare_join(gdf: gpd.GeoDataFrame, frame: pd.DataFrame, lookup=None, resolve: str = "block"):
    """Recognise the table, join it to the boundaries (converting vintages with `lookup`), find area names.

    Returns (IndicatorTable, joined layer, JoinReport, name column or None).
    """
    from geo.link.join import join_across_vintages

    ind = prepare_table(frame)
    joined, report = join_across_vintages(gdf, ind.frame, indicator_code=ind.code_column, lookup=lookup,
                                          resolve_conflicts=resolve)
    if report.conversion is not None:  # the table was moved to the boundaries' vintage: recognise it again
        ind = prepare_table(joined.drop(columns=[joined.geometry.name]), code_column=report.indicator_code)
    # Names from the boundary file first (they belong to the shapes), else from the table.
    name_column = guess_name_column(gdf) or (ind.name_column if ind.name_column in joined.columns else None)
    return ind, joined, report, name_column


def district_map_layer(table: pd.DataFrame, districts_gdf: gpd.GeoDataFrame, summary_id: str,
                       measure_label: str) -> MapLayer:
    """Districts nationally: one summary (e.g. average_score) of district_summaries() joined to boundaries."""
    from geo.catalogue import summaries
    from geo.link.join import join_indicators
    from geo.present.mapping import MapSpec

    entries = {s["id"]: s for s in summaries()}
    if summary_id not in entries:
        raise AtlasError(f"Unknown district summary '{summary_id}'.", f"Choose one of: {', '.join(entries)}.")
    joined, report = join_indicators(districts_gdf, table, indicator_code="district_code")
    joined[f"{summary_id}_rank"] = joined[f"{summary_id}_rank"].astype("Float64")
    n = len(table)
    # Decile 1 = the most deprived tenth, by the rule the published LSOA deciles follow: ceil(rank x 10 / n).
    joined["district_decile"] = np.ceil(joined[f"{summary_id}_rank"].astype(float) * 10 / n).astype("Float64")
    name_col = guess_name_column(districts_gdf) or ("district_name" if "district_name" in joined.columns else None)
    spec = MapSpec(summary_id, f"{measure_label}: {entries[summary_id]['label']}", name_col, report.boundary_code,
                   tooltip_columns=((f"Rank of {n} districts (1 = most deprived)", f"{summary_id}_rank"),
                                    ("Decile of districts", "district_decile"), ("LSOAs", "lsoa_count")),
                   title=f"{measure_label} — {entries[summary_id]['label']}",
                   subtitle=f"{report.matched} of {report.boundary_rows} districts matched")
    return MapLayer(joined, spec, entries[summary_id]["direction"] == "higher_is_worse", report=report)


def lsoa_measure_layer(ind: IndicatorTable, layer: gpd.GeoDataFrame, boundary_code: str, name_col: str | None,
                       measure: str, measure_label: str, kind: str) -> MapLayer:
    """LSOAs with one national IoD measure shown as its score, rank or decile."""
    from geo.present.mapping import MapSpec

    col = ind.column_for(measure, kind)
    if col is None:
        kinds = [k for k in ("score", "rank", "decile") if ind.column_for(measure, k)]
        raise AtlasError(f"The table has no {measure_label} {kind} column.", f"Show one of: {', '.join(kinds)}.")
    decile_col = ind.column_for(measure, "decile")
    tips = tuple((c.label.split(" ")[-1].title(), c.name) for c in
                 (ind.column_for(measure, k) for k in ("score", "rank", "decile")) if c and c.name != col.name)
    spec = MapSpec(col.name, f"{measure_label} {kind}", name_col, boundary_code, tooltip_columns=tips,
                   title=f"{measure_label} — {kind}",
                   subtitle="Rank 1 / decile 1 = most deprived nationally; ranks are relative")
    deciles = layer[decile_col.name] if decile_col is not None else None
    return MapLayer(layer, spec, col.higher_is_worse, deciles)


def mark_illustrative(spec) -> None:
    """Label a map of illustrative (demo) data as such, in its caveat and subtitle."""
    spec.caveat = DEMO_NOTE
    spec.subtitle = "Illustrative demo data · " + spec.subtitle
