"""Neighbourhood Renewal Atlas — the Streamlit app, a router: choose the data, draw the chosen view's parameters,
build the view (geo.views, pure), render its map, legend, panel and downloads."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from geo.load.assets import install_static
from geo.catalogue import load_catalogue
from geo.errors import AtlasError
from geo.link.layers import DEMO_NOTE, mark_illustrative
from geo.views import COMMON_PARAMS, available_views, classify_result
from ui import compare, eligibility, permalink, present, profile, progress
from ui.common import md, show_error
from ui.data import choose_inputs, load_view_data
from ui.mapview import compare_view, downloads, single_map
from ui.params import draw_params, link_values
from ui.postcode import area_values, find_postcode, focus_on
from ui.report import show_report
from ui.session_file import session_panel

APP_DIR = Path(__file__).resolve().parent
# views with a panel of their own
PANELS = {"eligibility": eligibility.panel, "progress": progress.panel, "profile": profile.panel}
CURRENT: dict = {}  # this run's inputs, for the save-session panel drawn after the view

st.set_page_config(page_title="Neighbourhood Renewal Atlas", page_icon="🗺️", layout="wide")
install_static(APP_DIR / "static")


def choose_view(data) -> object:
    """The 'Map' radio: the views this data can show, the default first."""
    views = available_views(data)
    by_label = {v.label: v for v in views}
    permalink.seed("view", "view", list(by_label), {v.id: v.label for v in views})
    return by_label[st.sidebar.radio("Map", list(by_label), key="view")]


def main() -> None:
    presenting = present.begin()  # may open a story's step, so before the link is read
    permalink.start_run()
    if not presenting:
        st.title("Neighbourhood Renewal Atlas")
    try:
        inputs = CURRENT["inputs"] = choose_inputs()
    except AtlasError as exc:
        show_error(exc)
        return
    if inputs is None:
        return
    banner = st.empty()
    if inputs["demo"]:
        banner.warning(DEMO_NOTE, icon="ℹ️")
    attribution = inputs.get("attribution") or load_catalogue()["defaults"]["attribution"]
    loaded = load_view_data(inputs)
    if loaded is None:
        return
    data, messages, district_read = loaded
    view = choose_view(data)
    comparing = compare.toggle()
    map_col, side_col = (st.container(), st.container()) if presenting else st.columns([5, 2], gap="medium")
    try:
        values = draw_params(view, data)
        result = view.build(data, values)
        classification = classify_result(result, values)
    except AtlasError as exc:
        show_error(exc)
        with side_col:
            show_report(data.report, messages)
        return
    if "eligible_codes" in result.extra:
        st.session_state["eligible_codes"] = result.extra["eligible_codes"]  # a target group can be this result
    for note in result.notes:
        st.info(md(note))
    for warning in result.warnings:
        st.warning(md(warning))
    for problem in result.problems:
        show_error(problem)
    for caveat in result.caveats[:1]:
        st.caption(md(caveat))
    illustrative = data.illustrative if result.illustrative is None else result.illustrative
    if illustrative:
        banner.warning(DEMO_NOTE, icon="ℹ️")
        mark_illustrative(result.spec)
    else:
        banner.empty()
    found = find_postcode(data.pack, values=lambda code: area_values(result, code))
    if found:  # the map opens zoomed to the postcode's LSOA (or its district on a districts map), outlined
        result.spec.focus = st.session_state["map_focus"] = focus_on(result, data, found)
    basemap = st.sidebar.toggle("Basemap (needs internet)", value=False, key="basemap")
    result.spec.value_labels = st.sidebar.toggle("Not by colour alone", value=False, key="marks",
                                                 help="Values written on the map (up to 300 areas) and a pattern per "
                                                      "class on slides.")
    sentences: list[str] = []
    if comparing:
        compare_view(view, data, values, result, classification, attribution)
    else:
        with map_col:
            sentences = single_map(result, classification, attribution, basemap)
    with side_col:
        if not (presenting or comparing):
            side_panel(view, result, data, messages, district_read)
        if not presenting:
            downloads(result, classification, sentences, inputs, attribution, basemap, comparing)
    linked = link_values(view, data, values)
    stale = {name: None for name in permalink.written() if name not in linked and name not in COMMON_PARAMS}
    permalink.remember(data=st.session_state.get("_data_id"), view=view.id, **{**stale, **linked},
                       **compare.remembered())
    for asked in permalink.notices():
        st.info(f"The link asked for {md(asked)}, which is not available with this data; showing the nearest view.")
    if not presenting:
        permalink.link_control()
    present.story_controls(result.spec.title or result.spec.value_label)


def side_panel(view, result, data, messages: list[str], district_read) -> None:
    """The view's own panel, else the join report(s) behind the map."""
    if view.id in PANELS:
        PANELS[view.id](result)
    elif result.report is not None:
        tab_d, tab_l = st.tabs(["District join", "Neighbourhood join"])
        with tab_d:
            show_report(result.report, district_read[1] if district_read else [], "Districts: summaries to boundaries",
                        key="d")
        with tab_l:
            show_report(data.report, messages, "Neighbourhoods: table to boundaries", key="l")
    else:
        show_report(data.report, messages)
    if "transitions" in result.extra:
        with st.expander("Decile transitions (rows: other release, columns: this one)"):
            st.dataframe(result.extra["transitions"])


try:
    main()
except Exception as exc:  # noqa: BLE001 — the last resort: a message on the projector, the details in the log
    logging.getLogger("atlas").exception("view failed")
    st.error(f"Something went wrong drawing this view ({type(exc).__name__}). The details are in the server log. "
             "Try another view or measure, or reload the page.")
session_panel(CURRENT.get("inputs"))
