"""Target progress: a series and a target, the group against the rest, each area's status on the map."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from geo.present.classify import Classification, classify_values
from geo.errors import AtlasError
from geo.present.mapping import MapSpec
from geo.derive.progress import (
    Target,
    area_progress,
    group_headline,
    headline,
    indicator_meta,
    measure_progress,
    method_in_words,
    parse_target,
    presets,
    resolve_group,
)
from geo.state.tokens import pack_text, unpack_text
from geo.views.base import CompareSetup, Param, View, ViewData, ViewResult
from geo.views.common import release_map

STATUS_ORDER = ["not in group", "not rated", "off track", "on track", "achieved"]
# The legend's words for each status (a legend reads "On track", never "Class 4 of 5, on track").
STATUS_WORDS = {"not in group": "Not in the target group", "not rated": "Not rated (too little data)",
                "off track": "Off track", "on track": "On track", "achieved": "Target achieved"}
STATUS_COLOURS = ["#f7f7f7", "#bdbdbd", "#f28e2b", "#74a9cf", "#08306b"]
MAPS = ("status", "value (breaks locked across periods)", "change since baseline")
GROUPS = {"target": "As the target says", "nrf88": "The 88 NRF authorities of 2001",
          "rule": "Eligible under the last fund rule", "codes": "Hand-picked areas",
          "decile": "A band of IMD deciles (LSOAs)"}


def encode_target(t: Target) -> str:
    return pack_text(t.to_toml())


def target_from(value: str, indicators: tuple[str, ...]) -> Target:
    """The target a `target` parameter names: a preset's name, a target file (command line) or a link's token."""
    options = presets()
    if value in options:
        return options[value]
    if value.lower().endswith(".toml") and Path(value).is_file():
        return parse_target(Path(value).read_text(encoding="utf-8"), indicators)
    return parse_target(unpack_text(value, "target"), indicators)


NONE = "none"  # the series choice when a real release has no real series beside it
NO_SERIES = ("No indicator series is loaded beside this release, so there is no target to track: this is the "
             "release's own map. Put a series in a data folder (ATLAS_DATA_DIRS) — e.g. the IMD history "
             "imd_lad21_2004_2019.csv (IMD 2004–2019 on 2021 districts) — or a table with code, period and value "
             "columns, then choose it under Series. The demo's made-up series is under Series too, for practice.")
LSOA_PREFIXES = ("E01", "W01", "E02", "W02")


def series_choices(data: ViewData, values: dict) -> list[str]:
    """The series on offer; on real data without a real series, first "none" (the release's map and how to load one)."""
    ids = list(data.series)
    if not data.illustrative and not any(not s.illustrative for s in data.series.values()):
        return [NONE, *ids]
    return ids


def default_series(data: ViewData, values: dict) -> str | None:
    """The demo's series on the demo; a real series on real data (never the made-up one), else "none"."""
    wanted = [k for k, s in data.series.items() if s.illustrative == bool(data.illustrative)]
    if wanted:
        return wanted[0]
    return NONE if not data.illustrative else next(iter(data.series), None)


def has_series(data: ViewData, values: dict) -> bool:
    return values.get("series") not in (None, NONE) and values["series"] in data.series


def series_of(data: ViewData, values: dict) -> pd.DataFrame:
    """The chosen series, read (the app caches the read)."""
    return data.series[values["series"]].load()


def series_level(data: ViewData, values: dict) -> str:
    """"lsoas" when most of the series' codes are neighbourhoods' (E01…), else "districts"."""
    try:
        codes = series_of(data, values)["code"].astype("string").str.upper()
    except AtlasError:
        return ""
    return "lsoas" if codes.str.startswith(LSOA_PREFIXES).mean() > 0.5 else "districts"


def _nrf_placeable(series: pd.DataFrame) -> bool:
    """Whether the 88 NRF authorities of 2001 can be placed in the series' district codes."""
    from geo.derive.nrf import reference_codes

    try:
        return bool(reference_codes(sorted(series["code"].unique())))
    except AtlasError:
        return False


def group_choices(data: ViewData, values: dict) -> list[str]:
    """The groups the series' geography supports: a decile band of LSOAs only on an LSOA series with IoD deciles;
    the NRF 88 authorities and an eligibility result only on a district series (the rule once one is evaluated)."""
    level = series_level(data, values)
    out = ["target", "codes"]
    if level == "districts" and _nrf_placeable(series_of(data, values)):
        out.insert(1, "nrf88")
        if data.eligible_codes:
            out.insert(2, "rule")
    if level == "lsoas" and deciles_of(data):
        out.append("decile")
    return out


def fitting_targets(data: ViewData, values: dict) -> list[str]:
    """The preset targets whose indicator is in the chosen series."""
    indicators = set(series_of(data, values)["indicator"].unique())
    return [n for n, t in presets().items() if t.indicator in indicators]


def deciles_of(data: ViewData) -> dict[str, float] | None:
    """LSOA code → IMD decile of the loaded release (for a decile-band group)."""
    if not data.iod:
        return None
    col = data.ind.column_for("imd", "decile")
    if col is None:
        return None
    from geo.link.codes import codes_of

    return dict(zip(codes_of(data.ind.frame, data.ind.code_column)[0], data.ind.frame[col.name]))


def _regions(data: ViewData, values: dict) -> list[str]:
    series = series_of(data, values)
    if "region" in series.columns and series["region"].notna().any():
        return ["England"] + sorted(series["region"].dropna().unique())
    return []


class ProgressView(View):
    id = "progress"
    label = "Target progress"
    description = "A floor target's progress: the group against the rest, per period and per area."

    def available(self, data: ViewData) -> str | None:
        return None if data.series or data.iod else "no indicator series is loaded"

    def params(self, data: ViewData) -> tuple[Param, ...]:
        return (
            Param("series", "Series", "choice", choices=series_choices, key="series_choice", default=default_series,
                  labels=lambda d, v: {NONE: "None loaded — how to load one",
                                       **{k: s.label + (" (made-up demo)" if s.illustrative and not d.illustrative
                                                        else "") for k, s in d.series.items()}},
                  help="An indicator series over time."),
            Param("target", "Target", "text", default=lambda d, v: next(iter(fitting_targets(d, v)), ""),
                  when=has_series, help="A preset target's name, a target file (.toml) or a target token from a link."),
            Param("group", "Target group", "choice", default="target", key="group_choice", when=has_series,
                  choices=group_choices, labels=GROUPS),
            Param("group_codes", "Areas in the group", "choices", default=[],
                  when=lambda d, v: v.get("group") == "codes",
                  choices=lambda d, v: sorted(series_of(d, v)["code"].unique())),
            Param("group_deciles", "IMD deciles (1 = most deprived 10%)", "text", default="1-1",
                  when=lambda d, v: v.get("group") == "decile", help="A band, e.g. 1-2."),
            Param("region", "Compare with the rest of", "choice", default="England", key="compare_region",
                  choices=_regions, when=lambda d, v: has_series(d, v) and bool(_regions(d, v))),
            Param("period", "Period", "text", default="", widget="select_slider", when=has_series,
                  key=lambda d, v: f"period_{Path(d.series[v['series']].meta.get('name', v['series'])).name}",
                  help="A period of the series (default: the latest)."),
            Param("progress_map", "Map", "choice", default="status", choices=MAPS, widget="radio", when=has_series),
        )

    def build(self, data: ViewData, values: dict) -> ViewResult:
        if not has_series(data, values):
            result = release_map(data, level="districts")
            result.warnings.append(NO_SERIES)
            return result
        try:
            return self._build(data, values)
        except AtlasError as exc:  # the target cannot be followed: said beside a map, never instead of one
            try:
                result = self._fallback(data, values)
            except AtlasError:
                raise exc from None
            result.problems.append(exc)
            return result

    def _fallback(self, data: ViewData, values: dict) -> ViewResult:
        """The series' latest values on its own boundaries, else the release's districts."""
        try:
            series = series_of(data, values)
            gdf, code_col = _best_layer(data, sorted(series["code"].unique()))
        except AtlasError:
            return release_map(data, level="districts")
        latest = series[series["period"] == sorted(series["period"].unique())[-1]]
        first = latest[latest["indicator"] == latest["indicator"].iloc[0]].set_index("code")
        layer = gdf.copy()
        layer["_code"] = layer[code_col].astype("string").str.strip().str.upper()
        layer["p_value"] = layer["_code"].map(first["value"])
        name_col = next((c for c in gdf.columns if str(c).lower().endswith(("nm", "name"))), None)
        label = f"{first.get('indicator', pd.Series(['value'])).iloc[0]} ({latest['period'].iloc[0]})"
        spec = MapSpec("p_value", label, name_col, code_col, title=label, subtitle="the series' latest values",
                       darker_means="higher", extremes=("lowest", "highest"))
        classification = classify_values(layer["p_value"], "quantiles", 5, extremes=("lowest", "highest"))
        return ViewResult(layer, spec, True, classification=classification, illustrative=data.series[
            values["series"]].illustrative)

    def _build(self, data: ViewData, values: dict) -> ViewResult:
        source = data.series[values["series"]]
        target, meta, group, summary, words, series = progress_summary(data, values)
        areas = area_progress(series, target, group, summary)
        periods = list(summary["period"])
        period = values.get("period") or periods[-1]
        if period not in periods:
            raise AtlasError(f"period = {period} is not a period of this series.", f"Periods: {', '.join(periods)}.")
        layer, spec, classification = _progress_map(data, series, target, meta, areas, period, values["progress_map"])
        group_line = group_headline(target, meta, summary, "The group")
        headlines = [group_line]
        for code in sorted(group)[:6]:
            rows = areas[areas["code"] == code]
            if not rows.empty:
                headlines.append(headline(str(rows["name"].iloc[0]), target, meta, rows))
        shown = areas[["code", "name", "period", "value", "in_group", "group_value", "rest_value", "gap", "status"]]
        extra = {"target": target, "meta": meta, "summary": summary, "words": words, "areas": areas, "group": group,
                 "period": period, "periods": periods, "method": method_in_words(summary),
                 "series_label": source.label}
        return ViewResult(layer, spec, not meta.higher_is_better, classification=classification,
                          tables={"progress": shown, "summary": summary}, headlines=headlines,
                          notes=list(series.attrs.get("notes", [])), caveats=[meta.rank_caveat] if meta.rank_caveat else [],
                          illustrative=source.illustrative, extra=extra)


    def comparison(self, data: ViewData, values: dict, result: ViewResult, classification) -> CompareSetup:
        setup = super().comparison(data, values, result, classification)
        setup.words = ("better", "worse")
        return setup


def progress_summary(data: ViewData, values: dict):
    """(target, meta, group, summary, words, series): the target as set, and its progress per period."""
    source = data.series[values["series"]]
    series = source.load()
    indicators = tuple(sorted(series["indicator"].unique()))
    if not values.get("target"):
        raise AtlasError("No preset target fits this series.",
                         f"Open a target file whose indicator is one of {', '.join(indicators)}.")
    target = values["target"] if isinstance(values["target"], Target) else target_from(values["target"], indicators)
    target = _with_group(target, values)
    meta = indicator_meta(target.indicator, tuple(source.meta.get("meta_files", ())))
    codes = sorted(series["code"].unique())
    group = resolve_group(target.group, codes, deciles=deciles_of(data), rule_codes=data.eligible_codes)
    summary, words = measure_progress(series, target, group, meta)
    return target, meta, group, summary, words, series


def _with_group(target: Target, values: dict) -> Target:
    choice = values.get("group", "target")
    group = target.group
    if choice in ("nrf88", "rule"):
        group = choice
    elif choice == "codes" and values.get("group_codes"):
        group = "codes:" + ",".join(values["group_codes"])
    elif choice == "decile":
        lo, _, hi = str(values.get("group_deciles") or "1-1").partition("-")
        group = f"decile:{lo}-{hi or lo}"
    region = values.get("region") or "England"
    return replace(target, group=group, compare="rest" if region == "England" else f"region:{region}")


def _best_layer(data: ViewData, codes: list[str]):
    best, best_overlap = None, -1
    for source in data.boundary_layers.values():
        try:
            gdf, code_col = source.load()
        except AtlasError:  # a file in a data folder that is not a boundary layer is simply not a candidate
            continue
        overlap = len(set(gdf[code_col].astype("string").str.strip().str.upper()) & set(codes))
        if overlap > best_overlap:
            best, best_overlap = (gdf, code_col), overlap
    if best is None or best_overlap == 0:
        raise AtlasError("No boundary layer has the series' area codes.",
                         "Load the matching boundaries (e.g. districts of the series' year) in a data folder.")
    return best


def _progress_map(data: ViewData, series: pd.DataFrame, target: Target, meta, areas: pd.DataFrame, period: str,
                  show: str):
    gdf, code_col = _best_layer(data, sorted(series["code"].unique()))
    at = areas[areas["period"] == period].set_index("code")
    layer = gdf.copy()
    layer["_code"] = layer[code_col].astype("string").str.strip().str.upper()
    for col in ("value", "gap", "status", "in_group", "name", "lower", "upper"):
        layer[f"p_{col}"] = layer["_code"].map(at[col])
    layer["p_status"] = layer["p_status"].fillna("not enough data")
    layer["p_in_group"] = layer["p_in_group"].fillna(False).astype(bool)
    layer["p_status"] = layer["p_status"].where(layer["p_in_group"], "not in the group (part of the rest)")
    layer["p_shown"] = layer["p_value"] * meta.scale
    layer["p_gap_shown"] = layer["p_gap"] * meta.scale
    # The tooltip's gap in the indicator's own units, as the panel and headlines write it ("2.0 points").
    layer["p_gap_text"] = [(("−" if g < 0 else "+" if g > 0 else "") + meta.points(g)) if pd.notna(g) else "no data"
                           for g in layer["p_gap"]]
    name_col = next((c for c in gdf.columns if str(c).lower().endswith(("nm", "name"))), None)
    tips = (("Gap to the rest", "p_gap_text"), ("Status", "p_status"))
    if layer["p_lower"].notna().any():
        layer["p_interval"] = [f"{meta.show(lo)} – {meta.show(hi)}" if pd.notna(lo) and pd.notna(hi) else "–"
                               for lo, hi in zip(layer["p_lower"], layer["p_upper"])]
        tips = (("95% interval", "p_interval"), *tips)
    caveat = meta.rank_caveat
    if show == "status":
        rated = layer["p_status"].where(layer["p_in_group"], "not in group")
        rated = rated.where(~rated.isin(["not enough data", "small numbers — not rated", "suppressed", "baseline"]),
                            "not rated")
        classes = np.array([STATUS_ORDER.index(s) for s in rated])
        counts = [int((classes == k).sum()) for k in range(len(STATUS_ORDER))]
        nan = [float("nan")] * len(STATUS_ORDER)
        classification = Classification(classes, [STATUS_WORDS[s] for s in STATUS_ORDER], nan, nan, counts,
                                        list(STATUS_COLOURS), "categories", 0)
        layer["p_status_label"] = rated
        spec = MapSpec("p_shown", f"{meta.label} ({period})", name_col, code_col, tooltip_columns=tips,
                       title=target.name, subtitle=f"Status of each group area in {period}", caveat=caveat,
                       darker_means="further along")
    elif show == "change since baseline":
        base = areas[areas["period"] == target.baseline].set_index("code")["value"]
        layer["p_change"] = (layer["p_value"] - layer["_code"].map(base)) * meta.scale
        classification = classify_values(layer["p_change"], "quantiles", 5, higher_is_worse=not meta.higher_is_better,
                                         extremes=("improved most", "worsened most"))
        spec = MapSpec("p_change", f"Change in {meta.label.lower()}, {target.baseline}–{period}", name_col, code_col,
                       tooltip_columns=tips, title=f"Change since {target.baseline}", subtitle=f"to {period}",
                       caveat=caveat, darker_means="worsened more", extremes=("improved most", "worsened most"))
    else:
        pooled = areas["value"].dropna() * meta.scale
        breaks = list(np.unique(np.quantile(pooled, [0.2, 0.4, 0.6, 0.8, 1.0])))
        classification = classify_values(layer["p_shown"], "user_defined", breaks=breaks,
                                         higher_is_worse=not meta.higher_is_better, extremes=("best", "worst"))
        spec = MapSpec("p_shown", f"{meta.label} ({period})", name_col, code_col, tooltip_columns=tips,
                       title=f"{meta.label}, {period}", subtitle="Class breaks are the same for every period",
                       caveat=caveat, darker_means="worse", extremes=("best", "worst"))
    return layer, spec, classification


def unit_words(meta) -> str:
    """The unit a progress figure is written in: "percentage points" for a % indicator's gaps, else its unit."""
    return "percentage points" if meta.unit == "%" else (meta.unit.strip() or "points")


def summary_table(summary: pd.DataFrame, target: Target, meta) -> pd.DataFrame:
    """The per-period table as people read it, in the same units as the chart and the headlines: values as
    the indicator shows them ("36.2%"), gaps in points ("2.0 points"), the relative gap as a share."""
    from geo.present import numbers

    def show(v) -> str:
        return meta.show(v) if pd.notna(v) else numbers.NO_DATA

    def gap(v) -> str:
        if pd.isna(v):
            return numbers.NO_DATA
        return ("−" if v < 0 else "") + meta.points(v)

    on_path = "Gap on the target path" if target.kind == "gap_reduction" else "Group value on the target path"
    return pd.DataFrame({
        "Period": summary["period"].astype(str),
        "Group": [show(v) for v in summary["group_value"]],
        str(target.comparison)[:1].upper() + str(target.comparison)[1:]: [show(v) for v in summary["rest_value"]],
        "Gap": [gap(v) for v in summary["gap"]],
        "Gap relative to the rest": [numbers.share(v) for v in summary["relative_gap"]],
        on_path: [(gap(v) if target.kind == "gap_reduction" else show(v)) for v in summary["trajectory"]],
        "Status": summary["status"].astype(str),
        "Method": summary["method"].astype(str),
    })


def trend_frame(summary: pd.DataFrame, target: Target, meta) -> pd.DataFrame:
    """The trend chart's points in long form (period, line, value), in the table's display units (scaled: 36.2
    for 36.2%); only finite values, so a chart never gets an empty or infinite extent."""
    by_period = summary.set_index("period")
    sign = 1 if target.higher_is_better else -1
    # The group value that would put it exactly on the trajectory (gap = sign × (rest − group)).
    path = (by_period["rest_value"] - sign * by_period["trajectory"] if target.kind == "gap_reduction"
            else by_period["trajectory"])
    path = path.where(by_period["status"] != "baseline", by_period["group_value"])
    lines = {"Group": by_period["group_value"], str(target.comparison): by_period["rest_value"], "Target path": path}
    rows = [{"period": str(p), "line": name, "value": float(v) * meta.scale}
            for name, series in lines.items() for p, v in series.items()
            if pd.notna(v) and np.isfinite(float(v))]
    return pd.DataFrame(rows, columns=["period", "line", "value"])
