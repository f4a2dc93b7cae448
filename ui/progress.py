"""The target progress view's own UI: the target control (preset, file or link, with its amount) and its panel.

The view itself (series, group, progress, map) is geo.views.progress.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from geo.errors import AtlasError
from geo.present.export import csv_zip_bytes
from geo.derive.progress import Target, indicator_meta, parse_target, presets
from geo.views.progress import encode_target, series_of, summary_table, target_from, trend_frame, unit_words
from ui import permalink
from ui.common import md, show_error
from ui.params import custom


@custom("progress", "target", encode=encode_target)
def target_control(data, values: dict) -> Target | None:
    """The target from an uploaded file, the link or a preset that fits the series, with its amount or level."""
    series = series_of(data, values)
    indicators = tuple(sorted(series["indicator"].unique()))
    options: dict[str, Target] = {n: t for n, t in presets().items() if t.indicator in indicators}
    upload = st.sidebar.file_uploader("Open a target file (.toml)", type=["toml"], key="target_file")
    if upload is not None:
        try:
            uploaded = parse_target(upload.getvalue().decode("utf-8", errors="replace"), indicators)
            options = {f"From file: {uploaded.name}": uploaded, **options}
        except AtlasError as exc:
            show_error(exc)
    linked = permalink.linked("target")
    if linked is not None and linked not in options:
        try:
            target = target_from(linked, indicators)
            options = {f"From the link: {target.name}": target, **options}
        except AtlasError as exc:
            st.warning(f"{md(exc.message)} {md(exc.hint)}")
    if not options:
        return None
    chosen = options[st.sidebar.selectbox("Target", list(options), key="target_choice")]
    key = chosen.name
    # The box is in the units the panel, headlines and chart use (2.0 percentage points, not 0.02).
    meta = indicator_meta(chosen.indicator, tuple(data.series[values["series"]].meta.get("meta_files", ())))
    scale = meta.scale or 1.0
    if chosen.kind == "gap_reduction":
        shown = st.sidebar.number_input(f"Narrow the gap by ({unit_words(meta)})", value=float(chosen.amount) * scale,
                                        key=f"amount_{key}", step=0.1, format="%.1f")
        return replace(chosen, amount=shown / scale)
    unit = f" ({meta.unit.strip()})" if meta.unit.strip() else ""
    shown = st.sidebar.number_input(f"Level to reach{unit}", value=float(chosen.value) * scale, key=f"value_{key}",
                                    step=0.1, format="%.1f")
    return replace(chosen, value=shown / scale)


@custom("progress", "period")
def period_control(data, values: dict) -> str:
    """The period slider: the series' periods once the target is known (the latest by default)."""
    target = values.get("target")
    if not isinstance(target, Target):
        return ""  # the view says what is wrong when it is built
    series = series_of(data, values)
    periods = [str(p) for p in series.loc[series["indicator"] == target.indicator, "period"].unique()]
    if not periods:
        return ""
    name = data.series[values["series"]].meta.get("name", values["series"])
    key = f"period_{name}"
    if key in st.session_state and st.session_state[key] not in periods:
        del st.session_state[key]
    permalink.seed(key, "period", periods)
    return st.sidebar.select_slider("Period", periods, value=periods[-1], key=key) if len(periods) > 1 else periods[0]


def panel(result) -> None:
    """Progress to the target: headline, latest figures, trend with the trajectory, method, headlines, downloads."""
    x = result.extra
    if "target" not in x:  # no series, or the target could not be followed: the map beside says why
        return
    target, meta, summary, words, areas, group = x["target"], x["meta"], x["summary"], x["words"], x["areas"], x["group"]
    st.subheader("Progress to the target")
    st.markdown(f"**{md(target.name)}**")
    st.info(md(result.headlines[0]))
    if target.description:
        st.caption(md(target.description))
    last = summary.iloc[-1]
    st.markdown(f"- {md(last['period'])}: group **{meta.show(last['group_value'])}**, {md(target.comparison)} "
                f"**{meta.show(last['rest_value'])}**, gap **{meta.points(last['gap'])}** — **{md(last['status'])}**\n"
                f"- Group: {len(group):,} areas; rest: "
                f"{areas['code'].nunique() - len(group):,} areas")
    st.caption(md(words))
    _trend_chart(trend_frame(summary, target, meta), meta)
    st.caption(md(f"Method: {x['method']}."))
    st.dataframe(summary_table(summary, target, meta), hide_index=True)
    st.markdown("**Headlines**")
    for line in result.headlines[1:]:
        st.markdown("• " + md(line))
    shown = result.tables["progress"]
    about = {"source": meta.source or "the loaded indicator series", "release": str(x.get("series_label") or
                                                                                 meta.label), "year": None}
    st.download_button("Download progress (CSV and about.txt, zip)",
                       lambda: csv_zip_bytes(shown, name="progress", title=f"Progress to the target: {target.name}",
                                             notes=(str(words),), **about),
                       "progress.zip", "application/zip", key="progress_csv")
    st.download_button("Save this target (.toml)", target.to_toml().encode(), "target.toml", "application/toml",
                       key="target_toml")


def _trend_chart(points, meta) -> None:
    """The trend: group, comparison and target path, its axis labelled in the table's units; nothing drawn (a
    caption instead) when no period has a value, so Vega never meets an empty or infinite extent."""
    import altair as alt

    if points.empty:
        st.caption("No period of the series has values for the group or the rest: there is no trend to draw.")
        return
    unit = meta.unit.strip()
    title = f"{meta.label} ({unit})" if unit and f"({unit})" not in meta.label else meta.label
    low, high = float(points["value"].min()), float(points["value"].max())
    pad = (high - low) * 0.1 or max(abs(high) * 0.1, 1.0)
    percent = {"labelExpr": "datum.label + '%'"} if unit == "%" else {}  # the axis says % as the table does
    axis = alt.Axis(title=title, format=",.1f", **percent)
    chart = alt.Chart(points).mark_line(point=True).encode(
        x=alt.X("period:O", title="Period", sort=list(dict.fromkeys(points["period"]))),
        y=alt.Y("value:Q", axis=axis, scale=alt.Scale(domain=[low - pad, high + pad], nice=False)),
        color=alt.Color("line:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("line:N", title="Line"), alt.Tooltip("period:O", title="Period"),
                 alt.Tooltip("value:Q", title=title, format=",.1f")],
    ).properties(height=320)
    st.altair_chart(chart, width="stretch")
