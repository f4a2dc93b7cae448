"""Target progress: indicator series over time, targets as data, a target group against the rest.

A series is long: one row per area, indicator and period (`code, name, indicator, period, value`,
optionally `numerator, denominator, lower, upper`); wide tables (one column per period, e.g.
`imd2004_score … imd2019_score`) are turned long. Suppression markers stay "suppressed", never 0.

A target is a small TOML document:

    name = "Narrow the gap on employment"
    indicator = "employment_rate"
    group = "nrf88"                 # or "codes:E06000001,E08000012", "decile:1-2", "rule"
    baseline = "2001"
    kind = "gap_reduction"          # or "level"
    by = "2010"
    amount = 1.0                    # points by which the gap narrows (gap_reduction)
    # value = 70.0                  # the level to reach (level)
    higher_is_worse = false         # the indicator's direction (older files say higher_is_better = true: read too)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.link.codes import normalise_codes
from geo.errors import AtlasError
from geo.load.io import parse_numbers

STATUSES = ("achieved", "on track", "off track", "not enough data")
SMALL_DENOMINATOR = 100
TARGETS = Path(__file__).resolve().parent.parent / "reference" / "targets"
LSOA_COUNTS = Path(__file__).resolve().parent.parent / "reference" / "lsoa_counts_lad21.csv"
LSOA_VINTAGES = {"lsoa01": ("lsoa01_count", "LSOA 2001"), "lsoa11": ("lsoa11_count", "LSOA 2011")}
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:[/-](\d{2,4}))?(?!\d)")


# ------------------------------------------------------------------ series

def read_series(table: pd.DataFrame) -> pd.DataFrame:
    """Long series from a long or wide table; numbers parsed, suppression markers flagged."""
    lower = {str(c).strip().lower(): c for c in table.columns}
    code_col = next((lower[k] for k in ("code", "areacd", "area_code", "ltla21_code", "lad19cd", "lsoa11cd")
                     if k in lower), None)
    if code_col is None:
        from geo.link.join import guess_code_column

        code_col = guess_code_column(table)
    region_col = next((lower[k] for k in lower if k == "region" or (k.startswith(("region", "rgn")) and
                                                                    k.endswith(("_name", "nm")))), None)
    name_col = next((lower[k] for k in lower if (k in ("name", "areanm") or k.endswith(("_name", "nm")))
                     and lower[k] != region_col), None)
    if "period" in lower and "value" in lower:
        out = pd.DataFrame({
            "code": normalise_codes(table[code_col])[0],
            "name": table[name_col].astype("string") if name_col else pd.NA,
            "indicator": table[lower["indicator"]].astype("string").str.strip() if "indicator" in lower else "value",
            "period": table[lower["period"]].astype("string").str.strip(),
        })
        for field in ("value", "numerator", "denominator", "lower", "upper"):
            if field in lower:
                numbers, marked = parse_numbers(table[lower[field]])
                out[field] = numbers.to_numpy()
                if field == "value":
                    out["suppressed"] = marked.to_numpy()
            else:
                out[field] = np.nan
        if "suppressed" not in out:
            out["suppressed"] = False
    else:
        rows = []
        for col in table.columns:
            match = _YEAR.search(str(col))
            if not match or col in (code_col, name_col, region_col):
                continue
            indicator = (str(col)[:match.start()] + str(col)[match.end():]).strip(" _-") or "value"
            numbers, marked = parse_numbers(table[col])
            rows.append(pd.DataFrame({"code": normalise_codes(table[code_col])[0],
                                      "name": table[name_col].astype("string") if name_col else pd.NA,
                                      "indicator": indicator, "period": match.group(0),
                                      "value": numbers.to_numpy(), "suppressed": marked.to_numpy()}))
        if not rows:
            raise AtlasError("The table has neither period/value columns nor one column per period (e.g. 'imd2004_score').",
                             "Give a long table (code, period, value) or a wide one with a year in each value column.")
        out = pd.concat(rows, ignore_index=True)
        for field in ("numerator", "denominator", "lower", "upper"):
            out[field] = np.nan
    out = out[out["code"] != ""]
    key = ["code", "indicator", "period"]
    dup = out.duplicated(key, keep=False)
    notes = []
    if dup.any():
        out = out.drop_duplicates(key + ["value"])  # exact repeats: one kept
        still = out.duplicated(key, keep=False)
        if still.any():
            codes = sorted(set(out.loc[still, "code"]))
            notes.append(f"Left out {int(still.sum()):,} rows where one code has different values for the same "
                         f"indicator and period (e.g. {', '.join(codes[:3])}): the file labels two areas with one code.")
            out = out[~still]
        if dup.sum() > still.sum():
            notes.append("Collapsed exact repeats of the same area, indicator and period.")
    if out.empty:
        raise AtlasError("No usable rows remain in the series.", "Check the codes, periods and values.")
    if region_col is not None:
        regions = dict(zip(normalise_codes(table[code_col])[0], table[region_col].astype("string").str.strip()))
        out["region"] = out["code"].map(regions)
    out = out.sort_values(key).reset_index(drop=True)
    out.attrs["notes"] = notes
    return out


# ------------------------------------------------------------------ targets

@dataclass(frozen=True)
class Target:
    name: str
    indicator: str
    group: str
    baseline: str
    by: str
    kind: str = "gap_reduction"
    amount: float = 0.0
    value: float = float("nan")
    higher_is_worse: bool = False
    description: str = ""
    compare: str = "rest"  # "rest" (of England) or "region:<name or code>" (the rest of that region)

    @property
    def higher_is_better(self) -> bool:
        """The old convention, derived (read-only): not higher_is_worse."""
        return not self.higher_is_worse

    def to_toml(self) -> str:
        """The target as a small TOML file (what `parse_target` reads), direction as higher_is_worse."""
        lines = [f"name = {_toml_str(self.name)}", f"indicator = {_toml_str(self.indicator)}",
                 f"group = {_toml_str(self.group)}", f"baseline = {_toml_str(self.baseline)}",
                 f"by = {_toml_str(self.by)}", f"kind = {_toml_str(self.kind)}"]
        lines.append(f"amount = {self.amount!r}" if self.kind == "gap_reduction" else f"value = {self.value!r}")
        lines.append(f"higher_is_worse = {'true' if self.higher_is_worse else 'false'}")
        if self.compare != "rest":
            lines.append(f"compare = {_toml_str(self.compare)}")
        if self.description:
            lines.append(f"description = {_toml_str(self.description)}")
        return "\n".join(lines) + "\n"

    @property
    def comparison(self) -> str:
        """'the rest of England' or 'the rest of North East', for sentences."""
        return f"the rest of {self.compare[7:]}" if self.compare.startswith("region:") else "the rest of England"

    def rule_in_words(self, baseline_gap: float, target_gap: float, meta: IndicatorMeta | None = None) -> str:
        """How the status is decided, in words (shown beside every status)."""
        meta = meta or IndicatorMeta(self.indicator, self.indicator)
        if self.kind == "level":
            better = "at most" if self.higher_is_worse else "at least"
            return (f"Achieved when the group's value is {better} {meta.show(self.value)}; on track when it is at or "
                    f"better than the straight line from its {self.baseline} value to {meta.show(self.value)} in "
                    f"{self.by}; off track otherwise; not enough data when the group has no value for the period.")
        return (f"The gap is how far the group is behind the rest. Achieved when the gap is at most "
                f"{meta.points(target_gap)} (the {self.baseline} gap of {meta.points(baseline_gap)} narrowed by "
                f"{meta.points(self.amount)}); on track when the gap is at or below the straight line from "
                f"{meta.points(baseline_gap)} in {self.baseline} to {meta.points(target_gap)} in {self.by}; off track "
                "otherwise; not enough data when the group or the rest has no value for the period.")


def parse_target(text: str, indicators: tuple[str, ...] = ()) -> Target:
    """Read and check a target; problems are AtlasErrors saying what to do."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AtlasError(f"The target is not valid TOML: {exc}.", "Compare it with a preset target file.") from exc
    missing = [k for k in ("indicator", "group", "baseline", "by") if k not in doc]
    if missing:
        raise AtlasError(f"The target has no {', '.join(missing)}.", "See geo/reference/targets/ for examples.")
    kind = doc.get("kind", "gap_reduction")
    if kind not in ("gap_reduction", "level"):
        raise AtlasError(f"kind = {kind!r} is not understood.", "Use \"gap_reduction\" or \"level\".")
    if kind == "level" and "value" not in doc:
        raise AtlasError("A level target needs a value to reach.", "Add value = … to the target.")
    if indicators and doc["indicator"] not in indicators:
        raise AtlasError(f"The series has no indicator {doc['indicator']!r}.", f"Indicators: {', '.join(indicators)}.")
    worse = _direction(doc)
    try:
        target = Target(str(doc.get("name", "Unnamed target")), str(doc["indicator"]), str(doc["group"]),
                        str(doc["baseline"]), str(doc["by"]), kind, float(doc.get("amount", 0.0)),
                        float(doc.get("value", float("nan"))), worse,
                        str(doc.get("description", "")), str(doc.get("compare", "rest")))
    except (TypeError, ValueError) as exc:
        raise AtlasError(f"A number in the target is not a number ({exc}).", "Check amount and value.") from exc
    if _year(target.by) <= _year(target.baseline):
        raise AtlasError(f"The target date {target.by} is not after the baseline {target.baseline}.",
                         "Set by later than baseline.")
    return target


def _direction(doc: dict) -> bool:
    """higher_is_worse of a target; files saved before it say higher_is_better, which is converted."""
    given = {k: doc[k] for k in ("higher_is_worse", "higher_is_better") if k in doc}
    for key, value in given.items():
        if not isinstance(value, bool):
            raise AtlasError(f"{key} = {value!r} is not true or false.", "Write higher_is_worse = true or false.")
    if len(given) == 2 and given["higher_is_worse"] == given["higher_is_better"]:
        raise AtlasError("higher_is_worse and higher_is_better contradict each other.", "Keep higher_is_worse only.")
    if "higher_is_worse" in given:
        return given["higher_is_worse"]
    return not given.get("higher_is_better", True)  # the old default: higher is better


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def presets() -> dict[str, Target]:
    """Preset targets shipped in geo/reference/targets/*.toml, by name."""
    return {t.name: t for t in (parse_target(p.read_text(encoding="utf-8")) for p in sorted(TARGETS.glob("*.toml")))}


def _year(period: str) -> float:
    match = _YEAR.search(str(period))
    if not match:
        raise AtlasError(f"Cannot tell the year of period {period!r}.", "Periods should contain a year, e.g. 2004.")
    return float(match.group(1))


def resolve_group(spec: str, codes: list[str], deciles: dict[str, float] | None = None,
                  rule_codes: list[str] | None = None) -> set[str]:
    """The area codes of a target group: nrf88, codes:…, decile:a-b, or rule (an eligibility result)."""
    if spec == "nrf88":
        from geo.derive.nrf import reference_codes

        return set(reference_codes(codes))
    if spec.startswith("codes:"):
        wanted = set(normalise_codes(pd.Series(spec[6:].split(",")))[0]) - {""}
        unknown = wanted - set(codes)
        if unknown:
            raise AtlasError(f"{len(unknown)} chosen area(s) are not in the series: {', '.join(sorted(unknown)[:5])}.",
                             "Pick areas from the series.")
        return wanted
    if spec.startswith("decile:"):
        if not deciles:
            raise AtlasError("A decile group needs the areas' IoD deciles.", "Use an LSOA series with an IoD release loaded.")
        lo, _, hi = spec[7:].partition("-")
        lo_f, hi_f = float(lo), float(hi or lo)
        return {c for c in codes if lo_f <= deciles.get(c, np.nan) <= hi_f}
    if spec == "rule":
        if rule_codes is None:
            raise AtlasError("This target's group is an eligibility result, but no rule has been evaluated.",
                             "Open Fund eligibility first, or choose another group.")
        return set(rule_codes)
    raise AtlasError(f"Unknown group {spec!r}.", "Use nrf88, codes:E06000001,…, decile:1-2 or rule.")


def comparison_codes(data: pd.DataFrame, compare: str) -> set[str]:
    """The areas a group is compared with: all of England, or those of one region (by name or code)."""
    if compare in ("rest", "", "england"):
        return set(data["code"])
    if compare.startswith("region:"):
        wanted = compare[7:].strip().lower()
        if "region" not in data.columns:
            raise AtlasError("This series has no region column, so a region cannot be the comparison.",
                             "Compare with the rest of England, or use a series with a region column.")
        inside = data["region"].astype("string").str.lower() == wanted
        if not inside.any():
            raise AtlasError(f"No area of the series is in region {compare[7:]!r}.",
                             f"Regions: {', '.join(sorted(data['region'].dropna().unique()))}.")
        return set(data.loc[inside, "code"])
    raise AtlasError(f"compare = {compare!r} is not understood.", "Use \"rest\" or \"region:<name>\".")


# ------------------------------------------------------------------ measures

@lru_cache(maxsize=1)
def lsoa_counts() -> pd.DataFrame:
    """LSOAs of 2001 and 2011 per 2021 district (reference/lsoa_counts_lad21.csv), indexed by district code."""
    return pd.read_csv(LSOA_COUNTS, dtype={"ltla21_code": str}).set_index("ltla21_code")


def _area_word(codes: pd.Series) -> str:
    """'districts', 'neighbourhoods (LSOAs)' or 'areas', from the codes' GSS entity."""
    kinds = set(codes.astype("string").str[:3])
    if kinds and kinds <= {"E06", "E07", "E08", "E09"}:
        return "districts"
    if kinds and kinds <= {"E01"}:
        return "neighbourhoods (LSOAs)"
    return "areas"


def pool_counts(data: pd.DataFrame, meta: IndicatorMeta | None) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """Numerators and denominators for a share-of-LSOAs series that has none, from the LSOA counts.

    Only for an indicator whose metadata says pool_by = "lsoa_count": per period, the LSOA vintage of
    pool_vintage gives the count (denominator) and share × count the numerator. A period is left as it is
    (unweighted mean) when it has no vintage or a valued code is not in the counts table; rows that bring
    their own numerator and denominator keep them. Returns the data and, per period, (method, why)."""
    methods: dict[str, tuple[str, str]] = {}
    if meta is None or meta.pool_by != "lsoa_count":
        return data, methods
    vintage = dict(meta.pool_vintage)
    counts = lsoa_counts()
    data = data.copy()
    for period, at in data.groupby("period", sort=False):
        own = at["numerator"].notna() & at["denominator"].notna()
        if own.all():
            continue  # the series' own counts
        if period not in vintage:
            methods[period] = ("", "no LSOA counts for {period}")
            continue
        column, name = LSOA_VINTAGES[vintage[period]]
        valued = at.loc[at["value"].notna() & ~own, "code"]
        missing = sorted(set(valued) - set(counts.index))
        if missing:
            methods[period] = ("", f"{len(missing):,} code(s) not in the LSOA counts table, e.g. "
                                   f"{', '.join(missing[:3])}")
            continue
        idx = at.index[~own]
        count = data.loc[idx, "code"].map(counts[column]).astype(float)
        data.loc[idx, "denominator"] = count
        data.loc[idx, "numerator"] = data.loc[idx, "value"] * count
        methods[period] = (f"pooled {name} counts", "")
    return data, methods


def _pooled(rows: pd.DataFrame, mean_word: str = "areas") -> tuple[float, str]:
    """A group's value: pooled numerator/denominator where counts exist (population-weighted), else the mean."""
    counted = rows.dropna(subset=["numerator", "denominator", "value"])
    if len(counted) and len(counted) == rows["value"].notna().sum() and counted["denominator"].sum() > 0:
        scale = float(np.nanmedian(counted["value"] / (counted["numerator"] / counted["denominator"])))
        return float(counted["numerator"].sum() / counted["denominator"].sum() * scale), "pooled counts"
    values = rows["value"].dropna()
    return (float(values.mean()) if len(values) else float("nan")), f"unweighted mean of {mean_word}"


def _periods_in_words(periods: list[str]) -> str:
    return periods[0] if len(periods) == 1 else f"{periods[0]}–{periods[-1]}"  # a run of consecutive periods


def method_in_words(summary: pd.DataFrame) -> str:
    """How the group and rest values were made, over all periods, e.g. 'pooled LSOA counts (LSOA 2001 counts
    for 2004–2010, LSOA 2011 for 2015–2019)' or 'unweighted mean of districts'; fallbacks named with their reason."""
    runs: list[tuple[str, list[str], str]] = []  # (method, periods, why) for consecutive periods
    if "period" not in summary.columns:
        summary = summary.reset_index()
    for row in summary.itertuples():
        why = str(getattr(row, "method_note", "") or "")
        if runs and runs[-1][0] == row.method and runs[-1][2] == why:
            runs[-1][1].append(str(row.period))
        else:
            runs.append((str(row.method), [str(row.period)], why))
    if len(runs) == 1 and not runs[0][2] and not runs[0][0].startswith("pooled LSOA "):
        return runs[0][0]
    lsoa = [(m.removeprefix("pooled ").removesuffix(" counts"), p) for m, p, _ in runs if m.startswith("pooled LSOA ")]
    parts = []
    if lsoa:
        inner = [f"{v}{' counts' if i == 0 else ''} for {_periods_in_words(p)}" for i, (v, p) in enumerate(lsoa)]
        parts.append(f"pooled LSOA counts ({', '.join(inner)})")
    for method, periods, why in runs:
        if method.startswith("pooled LSOA "):
            continue
        why = why.replace("{period}", "that period" if len(periods) == 1 else "those periods")
        parts.append(f"{method} for {_periods_in_words(periods)}{f' ({why})' if why else ''}")
    return "; ".join(parts)


def measure_progress(series: pd.DataFrame, target: Target, group: set[str],
                     meta: IndicatorMeta | None = None, pool: bool = True) -> tuple[pd.DataFrame, str]:
    """Per period: group and rest values, gaps, change since baseline, trajectory and status; plus the rule in words.

    `method` says per period how the values were made (pooled counts — the series' own or LSOA counts when the
    indicator's metadata pools by them, see pool_counts — or the unweighted mean), `method_note` why a period
    fell back to the mean; method_in_words(summary) puts it in one phrase. pool=False: never derive counts."""
    data = series[series["indicator"] == target.indicator]
    if data.empty:
        raise AtlasError(f"The series has no indicator {target.indicator!r}.",
                         f"Indicators: {', '.join(sorted(series['indicator'].unique()))}.")
    if not group:
        raise AtlasError("The target group is empty.", "Choose a group with at least one area in the series.")
    rest_codes = comparison_codes(data, target.compare) - group
    if not rest_codes:
        raise AtlasError("Every area of the comparison is in the group, so there is no rest to compare with.",
                         "Choose a smaller group or compare with the rest of England.")
    data, derived = pool_counts(data, meta) if pool else (data, {})
    word = _area_word(data["code"])
    rows = []
    for period, at in data.groupby("period", sort=False):
        g, method = _pooled(at[at["code"].isin(group)], word)
        r, rest_method = _pooled(at[at["code"].isin(rest_codes)], word)
        named, why = derived.get(period, ("", ""))
        if named and method == rest_method == "pooled counts":
            method = named
        elif method != rest_method:
            method = f"group: {method}; rest: {rest_method}"
        rows.append({"period": period, "year": _year(period), "group_value": g, "rest_value": r, "method": method,
                     "method_note": why})
    out = pd.DataFrame(rows).sort_values("year").reset_index(drop=True)
    sign = -1.0 if target.higher_is_worse else 1.0
    out["gap"] = sign * (out["rest_value"] - out["group_value"])  # > 0: the group is behind
    out["relative_gap"] = out["gap"] / out["rest_value"].abs()
    base = out[out["period"] == target.baseline]
    if base.empty or base[["group_value", "rest_value"]].isna().any(axis=None):
        raise AtlasError(f"The series has no values for the baseline {target.baseline}.",
                         f"Periods: {', '.join(out['period'])}.")
    b_gap, b_group = float(base["gap"].iloc[0]), float(base["group_value"].iloc[0])
    b_year, t_year = _year(target.baseline), _year(target.by)
    out["group_change"] = out["group_value"] - b_group
    out["gap_change"] = out["gap"] - b_gap
    frac = ((out["year"] - b_year) / (t_year - b_year)).clip(lower=0)
    if target.kind == "gap_reduction":
        goal = b_gap - target.amount
        out["trajectory"] = b_gap + (goal - b_gap) * frac
        achieved = out["gap"] <= goal + 1e-9
        on_track = out["gap"] <= out["trajectory"] + 1e-9
    else:
        goal = target.value
        out["trajectory"] = b_group + (goal - b_group) * frac
        achieved = sign * (out["group_value"] - goal) >= -1e-9
        on_track = sign * (out["group_value"] - out["trajectory"]) >= -1e-9
    missing = out[["group_value", "rest_value"]].isna().any(axis=1)
    out["status"] = np.select([_flags(missing), _flags(achieved), _flags(on_track)],
                              ["not enough data", "achieved", "on track"], "off track")
    out.loc[out["year"] <= b_year, "status"] = np.where(missing[out["year"] <= b_year], "not enough data", "baseline")
    return out, target.rule_in_words(b_gap, goal if target.kind == "gap_reduction" else b_gap, meta)


def area_progress(series: pd.DataFrame, target: Target, group: set[str], progress: pd.DataFrame) -> pd.DataFrame:
    """Per area and period: the area's value, its gap to the rest, and a status by the target's own rule."""
    data = series[series["indicator"] == target.indicator].copy()
    rest = progress.set_index("period")
    sign = -1.0 if target.higher_is_worse else 1.0
    data["rest_value"] = data["period"].map(rest["rest_value"])
    data["group_value"] = data["period"].map(rest["group_value"])
    data["gap"] = sign * (data["rest_value"] - data["value"])
    data["in_group"] = data["code"].isin(group)
    base = data[data["period"] == target.baseline].set_index("code")
    b_year, t_year = _year(target.baseline), _year(target.by)
    frac = ((data["period"].map(_year) - b_year) / (t_year - b_year)).clip(lower=0)
    if target.kind == "gap_reduction":
        b_gap = data["code"].map(base["gap"])
        trajectory = b_gap - target.amount * frac
        achieved = data["gap"] <= b_gap - target.amount + 1e-9
        on_track = data["gap"] <= trajectory + 1e-9
    else:
        b_val = data["code"].map(base["value"])
        trajectory = b_val + (target.value - b_val) * frac
        achieved = sign * (data["value"] - target.value) >= -1e-9
        on_track = sign * (data["value"] - trajectory) >= -1e-9
    small = data["denominator"].notna() & (data["denominator"] < SMALL_DENOMINATOR)
    wide = data["lower"].notna() & data["upper"].notna() & ((data["upper"] - data["lower"]) > data["gap"].abs() * 2)
    missing = data["value"].isna() | trajectory.isna()
    conditions = [_flags(c) for c in (data["suppressed"], missing, small | wide, achieved, on_track)]
    data["status"] = np.select(conditions, ["suppressed", "not enough data", "small numbers — not rated", "achieved",
                                            "on track"], "off track")
    data.loc[data["period"].map(_year) <= b_year, "status"] = "baseline"
    return data


@dataclass(frozen=True)
class IndicatorMeta:
    """How to name and show an indicator: label, unit, display scale, direction, and a sentence form."""

    id: str
    label: str
    unit: str = ""
    scale: float = 1.0
    higher_is_worse: bool = False
    phrase: str = ""
    relative_ranks: bool = False
    source: str = ""
    caveat: str = ""
    pool_by: str = ""  # "lsoa_count": pool a share of LSOAs by the LSOA counts of reference/lsoa_counts_lad21.csv
    pool_vintage: tuple[tuple[str, str], ...] = ()  # (period, "lsoa01" | "lsoa11") for pool_by = "lsoa_count"

    @property
    def higher_is_better(self) -> bool:
        """The old convention, derived (read-only): not higher_is_worse."""
        return not self.higher_is_worse

    @property
    def rank_caveat(self) -> str:
        """The relative-ranks sentence ('' when the indicator is not built from relative ranks)."""
        if not self.relative_ranks:
            return ""
        return self.caveat or "Ranks are relative: a value can only fall somewhere if it rises elsewhere."

    def show(self, value: float, signed: bool = False) -> str:
        """A value as people read it: scaled, with its unit ('36%', '71.2')."""
        x = value * self.scale
        sign = ("+" if x > 0 else "−" if x < 0 else "") if signed else ("−" if x < 0 else "")
        return f"{sign}{_num(abs(x))}{self.unit}"

    def points(self, value: float) -> str:
        """A difference: percentage points for % indicators, else the unit."""
        x = abs(value * self.scale)
        return f"{_num(x)} points" if self.unit == "%" else f"{_num(x)}{self.unit}"


def indicator_meta(indicator: str, extra: tuple[Path, ...] = ()) -> IndicatorMeta:
    """Metadata for an indicator from indicators/series.toml and any extra TOML files, else plain defaults.

    Every file is read by geo.catalogue's one loader (unknown or missing keys raise, naming file and entry);
    extra files are users' own, so their old `higher_is_better` is converted.
    """
    from geo.catalogue import series_indicators

    for entry in series_indicators(tuple(extra)):
        if entry["id"] == indicator:
            vintages = tuple((str(k), str(v)) for k, v in entry["pool_vintage"].items())
            return IndicatorMeta(indicator, entry["label"], entry["unit"], float(entry["scale"]),
                                 entry["higher_is_worse"], entry["phrase"], entry["relative_ranks"],
                                 entry["source"], entry["caveat"], entry["pool_by"], vintages)
    return IndicatorMeta(indicator, indicator)


def headline(name: str, target: Target, meta: IndicatorMeta, area: pd.DataFrame) -> str:
    """One plain-English sentence for an area under a target, generated from the numbers only."""
    rows = area.dropna(subset=["value"]).copy()
    rows["year"] = rows["period"].map(_year)
    rows = rows.sort_values("year")
    if rows.empty:
        return f"{name}: no {meta.label.lower()} values in the series."
    last = rows.iloc[-1]
    if meta.phrase:
        text = f"{name}: {meta.phrase.replace('{value}', meta.show(last['value']))} in {last['period']}"
    else:
        text = f"{name}: {meta.label} {meta.show(last['value'])} in {last['period']}"
    base = rows[rows["period"] == target.baseline]
    if not base.empty:
        b = base.iloc[0]
        moved = last["value"] - b["value"]
        text += f" ({'up' if moved > 0 else 'down' if moved < 0 else 'unchanged'}"
        text += f" {meta.points(moved)} since {target.baseline})" if moved else f" since {target.baseline})"
        if pd.notna(b["gap"]) and pd.notna(last["gap"]):
            change = last["gap"] - b["gap"]
            verb = "narrowed" if change < 0 else "widened" if change > 0 else "did not change"
            if b["gap"] > 0 and last["gap"] <= 0:
                verb = "closed"
            amount = f" by {meta.points(change)}" if change and verb != "closed" else ""
            text += (f"; its gap to {target.comparison} {verb}{amount} "
                     f"(from {meta.points(b['gap'])} to {meta.points(last['gap'])}"
                     f"{' ahead' if last['gap'] < 0 else ''})")
    return text + "."


def group_headline(target: Target, meta: IndicatorMeta, summary: pd.DataFrame, group_label: str = "The group") -> str:
    """One sentence for the target as a whole, from the per-period measures."""
    rated = summary.dropna(subset=["group_value", "rest_value"])
    if rated.empty:
        return f"{group_label}: not enough data for {meta.label.lower()}."
    first, last = rated.iloc[0], rated.iloc[-1]
    change = last["gap"] - first["gap"]
    verb = "narrowed" if change < 0 else "widened" if change > 0 else "held"
    goal = (f"narrow the gap by {meta.points(target.amount)} by {target.by}" if target.kind == "gap_reduction"
            else f"reach {meta.show(target.value)} by {target.by}")
    label = meta.label[:1].lower() + meta.label[1:]
    return (f"{group_label}: {label} {meta.show(last['group_value'])} against {meta.show(last['rest_value'])} "
            f"for {target.comparison} in {last['period']}; the gap {verb}"
            f"{' by ' + meta.points(change) if change else ''} since {first['period']} — {last['status']} "
            f"(target: {goal}). Method: {method_in_words(summary)}.")


def _flags(condition: pd.Series) -> np.ndarray:
    """A condition as plain booleans (missing counts as not met)."""
    return pd.Series(condition).astype("boolean").fillna(False).to_numpy(dtype=bool)


def _num(x: float) -> str:
    return f"{x:,.1f}" if abs(x) < 100 else f"{x:,.0f}"
