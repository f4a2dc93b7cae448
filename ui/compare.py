"""Compare areas: 2–4 districts (or LSOAs) side by side, from any map type. The logic is geo.present.compare;
this wires the picker, the small maps, the difference table and the spine chart (with its text table)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st
from streamlit_folium import st_folium

from geo.present.classify import Classification
from geo.present.compare import (
    AREA_LETTERS,
    MAX_AREAS,
    MIN_AREAS,
    KeepScale,
    Measure,
    SmallMaps,
    area_extents,
    area_rows,
    compare_areas,
    display_table,
    district_lsoa_layers,
    shared_legend_html,
    spine_svg,
    spine_table,
    subset_classification,
    summary_measures,  # noqa: F401 — re-exported for callers of ui.compare
    with_summaries,  # noqa: F401
)
from geo.errors import AtlasError
from geo.present.mapping import MapSpec, build_choropleth
from ui import permalink, present
from ui.common import md, show_error

KEY, AREAS = "compare_on", "compare_areas"
PER_ROW = 2  # small maps per row: 2 areas side by side, 3–4 in two rows (readable at 1366 px wide)
SMALL_MAP_HEIGHT = 400


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
                 words: tuple[str, str] = ("less deprived", "more deprived"), heading: str = "",
                 small_maps: SmallMaps | None = None) -> bool:
    """Draw the picker and, once 2–4 areas are chosen, the comparison: True when it drew the comparison,
    False when it drew only the picker and a hint (the caller then draws the single map below).

    `layer` is the whole (national) layer `classification` was computed on; the picker offers the areas of
    `pick_from` (default: all of `layer`). With `small_maps`, each compared district is drawn as its own LSOAs
    by their national decile."""
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
        st.caption(f"Pick {MIN_AREAS} to {MAX_AREAS} {unit} to compare (type to search; arrow keys and Enter "
                   "choose). Meanwhile, the map below.")
        return False
    if note:
        st.info(note)
    how = _small_maps(layer, spec, classification, unit, chosen, lookup, attribution, small_maps)
    if not present.presenting():
        st.caption(how)
    if not measures:
        with present.details("How the maps are drawn"):
            if present.presenting():
                st.caption(how)
            st.info("This map type has no per-area values to compare (it shows categories): the maps above show "
                    "each area's category; there is no difference table or spine chart.")
        return True
    try:
        comparison = compare_areas(layer, code_col, name_col, chosen, measures, unit, words)
    except AtlasError as exc:
        show_error(exc)
        return True
    table = display_table(comparison)
    key = [m.label for m in measures if m.column == spec.value_column] or [measures[0].label]
    if present.presenting():  # a step fits the screen: the mapped measure's rows here, the rest behind a toggle
        st.table(table.loc[table["Measure"].isin(key), ["Measure", "Area", "Value", "National rank"]], hide_index=True)
    with present.details("How the maps are drawn, the other measures, England's range and the spine chart"):
        if present.presenting():
            st.caption(how)
        st.subheader("Difference table" + (f" — {md(heading)}" if heading else ""))
        st.table(table, hide_index=True)
        st.caption(md(comparison.england_note()))
        st.subheader("Against England's range" + (f" — {md(heading)}" if heading else ""))
        # Raw SVG (one line, every text escaped by spine_svg): st.html would strip it, an <img> would hide its text.
        st.markdown(f'<div class="atlas-spine">{spine_svg(comparison)}</div>', unsafe_allow_html=True)
        st.caption("Grey bar: England's range (lightest = all areas, darker = middle half, 25th–75th percentile); "
                   "black line: England (median); markers: the areas (letter, shape and colour), stacked where they "
                   "would overlap. The same as text:")
        st.table(spine_table(comparison), hide_index=True)
    return True


def _small_maps(layer, spec: MapSpec, classification: Classification, unit: str, chosen: list[str], lookup: dict,
                attribution: str, small_maps: SmallMaps | None) -> str:
    """One bare small map per area (its name above it), two to a row, and one legend for all of them; returns
    the words on how they are drawn (shown under them, or in a presenter's details)."""
    parts = district_lsoa_layers(small_maps, chosen) if small_maps is not None else []
    by_lsoas = bool(parts) and all(len(gdf) for gdf, _ in parts)
    if by_lsoas:
        part_spec, classes, shown_unit = small_maps.spec, small_maps.classification, "LSOAs"
        legend_title = small_maps.legend_title
    else:
        masks = [area_rows(layer, spec.code_column, c) for c in chosen]
        parts = [(layer[m], subset_classification(classification, m)) for m in masks]
        part_spec, classes, shown_unit, legend_title = spec, classification, unit, spec.value_label
    counts = [sum(int((sub.classes == k).sum()) for _, sub in parts) for k in range(len(classes.labels))]
    presenting = present.presenting()
    st.markdown(shared_legend_html(classes, legend_title, counts, shown_unit, show_counts=not presenting),
                unsafe_allow_html=True)
    bare = replace(part_spec, title="", subtitle="", chrome="bare", focus=None, large_text=presenting)
    own, largest = area_extents([gdf for gdf, _ in parts])
    for row in range(0, len(chosen), PER_ROW):
        columns = st.columns(PER_ROW, gap="small")
        for i in range(row, min(row + PER_ROW, len(chosen))):
            code, (gdf, sub) = chosen[i], parts[i]
            fmap = build_choropleth(gdf, bare, sub, attribution=attribution)
            fmap.add_child(KeepScale(own[i], largest))
            with columns[i - row]:
                size = f" — {len(gdf):,} LSOAs" if by_lsoas else ""
                st.markdown(f"**{md(AREA_LETTERS[i])} · {md(lookup.get(code, code))}** ({md(code)}){md(size)}")
                st_folium(fmap, height=SMALL_MAP_HEIGHT, use_container_width=True, returned_objects=[],
                          key=f"compare_map_{i}")
    if by_lsoas:
        return (f"Each district is drawn as its own LSOAs, coloured by their national decile ({md(legend_title)}): "
                "decile 1 = the most deprived 10% of England's LSOAs. Views kept in step: each map is centred on "
                "its own district at one common scale, the zoom at which the largest of them fits its map.")
    note = (" (the LSOAs of these districts are not in the data, so each is one area)"
            if small_maps is not None else "")
    return (f"Every map uses the same {classes.k} classes, computed on all {len(layer):,} {unit} "
            f"({md(spec.value_label)}){note}. Views kept in step: each map is centred on its own area at one "
            "common scale, the zoom at which the largest of the compared areas fits its map.")
