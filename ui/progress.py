"""The target progress view's own UI: the target control (preset, file or link, with its amount) and its panel.

The view itself (series, group, progress, map) is geo.views.progress.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from geo.errors import AtlasError
from geo.present.export import csv_bytes
from geo.derive.progress import Target, parse_target, presets
from geo.views.progress import encode_target, series_of, target_from
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
    if chosen.kind == "gap_reduction":
        amount = st.sidebar.number_input("Narrow the gap by", value=float(chosen.amount), key=f"amount_{key}",
                                         format="%.3g")
        return replace(chosen, amount=amount)
    value = st.sidebar.number_input("Level to reach", value=float(chosen.value), key=f"value_{key}", format="%.4g")
    return replace(chosen, value=value)


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
    chart = summary.set_index("period")[["group_value", "rest_value"]] * meta.scale
    by_period = summary.set_index("period")
    sign = 1 if target.higher_is_better else -1
    # The group value that would put it exactly on the trajectory (gap = sign × (rest − group)).
    path = by_period["rest_value"] - sign * by_period["trajectory"] if target.kind == "gap_reduction" \
        else by_period["trajectory"]
    chart["target path"] = path.where(summary.set_index("period")["status"] != "baseline", by_period["group_value"])
    chart["target path"] *= meta.scale
    st.line_chart(chart.rename(columns={"group_value": "group", "rest_value": target.comparison}), height=220)
    st.caption(md(f"Method: {x['method']}."))
    table = summary[["period", "group_value", "rest_value", "gap", "relative_gap", "trajectory", "status", "method"]]
    st.dataframe(table, hide_index=True)
    st.markdown("**Headlines**")
    for line in result.headlines[1:]:
        st.markdown("• " + md(line))
    shown = result.tables["progress"]
    st.download_button("Download progress (CSV)", lambda: csv_bytes(shown), "progress.csv",
                       "text/csv", key="progress_csv")
    st.download_button("Save this target (.toml)", target.to_toml().encode(), "target.toml", "application/toml",
                       key="target_toml")
