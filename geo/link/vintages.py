"""Move indicator tables between code vintages: LSOA 2011 → 2021, and retired district codes → current ones.

Every move is audited. Counts are summed where areas merged; rates (scores, percentages) are never
summed: they take a weighted mean when a weight column is given, else stay missing. Ranks and
deciles are never converted: they are relative to the release that published them. Splits are not
silently duplicated. Whatever cannot be converted is listed in a `ConversionReport` by reason.

Columns of the input not named in `counts` or `rates` (names, district codes …) are kept only if
they hold one value within every merged group of the table (e.g. a district code); otherwise they
are dropped and listed in the report. Rank and decile columns are always dropped and reported.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from collections.abc import Iterable
from typing import Literal

import pandas as pd

from geo.link.codes import normalise_codes, successor_codes
from geo.errors import AtlasError

CHANGES = ("U", "S", "M", "X")
LIST_CAP = 1_000
NOT_CONVERTIBLE = "not convertible — use the release on 2021 boundaries"
NOT_CONVERTIBLE_DISTRICT = "not convertible — ranks and deciles are relative to their release; use one on current districts"

_RANKLIKE = re.compile(r"(?<![a-z])(rank(ing)?s?|deciles?|quintiles?|quartiles?|vigintiles?|(per)?centiles?)(?![a-z])")
_ALIASES = {
    "lsoa11": ("lsoa11cd", "lsoa11_code"),
    "lsoa21": ("lsoa21cd", "lsoa21_code"),
    "change": ("chgind", "change_code"),
}
_CODE = "_code"
_TARGET = "_target"


def is_rank_like(column: str) -> bool:
    """True for columns holding ranks, deciles, quintiles or centiles (relative to their release)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(column)).lower()
    return bool(_RANKLIKE.search(spaced))


# --------------------------------------------------------------------------------------------- lookup


@dataclass
class LsoaLookup:
    """LSOA 2011 → 2021 best-fit lookup: one row per (lsoa11, lsoa21) pair with its change (U/S/M/X)."""

    frame: pd.DataFrame
    reclassified: int = 0  # 2011 codes whose stated change contradicted the lookup's structure (set to X)

    def change_of_2011(self) -> pd.Series:
        """2011 code → its change (one per code)."""
        return self.frame.drop_duplicates("lsoa11").set_index("lsoa11")["change"]

    def summary(self) -> dict[str, int]:
        """Distinct codes per change type, counted on each side of the lookup."""
        f = self.frame
        by = {c: f[f.change == c] for c in CHANGES}
        return {
            "unchanged": by["U"].lsoa11.nunique(),
            "merged_groups": by["M"].lsoa21.nunique(),
            "merged_parents": by["M"].lsoa11.nunique(),
            "split_parents": by["S"].lsoa11.nunique(),
            "split_children": by["S"].lsoa21.nunique(),
            "complex_2011": by["X"].lsoa11.nunique(),
            "complex_2021": by["X"].lsoa21.nunique(),
        }


def _find(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    """The frame's column matching one of `names`, ignoring case and surrounding spaces."""
    lower = {str(c).strip().lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def _structural_change(f: pd.DataFrame) -> pd.Series:
    """The change each row's shape implies: U 1:1, S 1:many, M many:1 (clean groups), else X."""
    n21 = f.groupby("lsoa11").lsoa21.transform("nunique")
    n11 = f.groupby("lsoa21").lsoa11.transform("nunique")
    out = pd.Series("X", index=f.index)
    out[(n21 == 1) & (n11 == 1)] = "U"
    split_ok = (n21 > 1) & (n11 == 1)
    split_ok = split_ok.groupby(f.lsoa11).transform("all") & (n21 > 1)
    out[split_ok] = "S"
    merge_ok = (n21 == 1) & (n11 > 1)
    merge_ok = merge_ok.groupby(f.lsoa21).transform("all") & (n11 > 1)
    out[merge_ok] = "M"
    return out


def load_lsoa_lookup(frame: pd.DataFrame) -> LsoaLookup:
    """Build an LsoaLookup from ONS columns (LSOA11CD, LSOA21CD, CHGIND) or snake_case ones (lsoa11_code …).

    A stated change that contradicts the lookup's own shape (e.g. 'U' on a code that maps to two
    2021 codes) is set to X (not converted) and counted in `reclassified`.
    """
    found = {key: _find(frame, names) for key, names in _ALIASES.items()}
    missing = [f"{key} ({' or '.join(_ALIASES[key])})" for key, col in found.items() if col is None]
    if missing:
        raise AtlasError(f"The LSOA lookup has no column for: {', '.join(missing)}.",
                         f"Columns found: {', '.join(map(str, frame.columns))}.")
    f = pd.DataFrame({key: frame[col] for key, col in found.items()})
    f["lsoa11"] = normalise_codes(f["lsoa11"])[0]
    f["lsoa21"] = normalise_codes(f["lsoa21"])[0]
    f["change"] = f["change"].astype("string").fillna("").str.strip().str.upper()
    f = f[(f.lsoa11 != "") & (f.lsoa21 != "")].drop_duplicates().reset_index(drop=True)
    bad = sorted(set(f.change) - set(CHANGES))
    if bad:
        raise AtlasError(f"The LSOA lookup has unknown change indicators: {', '.join(map(repr, bad[:5]))}.",
                         "Expected U (unchanged), S (split), M (merged) or X (complex).")
    # One change per 2011 and per 2021 code; anything inconsistent becomes X.
    mixed = (f.groupby("lsoa11").change.transform("nunique") > 1) | (f.groupby("lsoa21").change.transform("nunique") > 1)
    shape = _structural_change(f)
    wrong = (mixed | (f.change != shape)) & (f.change != "X")
    reclassified = int(f.loc[wrong, "lsoa11"].nunique())
    f.loc[wrong, "change"] = "X"
    # X spreads along shared codes so that no group is converted with a part missing.
    for _ in range(5):
        x11 = set(f.loc[f.change == "X", "lsoa11"])
        x21 = set(f.loc[f.change == "X", "lsoa21"])
        spread = (f.lsoa11.isin(x11) | f.lsoa21.isin(x21)) & (f.change != "X")
        if not spread.any():
            break
        reclassified += int(f.loc[spread, "lsoa11"].nunique())
        f.loc[spread, "change"] = "X"
    return LsoaLookup(f[["lsoa11", "lsoa21", "change"]], reclassified)


# --------------------------------------------------------------------------------------------- report


@dataclass
class ConversionReport:
    """What a conversion did, by change type and column, and every code it could not convert, by reason."""

    source: str
    target: str
    rows_in: int
    rows_out: int
    unchanged: int = 0
    relabelled: int = 0
    merged_groups: int = 0
    merged_parents: int = 0
    split_parents: int = 0
    split_children: int = 0
    complex: int = 0
    split_mode: str = "flag"
    methods: list[str] = field(default_factory=list)
    not_converted: dict[str, list[str]] = field(default_factory=dict)
    columns_not_convertible: dict[str, str] = field(default_factory=dict)
    columns_kept: list[str] = field(default_factory=list)
    columns_dropped: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain dict; each list of codes capped at LIST_CAP entries, full lengths in not_converted_counts."""
        out = asdict(self)
        out["not_converted"] = {k: v[:LIST_CAP] for k, v in self.not_converted.items()}
        out["not_converted_counts"] = {k: len(v) for k, v in self.not_converted.items()}
        out["lists_truncated"] = any(len(v) > LIST_CAP for v in self.not_converted.values())
        return out


# --------------------------------------------------------------------------------------------- shared


def _check_columns(table: pd.DataFrame, code_column: str, counts: Iterable[str], rates: Iterable[str],
                   weight: str | None, why: str = NOT_CONVERTIBLE) -> tuple[list[str], list[str], dict[str, str]]:
    """Validate the column choices; split rank-like columns out as not convertible."""
    counts, rates = list(dict.fromkeys(counts)), list(dict.fromkeys(rates))
    named = [code_column, *counts, *rates] + ([weight] if weight else [])
    absent = [c for c in named if c not in table.columns]
    if absent:
        raise AtlasError(f"The table has no column {', '.join(map(repr, absent))}.",
                         f"Columns: {', '.join(map(str, table.columns))}.")
    both = sorted(set(counts) & set(rates))
    if both:
        raise AtlasError(f"Column(s) {', '.join(both)} named both as counts and as rates.",
                         "A count is summed where areas merge; a rate is averaged. Choose one.")
    if code_column in counts or code_column in rates:
        raise AtlasError(f"The code column '{code_column}' cannot also be a value column.")
    blocked: dict[str, str] = {}
    for c in table.columns:
        if c != code_column and is_rank_like(c):
            blocked[str(c)] = why
    named_blocked = [c for c in [*counts, *rates] if c in blocked]
    if named_blocked:
        for c in named_blocked:
            blocked[c] = why + " (named as a value column, but a rank or decile is not a value)"
    return [c for c in counts if c not in blocked], [c for c in rates if c not in blocked], blocked


def _numeric(table: pd.DataFrame, columns: list[str], messages: list[str]) -> None:
    """Coerce value columns to numbers in place, reporting values that were not numbers."""
    for c in columns:
        raw = table[c]
        num = pd.to_numeric(raw, errors="coerce")
        lost = num.isna() & raw.notna() & (raw.astype("string").str.strip() != "")
        if lost.all() and len(raw):
            raise AtlasError(f"Column '{c}' holds no numbers, so it cannot be summed or averaged.")
        if lost.any():
            messages.append(f"'{c}': {int(lost.sum()):,} value(s) are not numbers and were treated as missing.")
        table[c] = num.astype(float)


def _prepare(table: pd.DataFrame, code_column: str, messages: list[str]) -> pd.DataFrame:
    """Copy with normalised codes in _code; exact duplicate rows collapsed, conflicting ones refused."""
    t = table.reset_index(drop=True)
    t[_CODE] = normalise_codes(t[code_column])[0].values
    dup = t[_CODE].duplicated(keep=False) & (t[_CODE] != "")
    if dup.any():
        compared = [c for c in t.columns if c != code_column]
        exact = t[dup].astype("string").fillna("\0").drop_duplicates(subset=compared)
        conflicting = sorted(set(exact.loc[exact[_CODE].duplicated(), _CODE]))
        if conflicting:
            raise AtlasError(f"{len(conflicting):,} code(s) appear on rows with different values, "
                             f"e.g. {', '.join(conflicting[:3])}.",
                             "Remove the duplicates before converting: values would be counted twice.")
        before = len(t)
        t = t.drop_duplicates(subset=compared)
        messages.append(f"Collapsed {before - len(t):,} exact duplicate row(s).")
    return t


def _aggregate(rows: pd.DataFrame, counts: list[str], rates: list[str], weight: str | None,
               attrs: list[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One row per _target: singletons carried over, groups of several summed (counts) or weighted (rates).

    Returns the frame, the attribute columns kept (one value within every merged group) and those dropped.
    """
    g = rows.groupby(_TARGET, sort=True)
    size = g.size()
    multi = size.index[size > 1]
    out = pd.DataFrame(index=size.index)
    for c in counts:
        gaps = rows[c].isna().groupby(rows[_TARGET]).any()
        out[c] = g[c].sum(min_count=1).where(~gaps)
    if rates:
        w = rows[weight].astype(float) if weight else None
        for c in rates:
            first = g[c].first()
            if w is not None:
                valid = rows[c].notna() & w.notna()
                num = (rows[c] * w).groupby(rows[_TARGET]).sum()
                den = w.groupby(rows[_TARGET]).sum()
                mean = (num / den.where(den > 0)).where(valid.groupby(rows[_TARGET]).all())
            else:
                mean = pd.Series(float("nan"), index=size.index)
            out[c] = first.where(size == 1, mean)
    kept, dropped = [], []
    merged_rows = rows[rows[_TARGET].isin(multi)]
    for c in attrs:
        values = merged_rows[c].astype("string").fillna("\0")
        if merged_rows.empty or (values.groupby(merged_rows[_TARGET]).nunique() <= 1).all():
            kept.append(c)
            out[c] = g[c].first()
        else:
            dropped.append(c)
    return out.reset_index(), kept, dropped


def _order(frame: pd.DataFrame, table: pd.DataFrame, code_column: str, out_code: str) -> pd.DataFrame:
    """Name the code column and put columns back in the input's order."""
    frame = frame.rename(columns={_TARGET: out_code})
    cols = [out_code if c == code_column else c for c in table.columns]
    return frame[[c for c in cols if c in frame.columns]].reset_index(drop=True)


def _value_methods(counts: list[str], rates: list[str], weight: str | None, unit: str,
                   split: str | None) -> list[str]:
    """One sentence per value column saying how it was converted."""
    lines = []
    for c in counts:
        text = f"{c}: count — carried over where {unit}s are unchanged; summed over merged {unit}s"
        if split is not None:
            text += "; missing for split LSOAs (a count cannot be divided without data)"
        lines.append(text)
    for c in rates:
        text = f"{c}: rate/score — carried over where {unit}s are unchanged; "
        text += (f"weighted mean of merged {unit}s (weight: {weight})" if weight
                 else f"missing for merged {unit}s (no weight given; a rate is never summed)")
        if split == "copy_rates":
            text += "; split LSOAs: the 2011 value of the whole parent copied to each 2021 child"
        elif split == "flag":
            text += "; missing for split LSOAs (the 2011 value describes the whole parent)"
        lines.append(text)
    return lines


def output_code_name(code_column: str) -> str:
    """'LSOA code (2011)' → 'LSOA code (2021)'; any other name → 'lsoa21'."""
    return code_column.replace("(2011)", "(2021)") if "(2011)" in code_column else "lsoa21"


# --------------------------------------------------------------------------------------------- LSOA 2011 → 2021


def convert_lsoa11_to_21(
    table: pd.DataFrame,
    code_column: str,
    lookup: LsoaLookup,
    counts: Iterable[str] = (),
    rates: Iterable[str] = (),
    weight: str | None = None,
    split: Literal["flag", "copy_rates"] = "flag",
) -> tuple[pd.DataFrame, ConversionReport]:
    """Convert a table on 2011 LSOAs to 2021 LSOAs; returns one row per 2021 LSOA given a value, and the report.

    The output code column is `code_column` with "(2011)" replaced by "(2021)" if it has that,
    else "lsoa21". Unchanged LSOAs are relabelled; merged ones (several 2011 → one 2021) get
    counts summed and rates weighted by `weight` (missing without a weight), and only when every
    2011 parent is in the table. Split LSOAs get no value unless `split="copy_rates"`, which copies
    rates (never counts) from the parent to each child. Complex (X) changes and codes not in the
    lookup are reported, not converted.
    """
    if split not in ("flag", "copy_rates"):
        raise AtlasError(f"Unknown split option {split!r}.", "Use 'flag' or 'copy_rates'.")
    counts, rates, blocked = _check_columns(table, code_column, counts, rates, weight)
    messages: list[str] = []
    t = _prepare(table, code_column, messages)
    _numeric(t, list(dict.fromkeys([*counts, *rates] + ([weight] if weight else []))), messages)

    lk = lookup.frame
    change = t[_CODE].map(lookup.change_of_2011())
    present = set(t[_CODE])
    not_converted: dict[str, list[str]] = {}
    no_code = t[_CODE] == ""
    if no_code.any():
        not_converted["no_code"] = [f"row {i}" for i in t.index[no_code]]
    unknown = t.loc[change.isna() & ~no_code, _CODE]
    if len(unknown):
        not_converted["not_in_lookup"] = sorted(unknown)
        newer = unknown.isin(set(lk.lsoa21)).sum()
        if newer:
            messages.append(f"{int(newer):,} code(s) not in the lookup's 2011 codes are 2021 LSOA codes: "
                            "the table may already be on 2021 boundaries, or mix vintages.")

    to21 = lk.drop_duplicates("lsoa11").set_index("lsoa11")["lsoa21"]
    u = t[change == "U"].copy()
    u[_TARGET] = u[_CODE].map(to21)

    m = t[change == "M"].copy()
    m[_TARGET] = m[_CODE].map(to21)
    merged = lk[lk.change == "M"]
    parents = merged.groupby("lsoa21").lsoa11.apply(set)
    complete_targets = {k for k, v in parents.items() if v <= present}
    incomplete = m[~m[_TARGET].isin(complete_targets)]
    if len(incomplete):
        not_converted["merged_incomplete"] = sorted(incomplete[_CODE])
        messages.append(f"{incomplete[_TARGET].nunique():,} merged 2021 LSOA(s) lack some of their 2011 parents "
                        "in the table and were not converted (a partial sum would mislead).")
    m = m[m[_TARGET].isin(complete_targets)]
    if len(m) and rates and not weight and not counts:
        not_converted["no_weight"] = sorted(m[_CODE])
        messages.append(f"{m[_TARGET].nunique():,} merged 2021 LSOA(s) were not formed: the rate(s) "
                        f"{', '.join(map(repr, rates[:4]))} cannot be combined without a population column to weight "
                        "by (a rate is never summed, nor one parent's value picked).")
        m = m.iloc[0:0]

    s = t[change == "S"]
    x = t[change == "X"]
    if len(x):
        not_converted["complex"] = sorted(x[_CODE])
    children = lk[(lk.change == "S") & lk.lsoa11.isin(set(s[_CODE]))]
    if split == "flag" and len(s):
        not_converted["split"] = sorted(s[_CODE])

    attrs = [c for c in table.columns if c != code_column and c not in counts and c not in rates and c not in blocked]
    rows = pd.concat([u, m])
    out, kept, dropped = _aggregate(rows, counts, rates, weight, attrs)
    copied = 0
    if split == "copy_rates" and len(s) and rates:
        kids = children.merge(s[[_CODE, *rates]], left_on="lsoa11", right_on=_CODE)
        kids = kids.rename(columns={"lsoa21": _TARGET})[[_TARGET, *rates]]
        copied = len(kids)
        out = pd.concat([out, kids], ignore_index=True).sort_values(_TARGET)
    elif split == "copy_rates" and len(s):
        not_converted["split"] = sorted(s[_CODE])
        messages.append("Split LSOAs were left out: 'copy_rates' copies rates only, and no rate columns were named.")

    if lookup.reclassified:
        messages.append(f"The lookup's change indicator contradicted its own pairs for {lookup.reclassified:,} "
                        "2011 code(s); they were treated as complex (X).")
    out_code = output_code_name(code_column)
    out = _order(out, table, code_column, out_code)
    methods = _value_methods(counts, rates, weight, "LSOA", split)
    methods += [f"{c}: {why}" for c, why in blocked.items()]
    if kept:
        methods.append(f"Kept (one value within every merged group): {', '.join(map(str, kept))}"
                       + ("; left missing for split LSOAs" if copied else ""))
    if dropped:
        methods.append(f"Dropped (values differ within a merged group): {', '.join(map(str, dropped))}")
    report = ConversionReport(
        source="LSOA 2011", target="LSOA 2021", rows_in=len(table), rows_out=len(out),
        unchanged=len(u), merged_groups=int(m[_TARGET].nunique()), merged_parents=len(m),
        split_parents=len(s), split_children=copied if copied else int(children.lsoa21.nunique()),
        complex=len(x), split_mode=split, methods=methods, not_converted=not_converted,
        columns_not_convertible=blocked, columns_kept=[str(c) for c in kept],
        columns_dropped=[str(c) for c in dropped], messages=messages)
    return out, report


# --------------------------------------------------------------------------------------------- districts


def successor_map() -> dict[str, str]:
    """Retired district code → the code in use today, following chains (2019 merger then 2023 merger)."""
    direct = {old: new for old, (new, _, _) in successor_codes().items()}
    final: dict[str, str] = {}
    for old in direct:
        code, seen = old, {old}
        while code in direct:
            code = direct[code]
            if code in seen:
                raise AtlasError(f"District code changes loop at {code}.", "Check geo/reference/district_code_changes.csv.")
            seen.add(code)
        final[old] = code
    return final


def _predecessors() -> dict[str, list[str]]:
    """District code → the codes it directly replaced."""
    direct: dict[str, list[str]] = {}
    for old, (new, _, _) in successor_codes().items():
        direct.setdefault(new, []).append(old)
    return direct


def _covered(code: str, present: set[str], preds: dict[str, list[str]]) -> bool:
    """True when `present` covers `code`'s whole area: the code itself, or all its predecessors, recursively."""
    return code in present or (code in preds and all(_covered(p, present, preds) for p in preds[code]))


def convert_districts(
    table: pd.DataFrame,
    code_column: str,
    counts: Iterable[str] = (),
    rates: Iterable[str] = (),
    weight: str | None = None,
) -> tuple[pd.DataFrame, ConversionReport]:
    """Map retired district codes to their current successors: relabel one-to-one recodes, aggregate mergers.

    Counts are summed over merged districts; rates take the `weight`-weighted mean (missing without
    a weight); nothing is converted for a successor whose predecessors are only partly in the table,
    or that appears beside its own predecessors (mixed vintages). Current codes pass through.
    The output code column keeps the name `code_column`. If no code is retired, the table is
    returned unchanged (rank columns included).
    """
    counts, rates, blocked = _check_columns(table, code_column, counts, rates, weight, NOT_CONVERTIBLE_DISTRICT)
    messages: list[str] = []
    t = _prepare(table, code_column, messages)
    smap = successor_map()
    retired = t[_CODE].isin(set(smap))
    if not retired.any():
        out = t.drop(columns=[_CODE]).reset_index(drop=True)
        return out, ConversionReport(source="District", target="District (current codes)", rows_in=len(table),
                                     rows_out=len(out), unchanged=len(out),
                                     methods=["No retired district codes: nothing converted."],
                                     columns_kept=[str(c) for c in table.columns if c != code_column])
    _numeric(t, list(dict.fromkeys([*counts, *rates] + ([weight] if weight else []))), messages)
    preds = _predecessors()
    t[_TARGET] = t[_CODE].map(smap).fillna(t[_CODE])
    not_converted: dict[str, list[str]] = {}
    relabelled = merged_groups = merged_parents = 0
    keep = pd.Series(True, index=t.index)
    for target, rows in t[t[_TARGET].isin(set(t.loc[retired, _TARGET]))].groupby(_TARGET):
        here = set(rows[_CODE])
        chains = {c: _chain(c) for c in here}
        if any(chains[c] & here for c in here):
            not_converted.setdefault("mixed_vintages", []).extend(sorted(here))
            keep[rows.index] = False
        elif not _covered(str(target), here, preds):
            not_converted.setdefault("merged_incomplete", []).extend(sorted(here))
            keep[rows.index] = False
        elif len(rows) == 1:
            relabelled += 1
        elif rates and not weight and not counts:
            not_converted.setdefault("no_weight", []).extend(sorted(here))
            keep[rows.index] = False
        else:
            merged_groups += 1
            merged_parents += len(rows)
    if "mixed_vintages" in not_converted:
        messages.append("Some successor districts appear beside their own predecessors (mixed vintages); "
                        "those rows were not converted, to avoid counting areas twice.")
    if "merged_incomplete" in not_converted:
        messages.append("Some merged districts lack part of their predecessors in the table and were not converted.")
    if "no_weight" in not_converted:
        messages.append(f"Merged districts were not formed: {', '.join(map(repr, rates[:4]))} "
                        f"{'is' if len(rates) == 1 else 'are'} not a count and the table has no population column to "
                        "weight by (and there is no count to sum), so the merged district would have no value at all "
                        "(a rate is neither summed nor one district's value picked).")
    for v in not_converted.values():
        v.sort()
    unchanged = int((~retired & keep).sum())
    attrs = [c for c in table.columns if c != code_column and c not in counts and c not in rates and c not in blocked]
    out, kept, dropped = _aggregate(t[keep], counts, rates, weight, attrs)
    out = _order(out, table, code_column, code_column)
    methods = _value_methods(counts, rates, weight, "district", None)
    methods += [f"{c}: {why}" for c, why in blocked.items()]
    if kept:
        methods.append(f"Kept (one value within every merged group): {', '.join(map(str, kept))}")
    if dropped:
        methods.append(f"Dropped (values differ within a merged group): {', '.join(map(str, dropped))}")
    report = ConversionReport(
        source="District", target="District (current codes)", rows_in=len(table), rows_out=len(out),
        unchanged=unchanged, relabelled=relabelled, merged_groups=merged_groups, merged_parents=merged_parents,
        split_mode="", methods=methods, not_converted=not_converted,
        columns_not_convertible=blocked,
        columns_kept=[str(c) for c in kept], columns_dropped=[str(c) for c in dropped], messages=messages)
    return out, report


def _chain(code: str) -> set[str]:
    """Every later code `code` became (direct successors, step by step)."""
    direct = {old: new for old, (new, _, _) in successor_codes().items()}
    out: set[str] = set()
    while code in direct and direct[code] not in out:
        code = direct[code]
        out.add(code)
    return out


# --------------------------------------------------------------------------------------------- words


def describe_conversion(report: ConversionReport) -> list[str]:
    """Short sentences for the UI and the join report."""
    lines = [f"Converted {report.rows_in:,} row(s) on {report.source} codes to {report.rows_out:,} row(s) on "
             f"{report.target} codes."]
    unit = "LSOA" if report.source.startswith("LSOA") else "district"
    if report.unchanged:
        lines.append(f"{report.unchanged:,} {unit}(s) unchanged (relabelled, values carried over).")
    if report.relabelled:
        lines.append(f"{report.relabelled:,} district(s) recoded one-to-one (relabelled).")
    if report.merged_groups:
        lines.append(f"{report.merged_groups:,} {unit}(s) formed by merging {report.merged_parents:,} older ones: "
                     "counts summed, rates weighted (or left missing without a weight), never summed.")
    if report.split_parents:
        if report.split_mode == "copy_rates" and "split" not in report.not_converted:
            lines.append(f"{report.split_parents:,} 2011 LSOA(s) were split into {report.split_children:,} 2021 LSOAs: "
                         "each child carries its parent's rates (the same value, not an estimate); counts are missing.")
        else:
            lines.append(f"{report.split_parents:,} 2011 LSOA(s) were split into {report.split_children:,} 2021 LSOAs; "
                         "they have no value (the 2011 value describes the whole parent).")
    if report.complex:
        lines.append(f"{report.complex:,} 2011 LSOA(s) changed in complex ways and were not converted.")
    labels = {"not_in_lookup": "code(s) are not in the lookup", "no_code": "row(s) have no code",
              "merged_incomplete": "code(s) belong to a merger only partly in the table",
              "mixed_vintages": "code(s) appear beside their own successor or predecessor",
              "no_weight": "code(s) belong to a merger whose rates cannot be weighted (no population column)"}
    for reason, codes in report.not_converted.items():
        if reason in labels and codes:
            lines.append(f"{len(codes):,} {labels[reason]}, e.g. {', '.join(codes[:3])}; not converted.")
    if report.columns_not_convertible:
        names = list(report.columns_not_convertible)
        lines.append(f"Not converted (ranks/deciles are relative to their release; use the release on the new "
                     f"boundaries): {', '.join(names[:6])}{' …' if len(names) > 6 else ''}.")
    if report.columns_dropped:
        lines.append(f"Dropped (differ within merged areas): {', '.join(report.columns_dropped[:6])}"
                     f"{' …' if len(report.columns_dropped) > 6 else ''}.")
    return lines + report.messages
