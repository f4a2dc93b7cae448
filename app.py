"""Neighbourhood Renewal Atlas — the Streamlit app, a router: choose the data, draw the chosen view's parameters,
build the view (geo.views, pure), render its map, legend, panel and downloads."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from geo.load.assets import install_static
from geo.catalogue import load_catalogue
from geo.errors import AtlasError
from geo.link.layers import mark_illustrative
from geo.present.render import credits
from geo.views import COMMON_PARAMS, available_views, classify_result, legend_sentences
from ui import compare, eligibility, layout, permalink, present, profile, progress
from ui.common import keep_lazy_values, lazy_expander, md, show_error, warm_classifiers
from ui.data import choose_inputs, load_view_data
from ui.mapview import compare_view, downloads, legend_table, single_map
from ui.params import draw_params, link_values
from ui.postcode import area_values, find_postcode, focus_on
from ui.report import show_report
from ui.session_file import session_panel

APP_DIR = Path(__file__).resolve().parent
# views with a panel of their own (under the map)
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


def data_label(inputs: dict) -> str:
    """What the header says of the data on screen: the release (a pack), else the table's file."""
    _, release, _ = credits(inputs.get("pack"), inputs["table"][1] if inputs.get("table") else "")
    return release


def main() -> None:
    keep_lazy_values()
    presenting = present.begin()  # may open a story's step, so before the link is read
    permalink.start_run()
    layout.page_style()
    head = st.empty()
    notices = st.container()
    try:
        inputs = CURRENT["inputs"] = choose_inputs()
    except AtlasError as exc:
        show_error(exc)
        return
    if inputs is None:
        if not presenting:
            layout.header("", False)
        return
    attribution = inputs.get("attribution") or load_catalogue()["defaults"]["attribution"]
    loaded = load_view_data(inputs)
    if loaded is None:
        return
    data, messages, district_read = loaded
    view = choose_view(data)
    comparing = compare.toggle()
    try:
        values = draw_params(view, data)
        result = view.build(data, values)
        classification = classify_result(result, values)
    except AtlasError as exc:
        if not presenting:
            with head:
                layout.header(data_label(inputs), inputs["demo"])
        show_error(exc)
        data_panel(view, None, data, messages, district_read)
        return
    if "eligible_codes" in result.extra:
        st.session_state["eligible_codes"] = result.extra["eligible_codes"]  # a target group can be this result
    illustrative = data.illustrative if result.illustrative is None else result.illustrative
    if illustrative:
        mark_illustrative(result.spec)
    if not presenting:
        with head:
            layout.header(data_label(inputs), illustrative)
    for warning in result.warnings:  # above the map: what the user must know before reading it
        st.warning(md(warning))
    for problem in result.problems:
        show_error(problem)
    found = find_postcode(data.pack, values=lambda code: area_values(result, code))
    if found:  # the map opens zoomed to the postcode's LSOA (or its district on a districts map), outlined
        result.spec.focus = st.session_state["map_focus"] = focus_on(result, data, found)
    basemap = st.sidebar.toggle("Basemap (needs internet)", value=False, key="basemap")
    result.spec.value_labels = st.sidebar.toggle("Not by colour alone", value=False, key="marks",
                                                 help="Values written on the map (up to 300 areas) and a pattern per "
                                                      "class on slides.")
    result.spec.large_text = presenting
    sentences = legend_sentences(result, classification)
    result.spec.legend_words = tuple(sentences)
    if not (comparing and compare_view(view, data, values, result, classification, attribution) is not False):
        single_map(result, classification, attribution, basemap)
    below(view, result, classification, data, messages, district_read, presenting, comparing)
    if not presenting:
        box, opened = lazy_expander("Downloads: the mapped values, the areas, a slide and the offline map",
                                    "panel_downloads")
        with box:
            if opened:
                downloads(result, classification, sentences, inputs, attribution, basemap, comparing, data)
    linked = link_values(view, data, values)
    stale = {name: None for name in permalink.written() if name not in linked and name not in COMMON_PARAMS}
    permalink.remember(data=st.session_state.get("_data_id"), view=view.id, **{**stale, **linked},
                       **compare.remembered())
    with notices:  # the link's notices at the top, where they are seen (found only now, after the link is written)
        for asked in permalink.notices():
            st.info(f"The link asked for {md(asked)}, which is not available with this data; showing the nearest view.")
    if not presenting:
        permalink.link_control()
    present.story_controls(result.spec.title or result.spec.value_label)


def below(view, result, classification, data, messages: list[str], district_read, presenting: bool,
          comparing: bool) -> None:
    """Under the map: the view's notes and panel (or the legend as a table), then how the data joined."""
    with present.details("Notes on this map"):  # behind a toggle in presenter mode: the step fits the screen
        for note in result.notes:
            st.info(md(note))
        for caveat in result.caveats[:1]:
            st.caption(md(caveat))
    if presenting:
        return
    if not comparing:
        legend_table(classification, result.spec.legend_words)
        if view.id in PANELS:
            PANELS[view.id](result)
    if "transitions" in result.extra:
        box, opened = lazy_expander("Decile transitions (rows: other release, columns: this one)", "panel_transitions")
        with box:
            if opened:
                st.dataframe(result.extra["transitions"])
    data_panel(view, result, data, messages, district_read)


def data_panel(view, result, data, messages: list[str], district_read) -> None:
    """"Data and how it joined": collapsed unless the join needs the user (see ui.layout.join_needs_user)."""
    district = result.report if result is not None else None
    reports = [r for r in (district, data.report) if r is not None]
    box, opened = lazy_expander(layout.join_summary(reports), "panel_data",
                                expanded=any(layout.join_needs_user(r) for r in reports))
    with box:
        if not opened:
            return
        if district is not None:
            tab_d, tab_l = st.tabs(["District join", "Neighbourhood join"])
            with tab_d:
                show_report(district, district_read[1] if district_read else [], "Districts: summaries to boundaries",
                            key="d")
            with tab_l:
                show_report(data.report, messages, "Neighbourhoods: table to boundaries", key="l")
        else:
            show_report(data.report, messages)


try:
    main()
except Exception as exc:  # noqa: BLE001 — the last resort: a message on the projector, the details in the log
    logging.getLogger("atlas").exception("view failed")
    st.error(f"Something went wrong drawing this view ({type(exc).__name__}). The details are in the server log. "
             "Try another view or measure, or reload the page.")
session_panel(CURRENT.get("inputs"))
warm_classifiers()
