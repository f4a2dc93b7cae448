"""The audited join of an indicator table to boundaries: every polygon kept, everything reported."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import pandas as pd

from geo.link.codes import GSS, codes_of, detect_level, detect_vintage, normalise_codes, with_normalised_codes
from geo.errors import AtlasError, JoinBlocked

CODE = "_code"


@dataclass
class JoinReport:
    """What the join matched, what it did not (both ways), and what it changed."""

    boundary_rows: int
    indicator_rows: int
    matched: int
    share_matched: float
    boundaries_without_data: list[str]
    data_without_boundary: list[str]
    duplicates: list[dict]
    level: str
    vintage: str
    normalisations: list[str]
    boundary_code: str = ""
    indicator_code: str = ""
    indicator_level: str = ""
    indicator_vintage: str = ""
    boundary_duplicates: list[str] = field(default_factory=list)
    blocked: bool = False
    messages: list[str] = field(default_factory=list)
    conversion: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One sentence for the top of the report panel."""
        return (f"{self.matched:,} of {self.boundary_rows:,} areas have data ({self.share_matched:.1%}); "
                f"{len(self.data_without_boundary):,} data rows have no area.")


def _gss_share(values: pd.Series) -> float:
    """Share of the non-empty cells (of the first 500: a sample to detect the code column) that hold GSS codes."""
    codes, _ = normalise_codes(values.head(500))
    codes = codes[codes != ""]
    return float(codes.str.fullmatch(GSS.pattern).fillna(False).mean()) if len(codes) else 0.0


_NATIONS = {"W": "Wales", "S": "Scotland", "N": "Northern Ireland"}


def _describe_unmatched(boundary_codes: set[str], unmatched: set[str]) -> list[str]:
    """Explain table codes that cannot match: another nation's codes, or codes a spreadsheet turned into numbers."""
    messages = []
    covered = {c[0] for c in boundary_codes if GSS.fullmatch(c)}
    for letter, nation in _NATIONS.items():
        theirs = sorted(c for c in unmatched if GSS.fullmatch(c) and c[0] == letter)
        if theirs and letter not in covered:
            messages.append(f"{len(theirs):,} table code(s) are codes of {nation} (e.g. {theirs[0]}) and these "
                            f"boundaries do not cover {nation}, so they cannot match. The English Indices of "
                            f"Deprivation cover England only; {nation} publishes its own index.")
    bare = sorted(c for c in unmatched if re.fullmatch(r"\d{1,8}", c))
    if bare:
        stripped = {c[1:].lstrip("0"): c for c in boundary_codes if GSS.fullmatch(c)}
        likely = [(b, stripped[b]) for b in bare if b in stripped]
        example = f" ('{likely[0][0]}' looks like {likely[0][1]})" if likely else f" (e.g. '{bare[0]}')"
        messages.append(f"{len(bare):,} table code(s) are bare numbers{example}: a spreadsheet probably lost their "
                        "letter prefix or leading zeros. They were not matched; restore the full codes (format the "
                        "column as Text) and load the table again.")
    return messages


def guess_code_column(frame: pd.DataFrame, against: pd.Series | None = None) -> str:
    """Pick the column holding area codes: the best overlap with `against`, else the most GSS-like."""
    candidates = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)
                  and _gss_share(frame[c].astype("string")) > 0.5]
    if not candidates:
        for c in frame.columns:
            if not re.search(r"code|cd\b|lsoa|msoa|lad|ward|area|geog", str(c), re.IGNORECASE):
                continue
            values = frame[c].astype("string").str.strip().dropna()
            values = values[values != ""].head(2000)
            if len(values) and values.str.fullmatch(r"\d{5,8}").mean() > 0.5:
                raise AtlasError(f"No column of area codes (like E01000001) was found; column '{c}' holds bare "
                                 f"numbers (e.g. '{values.iloc[0]}'), like codes whose letter prefix or leading "
                                 "zeros a spreadsheet removed.",
                                 "Restore the full codes (format the column as Text in the spreadsheet and "
                                 "re-export), or name the code column explicitly.")
        raise AtlasError("No column of area codes (like E01000001) was found.",
                         "Name the code column explicitly.")
    if against is not None:
        target = set(normalise_codes(against)[0])
        overlap = {c: len(set(normalise_codes(frame[c].astype("string"))[0]) & target) for c in candidates}
        best = max(candidates, key=lambda c: (overlap[c], -candidates.index(c)))
        if overlap[best] > 0:
            return best
    return candidates[0]


def _duplicates(table: pd.DataFrame) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """Collapse exact duplicate rows; report conflicting ones (same code, different values)."""
    dup_mask = table[CODE].duplicated(keep=False) & (table[CODE] != "")
    if not dup_mask.any():
        return table, [], []
    report, messages = [], []
    value_cols = [c for c in table.columns if c != CODE]
    exact_codes = []
    for code, rows in table[dup_mask].groupby(CODE, sort=True):
        # The code as written may differ (whitespace, case) without that being a conflict.
        compared = [c for c in value_cols if c != "_raw_code"]
        kind = "exact" if len(rows[compared].astype("string").fillna("").drop_duplicates()) == 1 else "conflicting"
        report.append({"code": str(code), "rows": int(len(rows)), "kind": kind})
        if kind == "exact":
            exact_codes.append(code)
    if exact_codes:
        table = table[~(table[CODE].isin(exact_codes) & table[CODE].duplicated(keep="first"))]
        messages.append(f"Collapsed exact duplicate rows for {len(exact_codes):,} code(s).")
    return table, report, messages


def join_indicators(
    boundaries: gpd.GeoDataFrame,
    table: pd.DataFrame,
    boundary_code: str | None = None,
    indicator_code: str | None = None,
    resolve_conflicts: str = "block",
) -> tuple[gpd.GeoDataFrame, JoinReport]:
    """Left-join `table` to `boundaries` on normalised codes; returns the joined layer and its report.

    Conflicting duplicate codes (same code, different values) raise JoinBlocked unless
    `resolve_conflicts` is 'first' or 'last' (the user's explicit choice), in which case the
    choice is reported.
    """
    boundary_code = boundary_code or guess_code_column(boundaries)
    for col, frame, what in ((boundary_code, boundaries, "boundary file"), (indicator_code, table, "table")):
        if col is not None and col not in frame.columns:
            raise AtlasError(f"The {what} has no column '{col}'.", f"Columns: {', '.join(map(str, frame.columns))}.")
    b_codes, b_norm = codes_of(boundaries, boundary_code)
    indicator_code = indicator_code or guess_code_column(table, against=b_codes)
    t_codes, t_norm = codes_of(table, indicator_code)

    left = boundaries.copy()
    left[CODE] = b_codes.values
    right = table.copy()
    right["_raw_code"] = right[indicator_code]
    right[CODE] = t_codes.values
    right = right.drop(columns=[c for c in right.columns if c in left.columns and c != CODE])
    messages: list[str] = []
    empty = right[CODE] == ""
    if empty.any():
        messages.append(f"{int(empty.sum()):,} data row(s) have no code and cannot be placed.")
    right, dup_report, dup_messages = _duplicates(right)
    messages += dup_messages
    conflicts = [d["code"] for d in dup_report if d["kind"] == "conflicting"]
    blocked = False
    if conflicts:
        if resolve_conflicts in ("first", "last"):
            right = right[~(right[CODE].isin(conflicts) & right[CODE].duplicated(keep=resolve_conflicts))]
            messages.append(f"Kept the {resolve_conflicts} row for {len(conflicts):,} conflicting code(s), as chosen.")
        else:
            blocked = True
    b_dups = sorted(set(left.loc[left[CODE].duplicated() & (left[CODE] != ""), CODE]))
    if b_dups:
        messages.append(f"{len(b_dups):,} boundary code(s) appear on more than one polygon; each polygon keeps the data.")

    level = detect_level(b_codes)
    t_level = detect_level(t_codes)
    if t_level != level:
        messages.append(f"The boundaries are {level} codes but the table holds {t_level} codes.")
    b_set = set(b_codes) - {""}
    t_set = set(right[CODE]) - {""}
    messages += _describe_unmatched(b_set, t_set - b_set)
    report = JoinReport(
        boundary_rows=len(boundaries),
        indicator_rows=len(table),
        matched=int(left[CODE].isin(t_set).sum()),
        share_matched=float(left[CODE].isin(t_set).mean()) if len(left) else 0.0,
        boundaries_without_data=sorted(b_set - t_set),
        data_without_boundary=sorted(t_set - b_set),
        duplicates=dup_report,
        level=level,
        vintage=detect_vintage(b_codes, level),
        normalisations=[f"boundaries {n.describe()}" for n in b_norm] + [f"table {n.describe()}" for n in t_norm],
        boundary_code=boundary_code,
        indicator_code=indicator_code,
        indicator_level=t_level,
        indicator_vintage=detect_vintage(t_codes, t_level),
        boundary_duplicates=b_dups,
        blocked=blocked,
        messages=messages,
    )
    if blocked:
        raise JoinBlockedWithReport(report, conflicts)
    right = right.drop(columns=["_raw_code"])
    right = right[right[CODE] != ""]
    joined = left.merge(right, on=CODE, how="left", validate="many_to_one", suffixes=("", " (table)"))
    joined = gpd.GeoDataFrame(joined, geometry=boundaries.geometry.name, crs=boundaries.crs)
    joined["_has_data"] = joined[CODE].isin(t_set)
    return joined, report


class JoinBlockedWithReport(JoinBlocked):
    """Conflicting duplicates: the report is attached so the user can see and resolve them."""

    def __init__(self, report: JoinReport, conflicts: list[str]) -> None:
        shown = ", ".join(conflicts[:5]) + (" …" if len(conflicts) > 5 else "")
        super().__init__(
            f"{len(conflicts):,} code(s) appear more than once in the table with different values ({shown}).",
            "Fix the table, or choose explicitly to keep the first or the last row for each.",
        )
        self.report = report
        self.conflicts = conflicts


def unmatched_table(report: JoinReport) -> pd.DataFrame:
    """Both unmatched lists as one downloadable table."""
    rows = [("boundary without data", c) for c in report.boundaries_without_data]
    rows += [("data row without boundary", c) for c in report.data_without_boundary]
    return pd.DataFrame(rows, columns=["problem", "code"])


def _value_columns(table: pd.DataFrame, code_column: str) -> tuple[pd.DataFrame, list[str], list[str], str | None]:
    """Numbers parsed; columns split into counts (populations, counts) and rates (everything else numeric)."""
    from geo.catalogue import find_population_column
    from geo.load.io import parse_numbers
    from geo.link.vintages import is_rank_like

    frame = table.copy()
    counts, rates = [], []
    for col in frame.columns:
        if col == code_column:
            continue
        text = frame[col].astype("string").str.strip()
        numbers, marked = parse_numbers(text)
        filled = text.fillna("") != ""
        if filled.any() and (numbers.notna() | marked)[filled].mean() > 0.8 and not is_rank_like(str(col)):
            frame[col] = numbers
            name = str(col).lower()
            (counts if any(w in name for w in ("population", "count", "number of", "pop_")) else rates).append(col)
    weight = find_population_column([str(c) for c in frame.columns])
    if weight not in counts:
        weight = next((c for c in counts if "population" in str(c).lower()), None)
    return frame, counts, rates, weight


def join_across_vintages(
    boundaries: gpd.GeoDataFrame,
    table: pd.DataFrame,
    boundary_code: str | None = None,
    indicator_code: str | None = None,
    lookup=None,
    resolve_conflicts: str = "block",
) -> tuple[gpd.GeoDataFrame, JoinReport]:
    """join_indicators, after converting the table to the boundaries' code vintage where it needs it.

    LSOA 2011-keyed tables against 2021 boundaries go through `lookup` (a geo.link.vintages.LsoaLookup);
    retired district codes go to their successors. Population/count columns are summed where areas
    merged, every other number is treated as a rate (weighted by population, never summed), ranks
    and deciles are not converted. The conversion is added to the join report.
    """
    from geo.link.vintages import (
        convert_districts,
        convert_lsoa11_to_21,
        describe_conversion,
        output_code_name,
        successor_map,
    )

    boundary_code = boundary_code or guess_code_column(boundaries)
    if boundary_code in boundaries.columns:  # the layer enters here: its codes are normalised once
        boundaries = with_normalised_codes(boundaries, boundary_code)
    b_codes, _ = codes_of(boundaries, boundary_code)
    indicator_code = indicator_code or guess_code_column(table, against=b_codes)
    if indicator_code in table.columns and (table.attrs.get("normalised") or {}).get("column") != indicator_code:
        table = with_normalised_codes(table, indicator_code)
    t_codes, _ = codes_of(table, indicator_code)
    b_set, t_set = set(b_codes), set(t_codes) - {""}
    level, t_level = detect_level(b_codes), detect_level(t_codes)
    unmatched = t_set - b_set
    conversion, note = None, None
    if unmatched and level == t_level == "LSOA" and detect_vintage(b_codes, level).startswith("LSOA 2021"):
        if lookup is None:
            note = (f"{len(unmatched):,} table codes are not among these LSOA 2021 boundaries: the table may be keyed "
                    "by LSOA 2011 codes. Load a pack with the ONS LSOA 2011→2021 lookup (IoD2025) to convert it.")
        elif len(unmatched & set(lookup.frame["lsoa11"])) > 0.5 * len(unmatched):
            frame, counts, rates, weight = _value_columns(table.drop(columns=[CODE]), indicator_code)
            table, conversion = convert_lsoa11_to_21(frame, indicator_code, lookup, counts, rates, weight)
            indicator_code = output_code_name(indicator_code)
    elif unmatched and level == t_level == "District" and unmatched & set(successor_map()):
        frame, counts, rates, weight = _value_columns(table.drop(columns=[CODE]), indicator_code)
        table, conversion = convert_districts(frame, indicator_code, counts, rates, weight)
    original_vintage = detect_vintage(t_codes, t_level)
    if lookup is not None and t_level == "LSOA":
        retired = t_set & (set(lookup.frame["lsoa11"]) - set(lookup.frame["lsoa21"]))
        if retired:
            original_vintage = f"LSOA 2011 ({len(retired):,} codes retired in 2021 present)"
    joined, report = join_indicators(boundaries, table, boundary_code, indicator_code, resolve_conflicts)
    report.indicator_vintage = original_vintage
    if conversion is not None:
        report.conversion = conversion.to_dict()
        report.indicator_rows = conversion.rows_in
        report.messages = describe_conversion(conversion) + report.messages
    if note:
        report.messages.append(note)
    return joined, report
