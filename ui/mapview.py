"""Showing a built view: the map (rendered once, panning never reruns), its legend as a table and in words,
the comparison, the panel beside it, downloads and exports."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.present.budget import fit_to_budget
from geo.present.export import csv_zip_bytes, geojson_bytes
from geo.present.mapping import STATIC_GEOMETRY, build_choropleth, map_html, map_parts, prepare_map, store_base
from geo.present.render import credits
from geo.present.slide import THEMES, render_slide
from geo.settings import setting
from geo.views.sources import provenance
from ui import compare
from ui.atlas_map import atlas_map
from ui.common import lazy_expander, md
from ui.data import APP_DIR
from ui.layout import MAP_BOX

GEOMETRY_STORE = APP_DIR / "static" / "geometry"  # prepared map geometry, named by content (geo.present.coverage)
MAP_FRAMES = ("live", "folium")


def single_map(result, classification, attribution: str, basemap: bool) -> None:
    """The one map of the view, filling the page's width and the viewport's height (ui.layout); its title,
    legend and the legend in words (`spec.legend_words`) are on the map."""
    layer, size_notes = fit_to_budget(result.layer, what="the map")  # small maps stay under 1.5 MB
    for note in size_notes:
        st.caption(md(note.message))
    prepared = prepare_map(layer, result.spec, GEOMETRY_STORE)  # the one step that writes (by content)
    if map_frame() == "live":  # one frame kept across reruns: built from the base once, restyled each run
        parts = map_parts(layer, result.spec, classification, attribution=attribution, basemap=basemap,
                          prepared=prepared)
        base = store_base(parts.base, GEOMETRY_STORE)  # by content: the same layer is the same URL
        with st.container(key=MAP_BOX):
            coarse = [d["url"] for d in parts.base.get("details", [])[:1] if "url" in d]
            atlas_map(f"{STATIC_GEOMETRY}/{base}", parts.style, height=640, key="atlas_live_map",
                      prefetch=tuple(coarse))
        return
    fmap = build_choropleth(layer, result.spec, classification, attribution=attribution, basemap=basemap,
                            prepared=prepared)
    with st.container(key=MAP_BOX):
        st_folium(fmap, height=640, use_container_width=True, returned_objects=[], key="atlas_map")


def map_frame() -> str:
    """'live' (ui/atlas_map) or 'folium' (the old path): $ATLAS_MAP_FRAME, else the `map_frame` setting."""
    chosen = os.environ.get("ATLAS_MAP_FRAME", str(setting("map_frame"))).strip().lower()
    if chosen not in MAP_FRAMES:
        raise ValueError(f"Unknown map frame {chosen!r}; one of {', '.join(MAP_FRAMES)}.")
    return chosen


def legend_table(classification, sentences=()) -> None:
    """The legend as a table (darkest first) and in words, for reading and copying (the map has both too)."""
    box, opened = lazy_expander("Legend as a table and in words", "panel_legend")  # one label: it stays open
    with box:
        if not opened:
            return
        st.caption(f"{classification.k} classes; areas without data: {classification.no_data_count:,}.")
        legend = pd.DataFrame({"Class": classification.labels[::-1], "Areas": classification.counts[::-1]})
        st.table(legend, hide_index=True)  # plain text to read and copy; no data grid fetched on a first load
        if sentences:
            st.markdown("**The legend in words**\n\n" + "\n".join(f"- {md(s)}" for s in sentences))


def compare_view(view, data, values: dict, result, classification, attribution: str) -> bool:
    """Compare areas on the view's layer (or the summaries behind its categories), as the view says."""
    setup = view.comparison(data, values, result, classification)
    return compare.compare_view(setup.national, result.spec, setup.classification, setup.measures, setup.unit,
                                pick_from=setup.pick_from, attribution=attribution, note=setup.note,
                                words=setup.words, heading=setup.heading, small_maps=setup.small_maps)


def downloads(result, classification, sentences: list[str], inputs: dict, attribution: str, basemap: bool,
              comparing: bool, data=None) -> None:
    """The mapped values (a zip of the CSV and its about.txt) and areas, a slide and the offline map."""
    layer, spec = result.layer, result.spec
    values = layer.drop(columns=[layer.geometry.name])
    about = provenance(data) if data is not None else {"source": "the loaded files", "release": "", "year": None}
    title = spec.title or spec.value_label
    st.download_button("Download mapped values (CSV + about.txt, zip)",
                       lambda: csv_zip_bytes(values, name="atlas_values", title=f"Mapped values: {title}", **about,
                                             notes=tuple(sentences)),
                       "atlas_values.zip", "application/zip", on_click="ignore")
    st.download_button("Download mapped areas (GeoJSON)", lambda: geojson_bytes(layer), "atlas_areas.geojson",
                       "application/geo+json", on_click="ignore")
    if comparing:
        return
    source, release, _ = credits(inputs.get("pack"), inputs["table"][1])
    callout = st.text_input("Callout for the slide (optional)", key="slide_callout", max_chars=300)
    theme = st.radio("Slide theme", list(THEMES), horizontal=True, key="slide_theme", format_func=str.title)

    def slide(fmt: str):
        return lambda: render_slide(layer, spec, classification, callout=callout, source=source, release=release,
                                    attribution=attribution, fmt=fmt, theme=theme, sentences=sentences,
                                    marks="hatch" if spec.value_labels else "none")
    st.download_button("Download slide (PNG)", slide("png"), "atlas_slide.png", "image/png", on_click="ignore")
    st.download_button("Download slide (SVG)", slide("svg"), "atlas_slide.svg", "image/svg+xml", on_click="ignore")
    # A map of its own: folium adds a map's scripts again each time it is rendered, and st_folium rendered fmap.
    def offline() -> bytes:  # reads the prepared files and inlines them: no temporary folder
        small, _ = fit_to_budget(layer, what="the offline map")  # small maps stay under 1.5 MB
        prepared = prepare_map(small, spec, GEOMETRY_STORE)
        return map_html(build_choropleth(small, spec, classification, attribution=attribution, basemap=basemap,
                                         prepared=prepared)).encode("utf-8")
    st.download_button("Download interactive map (HTML, works offline)", offline, "atlas_map.html", "text/html",
                       on_click="ignore")
