"""Compare areas: 2–4 districts (or LSOAs) side by side, from any map type. The logic is geo.present.compare;
this wires the picker, the small maps, the difference table and the spine chart (with its text table)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st
from streamlit_folium import st_folium

from geo.present.classify import Classification
from geo.present.compare import (
    AREA_LETTERS,
    MAX_AREAS,
    MIN_AREAS,
    KeepScale,
    Measure,
    area_extents,
    area_rows,
    compare_areas,
    display_table,
    spine_svg,
    spine_table,
    subset_classification,
    summary_measures,  # noqa: F401 — re-exported for callers of ui.compare
    with_summaries,  # noqa: F401
)
from geo.errors import AtlasError
from geo.present.mapping import MapSpec, build_choropleth
from ui import permalink
from ui.common import md, show_error

KEY, AREAS = "compare_on", "compare_areas"


def toggle() -> bool:
    """Sidebar switch between the single map and the comparison (in the link as compare=1)."""
    permalink.seed(KEY, "compare", [True], {"1": True, "on": True, "true": True})
    return st.sidebar.toggle("Compare areas (side by side)", key=KEY,
                             help="Two to four areas: small maps on the same class breaks, a difference table and a "
                                  "spine chart against England.")


def remembered() -> dict:
    """The comparison's part of the link."""
    on = bool(st.session_state.get(KEY))
    return {"compare": "1" if on else None, "areas": (st.session_state.get(AREAS) or None) if on else None}


def compare_view(layer, spec: MapSpec, classification: Classification, measures: list[Measure], unit: str,
                 pick_from=None, attribution: str = "", note: str = "",
                 words: tuple[str, str] = ("less deprived", "more deprived"), heading: str = "") -> None:
    """Draw the comparison. `layer` is the whole (national) layer `classification` was computed on;
    the picker offers the areas of `pick_from` (default: all of `layer`)."""
    pick_from = layer if pick_from is None else pick_from
    code_col, name_col = spec.code_column, spec.name_column
    codes = pick_from[code_col].astype("string").str.strip().str.upper()
    names = pick_from[name_col].astype("string") if name_col else codes
    lookup = dict(zip(codes, names))
    options = sorted(lookup, key=lambda c: (str(lookup[c]), c))
    permalink.seed(AREAS, "areas", options, many=True)
    if len(st.session_state.get(AREAS) or []) > MAX_AREAS:
        extra = st.session_state[AREAS][MAX_AREAS:]
        st.session_state[AREAS] = st.session_state[AREAS][:MAX_AREAS]
        st.info(f"A comparison has at most {MAX_AREAS} areas: {md(', '.join(extra))} left out.")
    chosen = st.multiselect(f"Areas to compare ({MIN_AREAS}–{MAX_AREAS} {unit})", options, key=AREAS,
                            max_selections=MAX_AREAS, format_func=lambda c: f"{lookup[c]} ({c})",
                            placeholder="Type a name or code, then Enter")
    if len(chosen) < MIN_AREAS:
        st.info(f"Pick {MIN_AREAS} to {MAX_AREAS} {unit} to compare (type to search; arrow keys and Enter choose).")
        return
    if note:
        st.info(note)
    layer_codes = layer[code_col].astype("string").str.strip().str.upper()
    masks = [area_rows(layer, code_col, c) for c in chosen]
    parts = [layer[m] for m in masks]
    own, largest = area_extents(parts)
    columns = st.columns(len(chosen), gap="small")
    for i, (code, col) in enumerate(zip(chosen, columns)):
        sub = subset_classification(classification, masks[i])
        title = f"{AREA_LETTERS[i]} · {lookup.get(code, code)}"
        part_spec = replace(spec, title=title, subtitle=spec.value_label)
        fmap = build_choropleth(parts[i], part_spec, sub, attribution=attribution)
        fmap.add_child(KeepScale(own[i], largest))
        with col:
            st_folium(fmap, height=380, use_container_width=True, returned_objects=[], key=f"compare_map_{i}")
            shown = sorted({classification.labels[k] for k in sub.classes if k >= 0})
            st.caption(f"**{md(title)}** — on the map: {md('; '.join(shown) or 'no data')}")
    st.caption(f"Every map uses the same {classification.k} classes, computed on all {len(layer):,} {unit} "
               f"({md(spec.value_label)}), so each legend states the same breaks. Views kept in step: each map is "
               "centred on its own area at one common scale, the zoom at which the largest of the compared areas "
               "fits its map; zoom or pan one map and the others follow, each about its own area.")
    if not measures:
        st.info("This map type has no per-area values to compare (it shows categories): the maps above show each "
                "area's category; there is no difference table or spine chart.")
        return
    try:
        comparison = compare_areas(layer, code_col, name_col, chosen, measures, unit, words)
    except AtlasError as exc:
        show_error(exc)
        return
    st.subheader("Difference table" + (f" — {md(heading)}" if heading else ""))
    st.table(display_table(comparison), hide_index=True)
    st.caption(md(comparison.england_note()))
    st.subheader("Against England's range" + (f" — {md(heading)}" if heading else ""))
    # Raw SVG (one line, every text escaped by spine_svg): st.html would strip it, an <img> would hide its text.
    st.markdown(f'<div class="atlas-spine">{spine_svg(comparison)}</div>', unsafe_allow_html=True)
    st.caption("Grey bar: England's range (lightest = all areas, darker = middle half, 25th–75th percentile); "
               "black line: England (median); markers: the areas (letter, shape and colour). The same as text:")
    st.table(spine_table(comparison), hide_index=True)
    if np.isin(layer_codes, chosen).sum() < len(chosen):
        st.caption("Some chosen areas have no rows on this map.")
