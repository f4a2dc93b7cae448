"""The target progress view: a series, a target (preset, file or link), the group against the rest, a
progress map with each area's status, a trend chart with the trajectory, and generated headlines.
The logic is geo.progress; this only wires widgets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from geo.classify import Classification, classify_values
from geo.errors import AtlasError
from geo.export import csv_bytes
from geo.mapping import MapSpec
from geo.progress import (
    Target,
    area_progress,
    group_headline,
    headline,
    indicator_meta,
    measure_progress,
    method_in_words,
    parse_target,
    presets,
    read_series,
    resolve_group,
)
from ui.common import View, md, show_error
from ui.permalink import pack_text, unpack_text

STATUS_ORDER = ["not in group", "not rated", "off track", "on track", "achieved"]
STATUS_COLOURS = ["#f7f7f7", "#bdbdbd", "#f28e2b", "#74a9cf", "#08306b"]


def _target_toml(t: Target) -> str:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"name = {q(t.name)}", f"indicator = {q(t.indicator)}", f"group = {q(t.group)}",
             f"baseline = {q(t.baseline)}", f"by = {q(t.by)}", f"kind = {q(t.kind)}",
             f"higher_is_better = {'true' if t.higher_is_better else 'false'}"]
    lines.append(f"amount = {t.amount:g}" if t.kind == "gap_reduction" else f"value = {t.value:g}")
    if t.description:
        lines.append(f"description = {q(t.description)}")
    return "\n".join(lines) + "\n"


def encode_target(t: Target) -> str:
    return pack_text(_target_toml(t))


def _decode_target(text: str, indicators: tuple[str, ...]) -> Target:
    return parse_target(unpack_text(text, "target"), indicators)


def _choose_target(indicators: tuple[str, ...]) -> Target | None:
    options: dict[str, Target] = {n: t for n, t in presets().items() if t.indicator in indicators}
    upload = st.sidebar.file_uploader("Open a target file (.toml)", type=["toml"], key="target_file")
    if upload is not None:
        try:
            uploaded = parse_target(upload.getvalue().decode("utf-8", errors="replace"), indicators)
            options = {f"From file: {uploaded.name}": uploaded, **options}
        except AtlasError as exc:
            show_error(exc)
    if "target" in st.query_params:
        try:
            linked = _decode_target(st.query_params["target"], indicators)
            options = {f"From the link: {linked.name}": linked, **options}
        except AtlasError as exc:
            st.warning(f"{md(exc.message)} {md(exc.hint)}")
    if not options:
        st.info("No preset target fits this series: open a target file whose indicator is one of "
                f"{md(', '.join(indicators))}.")
        return None
    chosen = options[st.sidebar.selectbox("Target", list(options), key="target_choice")]
    key = chosen.name
    if chosen.kind == "gap_reduction":
        amount = st.sidebar.number_input("Narrow the gap by", value=float(chosen.amount), key=f"amount_{key}",
                                         format="%.3g")
        chosen = replace(chosen, amount=amount)
    else:
        value = st.sidebar.number_input("Level to reach", value=float(chosen.value), key=f"value_{key}", format="%.4g")
        chosen = replace(chosen, value=value)
    return chosen


@st.cache_data(max_entries=8, show_spinner="Reading the series…")
def _series(data: bytes, name: str) -> pd.DataFrame:
    from geo.io import read_table

    return read_series(read_table(data, name=name))


def _choose_group(target: Target, series: pd.DataFrame, deciles: dict[str, float] | None) -> Target:
    """Sidebar: keep the target's group or pick another one (NRF 88, eligibility result, hand-picked, decile band)."""
    options = {"As the target says": target.group, "The 88 NRF authorities of 2001": "nrf88",
               "Eligible under the last fund rule": "rule", "Hand-picked areas": "codes:"}
    if deciles:
        options["A band of IMD deciles (LSOAs)"] = "decile:"
    choice = options[st.sidebar.selectbox("Target group", list(options), key="group_choice")]
    if choice == "codes:":
        names = series.drop_duplicates("code").set_index("code")["name"].fillna("").to_dict()
        picked = st.sidebar.multiselect("Areas in the group", sorted(names), key="group_codes",
                                        format_func=lambda c: f"{names[c]} ({c})" if names[c] else c)
        choice = "codes:" + ",".join(picked) if picked else target.group
    elif choice == "decile:":
        lo, hi = st.sidebar.slider("IMD deciles (1 = most deprived 10%)", 1, 10, (1, 1), key="group_deciles")
        choice = f"decile:{lo}-{hi}"
    compare = "rest"
    if "region" in series.columns and series["region"].notna().any():
        regions = ["England"] + sorted(series["region"].dropna().unique())
        region = st.sidebar.selectbox("Compare with the rest of", regions, key="compare_region")
        compare = "rest" if region == "England" else f"region:{region}"
    return replace(target, group=choice, compare=compare)


def progress_view(series_files: list[Path], file_bytes, boundary_layers: dict[str, object],
                  eligible_codes: list[str] | None, deciles: dict[str, float] | None = None) -> View | None:
    """Choose a series and target; map each area's status for a period; panel with trend and headlines."""
    if not series_files:
        st.info("No indicator series found: the demo pack ships one (indicators/demo_floor_targets.csv); put others "
                "in a data folder (ATLAS_DATA_DIRS).")
        return None
    labels = {f"{p.parent.name}/{p.name}": p for p in series_files}
    path = labels[st.sidebar.selectbox("Series", list(labels), key="series_choice")]
    try:
        series = _series(file_bytes(path), path.name)
    except AtlasError as exc:
        show_error(exc)
        return None
    for note in series.attrs.get("notes", []):
        st.info(md(note))
    indicators = tuple(sorted(series["indicator"].unique()))
    target = _choose_target(indicators)
    if target is None:
        return None
    target = _choose_group(target, series, deciles)
    meta = indicator_meta(target.indicator, (path.with_suffix(".toml"),))
    codes = sorted(series["code"].unique())
    try:
        group = resolve_group(target.group, codes, deciles=deciles, rule_codes=eligible_codes)
        summary, words = measure_progress(series, target, group, meta)
    except AtlasError as exc:
        show_error(exc)
        return None
    st.query_params["target"] = encode_target(target)
    areas = area_progress(series, target, group, summary)
    periods = list(summary["period"])
    period = st.sidebar.select_slider("Period", periods, value=periods[-1], key=f"period_{path.name}")
    show = st.sidebar.radio("Map", ["status", "value (breaks locked across periods)", "change since baseline"],
                            key="progress_map")

    # The boundary layer whose codes cover the series best.
    best, best_overlap = None, -1
    for name, (gdf, code_col) in boundary_layers.items():
        overlap = len(set(gdf[code_col].astype("string").str.strip().str.upper()) & set(codes))
        if overlap > best_overlap:
            best, best_overlap = name, overlap
    if best is None or best_overlap == 0:
        st.info("No boundary layer has the series' area codes: load the matching boundaries (e.g. districts of the "
                "series' year) in a data folder.")
        return None
    gdf, code_col = boundary_layers[best]
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
    name_col = next((c for c in gdf.columns if str(c).lower().endswith(("nm", "name"))), None)
    tips = (("Gap to the rest", "p_gap_shown"), ("Status", "p_status"))
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
        classification = Classification(classes, list(STATUS_ORDER), nan, nan, counts, list(STATUS_COLOURS),
                                         "categories", 0)
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

    def panel() -> None:
        _panel(target, meta, summary, words, areas, group, period)

    demo = path.name == "demo_floor_targets.csv" and path.parent.name == "indicators"
    return View(layer, spec, not meta.higher_is_better, classification=classification, panel=panel, illustrative=demo)


def _panel(target: Target, meta, summary: pd.DataFrame, words: str, areas: pd.DataFrame, group: set[str],
           period: str) -> None:
    st.subheader("Progress to the target")
    st.markdown(f"**{md(target.name)}**")
    st.info(md(group_headline(target, meta, summary, "The group")))
    if target.description:
        st.caption(md(target.description))
    last = summary.iloc[-1]
    st.markdown(f"- {md(last['period'])}: group **{meta.show(last['group_value'])}**, {md(target.comparison)} "
                f"**{meta.show(last['rest_value'])}**, gap **{meta.points(last['gap'])}** — **{md(last['status'])}**\n"
                f"- Group: {len(group):,} areas; rest: "
                f"{areas['code'].nunique() - len(group):,} areas")
    st.caption(md(words))
    chart = summary.set_index("period")[["group_value", "rest_value"]] * meta.scale
    by_period = summary.set_index("period")
    sign = 1 if target.higher_is_better else -1
    # The group value that would put it exactly on the trajectory (gap = sign × (rest − group)).
    path = by_period["rest_value"] - sign * by_period["trajectory"] if target.kind == "gap_reduction" \
        else by_period["trajectory"]
    chart["target path"] = path.where(summary.set_index("period")["status"] != "baseline", by_period["group_value"])
    chart["target path"] *= meta.scale
    st.line_chart(chart.rename(columns={"group_value": "group", "rest_value": target.comparison}), height=220)
    st.caption(md(f"Method: {method_in_words(summary)}."))
    table = summary[["period", "group_value", "rest_value", "gap", "relative_gap", "trajectory", "status", "method"]]
    st.dataframe(table, hide_index=True)
    st.markdown("**Headlines**")
    for code in sorted(group)[:6]:
        rows = areas[areas["code"] == code]
        if not rows.empty:
            st.markdown("• " + md(headline(str(rows["name"].iloc[0]), target, meta, rows)))
    shown = areas[["code", "name", "period", "value", "in_group", "group_value", "rest_value", "gap", "status"]]
    st.download_button("Download progress (CSV)", lambda: csv_bytes(shown), "progress.csv",
                       "text/csv", key="progress_csv")
    st.download_button("Save this target (.toml)", _target_toml(target).encode(), "target.toml", "application/toml",
                       key="target_toml")
