"""The audited join of an indicator table to boundaries: every polygon kept, everything reported."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import pandas as pd

from geo.link.codes import GSS, codes_of, detect_level, detect_vintage, member_of, normalise_codes, with_normalised_codes
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
    # Every input row accounted for: rows_in == rows_matched + rows_without_area + rows_collapsed + rows_converted.
    rows_in: int = 0
    rows_matched: int = 0  # table rows (after any conversion) whose code is one of the boundaries'
    rows_without_area: int = 0  # table rows with no code, or a code the boundaries do not have
    rows_collapsed: int = 0  # exact duplicate rows folded into their first copy (and conflicting ones resolved)
    rows_converted: int = 0  # rows a vintage conversion merged into their successor's row
    notes: list[dict] = field(default_factory=list)  # {"kind", "message"}: what every step did (messages, typed)

    def note(self, kind: str, message: str) -> None:
        """Record one thing the join did (in `notes` with its kind, and in `messages`)."""
        self.notes.append({"kind": kind, "message": message})
        self.messages.append(message)

    @property
    def accounted(self) -> bool:
        return self.rows_in == self.rows_matched + self.rows_without_area + self.rows_collapsed + self.rows_converted

    def to_dict(self) -> dict:
        return asdict(self)

    def accounting(self) -> str:
        """'5 table rows: 1 matched + 3 without an area + 1 collapsed duplicate (+ …)'."""
        text = (f"{self.rows_in:,} table row(s): {self.rows_matched:,} matched + {self.rows_without_area:,} without an "
                f"area + {self.rows_collapsed:,} collapsed duplicate(s)")
        if self.conversion is not None or self.rows_converted:
            text += f" + {self.rows_converted:,} merged into their successor by the vintage conversion"
        return text

    def summary(self) -> str:
        """One sentence for the top of the report panel: areas, every table row, and both vintages."""
        return (f"{self.matched:,} of {self.boundary_rows:,} areas have data ({self.share_matched:.1%}); "
                f"{self.accounting()}. Table: {self.indicator_level}, {self.indicator_vintage}; "
                f"boundaries: {self.level}, {self.vintage}.")


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


def _check_columns(boundaries: pd.DataFrame, table: pd.DataFrame, boundary_code: str | None,
                   indicator_code: str | None) -> None:
    for col, frame, what, option in ((boundary_code, boundaries, "boundary file", "--boundary-code"),
                                     (indicator_code, table, "table", "--indicator-code")):
        if col is not None and col not in frame.columns:
            shown = [str(c) for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)
                     and not str(c).startswith("_")]
            raise AtlasError(f"The {what} has no column '{col}'.",
                             f"Name one of its columns ({option} on the command line): {', '.join(shown[:20])}"
                             + (" …" if len(shown) > 20 else "") + ".")


def _refuse_mixed_levels(t_codes: pd.Series, t_level: str, indicator_code: str) -> None:
    """A code column mixing geography levels (LSOAs beside MSOAs beside districts) is refused, naming the levels."""
    if t_level.startswith("Mixed"):
        raise AtlasError(f"The table's code column '{indicator_code}' mixes geography levels: {t_level[7:]}. "
                         "A map joins one level; rows of the others would be left out or mistaken for areas.",
                         "Keep the rows of one level (filter the table), or split it into one table per level.")


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
    choice is reported. Every table row is accounted for in the report (rows_in = rows_matched +
    rows_without_area + rows_collapsed); a code column mixing geography levels is refused.
    """
    _check_columns(boundaries, table, boundary_code, indicator_code)
    boundary_code = boundary_code or guess_code_column(boundaries)
    b_codes, b_norm = codes_of(boundaries, boundary_code)
    indicator_code = indicator_code or guess_code_column(table, against=b_codes)
    t_codes, t_norm = codes_of(table, indicator_code)
    level = detect_level(b_codes)
    t_level = detect_level(t_codes)
    _refuse_mixed_levels(t_codes, t_level, indicator_code)

    left = boundaries.copy()
    left[CODE] = b_codes.values
    right = table.copy()
    right["_raw_code"] = right[indicator_code]
    right[CODE] = t_codes.values
    right = right.drop(columns=[c for c in right.columns if c in left.columns and c != CODE])
    notes: list[tuple[str, str]] = []
    empty = right[CODE] == ""
    if empty.any():
        notes.append(("no-code", f"{int(empty.sum()):,} data row(s) have no code and cannot be placed."))
    rows_before = len(right)
    right, dup_report, dup_messages = _duplicates(right)
    notes += [("duplicates-collapsed", m) for m in dup_messages]
    conflicts = [d["code"] for d in dup_report if d["kind"] == "conflicting"]
    blocked = False
    if conflicts:
        if resolve_conflicts in ("first", "last"):
            right = right[~(right[CODE].isin(conflicts) & right[CODE].duplicated(keep=resolve_conflicts))]
            notes.append(("duplicates-resolved", f"Kept the {resolve_conflicts} row for {len(conflicts):,} "
                                                 "conflicting code(s), as chosen."))
        else:
            blocked = True
    b_dups = sorted(set(left.loc[left[CODE].duplicated() & (left[CODE] != ""), CODE]))
    if b_dups:
        notes.append(("boundary-duplicates", f"{len(b_dups):,} boundary code(s) appear on more than one polygon; "
                                             "each polygon keeps the data."))

    if t_level != level:
        notes.append(("levels-differ", f"The boundaries are {level} codes but the table holds {t_level} codes."))
    b_set = set(b_codes) - {""}
    t_set = set(right[CODE]) - {""}
    notes += [("unmatched-explained", m) for m in _describe_unmatched(b_set, t_set - b_set)]
    rows_matched = int(member_of(right[CODE], b_set).sum())
    report = JoinReport(
        boundary_rows=len(boundaries),
        indicator_rows=len(table),
        matched=int(member_of(left[CODE], t_set).sum()),
        share_matched=float(member_of(left[CODE], t_set).mean()) if len(left) else 0.0,
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
        rows_in=len(table),
        rows_matched=rows_matched,
        rows_without_area=len(right) - rows_matched,
        rows_collapsed=rows_before - len(right),
    )
    for kind, message in notes:
        report.note(kind, message)
    for n in t_norm:
        report.notes.append({"kind": "codes-normalised", "message": f"Table codes {n.describe()}."})
    for n in b_norm:
        report.notes.append({"kind": "codes-normalised", "message": f"Boundary codes {n.describe()}."})
    if blocked:
        raise JoinBlockedWithReport(report, conflicts)
    right = right.drop(columns=["_raw_code"])
    right = right[right[CODE] != ""]
    joined = left.merge(right, on=CODE, how="left", validate="many_to_one", suffixes=("", " (table)"))
    joined = gpd.GeoDataFrame(joined, geometry=boundaries.geometry.name, crs=boundaries.crs)
    joined["_has_data"] = member_of(joined[CODE], t_set)
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
    merged, every other number is treated as a rate (weighted by population, never summed; a merger whose
    rates have no weight is not formed), ranks and deciles are not converted. Rows that are not converted
    keep their own codes, so they are listed as without an area (their successor named) — never dropped.
    The conversion, and the table's and the boundaries' vintages, are in the join report.
    """
    from geo.link.vintages import (
        convert_districts,
        convert_lsoa11_to_21,
        describe_conversion,
        output_code_name,
        successor_map,
    )

    _check_columns(boundaries, table, boundary_code, indicator_code)
    boundary_code = boundary_code or guess_code_column(boundaries)
    boundaries = with_normalised_codes(boundaries, boundary_code)  # the layer enters here: normalised once
    b_codes, _ = codes_of(boundaries, boundary_code)
    indicator_code = indicator_code or guess_code_column(table, against=b_codes)
    if (table.attrs.get("normalised") or {}).get("column") != indicator_code:
        table = with_normalised_codes(table, indicator_code)
    t_codes, _ = codes_of(table, indicator_code)
    b_set, t_set = set(b_codes), set(t_codes) - {""}
    level, t_level = detect_level(b_codes), detect_level(t_codes)
    _refuse_mixed_levels(t_codes, t_level, indicator_code)
    unmatched = t_set - b_set
    original_vintage = detect_vintage(t_codes, t_level)
    if lookup is not None and t_level == "LSOA":
        retired = t_set & (set(lookup.frame["lsoa11"]) - set(lookup.frame["lsoa21"]))
        if retired:
            original_vintage = f"LSOA 2011 ({len(retired):,} codes retired in 2021 present)"
    convert, note = None, None
    if unmatched and level == t_level == "LSOA" and detect_vintage(b_codes, level).startswith("LSOA 2021"):
        if lookup is None:
            note = (f"{len(unmatched):,} table codes are not among these LSOA 2021 boundaries: the table may be keyed "
                    "by LSOA 2011 codes. Load a pack with the ONS LSOA 2011→2021 lookup (IoD2025) to convert it.")
            if original_vintage.startswith("LSOA 2011 or 2021"):
                original_vintage = "LSOA 2011 or 2021 (only codes common to both; not converted without a lookup)"
        elif len(unmatched & set(lookup.frame["lsoa11"])) > 0.5 * len(unmatched):
            convert = "lsoa"
    elif unmatched and level == t_level == "District" and unmatched & set(successor_map()):
        convert = "district"
    if convert is None:
        joined, report = join_indicators(boundaries, table, boundary_code, indicator_code, resolve_conflicts)
        report.indicator_vintage = original_vintage
        if note:
            report.note("vintage-not-converted", note)
        return joined, report

    # Rows without a code and exact duplicate rows are set aside before converting (and accounted for).
    work = table.reset_index(drop=True)
    no_code = work[work[CODE] == ""]
    work = work[work[CODE] != ""]
    compared = [c for c in work.columns if c != indicator_code]
    before = len(work)
    work = work[~work.astype("string").fillna("\0").duplicated(subset=compared)]
    collapsed = before - len(work)
    frame, counts, rates, weight = _value_columns(work.drop(columns=[CODE]), indicator_code)
    if convert == "lsoa":
        out, conversion = convert_lsoa11_to_21(frame, indicator_code, lookup, counts, rates, weight)
        out_code = output_code_name(indicator_code)
    else:
        out, conversion = convert_districts(frame, indicator_code, counts, rates, weight)
        out_code = indicator_code
    skipped = {code for reason, codes in conversion.not_converted.items() if reason != "no_code" for code in codes}
    passed = work[work[CODE].isin(skipped)].drop(columns=[CODE]).rename(columns={indicator_code: out_code})
    for col in out.columns:  # the passed-through rows carry the converted table's columns, as read
        if col in passed.columns and col in frame.columns and col != out_code:
            passed[col] = frame.loc[passed.index, col]
    passed = passed[[c for c in out.columns if c in passed.columns]]
    unplaced = no_code.drop(columns=[CODE]).rename(columns={indicator_code: out_code})
    unplaced = unplaced[[c for c in out.columns if c in unplaced.columns]]
    converted_table = pd.concat([out, passed, unplaced], ignore_index=True)
    joined, report = join_indicators(boundaries, converted_table, boundary_code, out_code, resolve_conflicts)
    report.indicator_vintage = original_vintage
    report.conversion = conversion.to_dict()
    report.indicator_rows = len(table)
    report.rows_in = len(table)
    report.rows_collapsed += collapsed
    report.rows_converted = len(work) - len(out) - len(passed)
    lines = describe_conversion(conversion)
    if collapsed:
        lines.append(f"Collapsed {collapsed:,} exact duplicate row(s) before converting.")
    lines += _not_converted_lines(conversion.not_converted, b_set, lookup)
    report.notes = [{"kind": "conversion", "message": m} for m in lines] + report.notes
    report.messages = lines + report.messages
    return joined, report


def _not_converted_lines(not_converted: dict[str, list[str]], b_set: set[str], lookup) -> list[str]:
    """Name, for every code a conversion left as it was, its successor and why it was not merged into it."""
    from geo.link.codes import successor_codes
    from geo.link.vintages import successor_map

    why = {"mixed_vintages": "its successor is also in the table (merging would count the area twice)",
           "merged_incomplete": "the table lacks some of the areas merged with it (a partial sum would mislead)",
           "no_weight": "its rates cannot be combined without a population column to weight by",
           "split": "it was split (the value describes the whole parent)",
           "complex": "it changed in a complex way",
           "not_in_lookup": "it is not in the LSOA 2011→2021 lookup"}
    final, names = successor_map(), {new: name for _, (new, name, _) in successor_codes().items()}
    to21 = lookup.frame.groupby("lsoa11").lsoa21.apply(list).to_dict() if lookup is not None else {}
    lines = []
    for reason, codes in not_converted.items():
        codes = [c for c in codes if c not in b_set]  # a code the boundaries have still matches as it is
        if reason == "no_code" or not codes:
            continue
        named = []
        for code in codes[:12]:
            if code in final:
                named.append(f"{code} → {final[code]} {names.get(final[code], '')}".strip())
            elif code in to21:
                named.append(f"{code} → {', '.join(to21[code][:4])}")
            else:
                named.append(code)
        lines.append(f"{len(codes):,} row(s) kept their own code and have no area — {why.get(reason, reason)}: "
                     f"{'; '.join(named)}{' …' if len(codes) > 12 else ''}.")
    return lines
