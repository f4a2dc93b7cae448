"""Neighbourhood Renewal Atlas — the Streamlit app. Thin: widgets in, geo/ functions, map out."""

from __future__ import annotations

import hashlib
import logging
import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.assets import install_static
from geo.catalogue import load_catalogue
from geo.codes import normalise_codes
from geo.change import CAVEAT, decile_transitions, district_change, lsoa_change
from geo.classify import PALETTES, SCHEMES, classify_values
from geo.errors import AtlasError, CRSProblem
from geo.export import csv_bytes, geojson_bytes
from geo.io import ReadNotes, list_layers, parse_numbers, read_boundaries, read_table
from geo.join import JoinBlockedWithReport, guess_code_column, join_indicators, unmatched_table
from geo.mapping import MapSpec, build_choropleth, map_html
from geo.packs import fetch_release, list_packs, releases
from geo.render import credits, legend_sentences, place_name
from geo.slide import THEMES, render_slide
from geo.vintages import load_lsoa_lookup
from geo.views import (
    DEMO_NOTE,
    district_map_layer,
    district_summaries,
    guess_name_column,
    lsoa_measure_layer,
    lsoas_in_districts,
    mark_illustrative,
    measure_frame,
    numeric_columns,
    prepare_join,
    prepare_table,
)
from ui import compare, permalink, present
from ui.common import View, md, show_error
from ui.eligibility import eligibility_view
from ui.progress import progress_view
from ui.session_file import restored_inputs, session_panel

APP_DIR = Path(__file__).resolve().parent
FOLDERS, UPLOAD = "Files in data folders", "Upload your own"
CHANGE = "Change between releases"
ELIGIBILITY = "Fund eligibility"
PROGRESS = "Target progress"
VIEW_IDS = {"districts": "Districts (England)", "lsoas": "Neighbourhoods (LSOAs)", "change": CHANGE,
            "eligibility": ELIGIBILITY, "progress": PROGRESS}
SERIES_DEMO = APP_DIR / "indicators" / "demo_floor_targets.csv"
RANK_MOVES = ("moved most towards less deprived", "moved most towards rank 1")
BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".parquet")
TABLE_SUFFIXES = (".csv", ".xlsx", ".csv.gz")
GEOMETRY_STORE = APP_DIR / "static" / "geometry"  # prepared map geometry, named by content (geo.coverage)
CURRENT: dict = {}  # this run's inputs, for the save-session panel drawn after the view

st.set_page_config(page_title="Neighbourhood Renewal Atlas", page_icon="🗺️", layout="wide")
install_static(APP_DIR / "static")


# ------------------------------------------------------------------ cached loaders (keyed by content)

@st.cache_data(show_spinner="Reading boundaries…", max_entries=8)
def load_boundaries(data: bytes, name: str, layer: str | None, assume_crs: str | None):
    notes = ReadNotes()
    gdf = read_boundaries(data, name=name, layer=layer, assume_crs=assume_crs, notes=notes)
    return gdf, notes.messages


@st.cache_data(show_spinner="Reading table…", max_entries=8)
def load_table(data: bytes, name: str):
    notes = ReadNotes()
    return read_table(data, name=name, notes=notes), notes.messages


@st.cache_data(max_entries=8)
def layers_of(data: bytes, name: str):
    return list_layers(data, name=name)


@st.cache_data(max_entries=16)
def read_path(path: str, mtime: float) -> bytes:
    return Path(path).read_bytes()


@st.cache_resource(max_entries=4, show_spinner="Joining the table to the boundaries…")
def prepared_join(lsoa: bytes, lsoa_name: str, layer: str | None, crs: str | None, table: bytes, table_name: str,
                  resolve: str, lookup_key: str):
    """Read, recognise and join once per distinct input (and lookup); reruns reuse the result (never mutated)."""
    gdf, _ = load_boundaries(lsoa, lsoa_name, layer, crs)
    frame, _ = load_table(table, table_name)
    ind, joined, report, name_column = prepare_join(gdf, frame, available_lookup(), resolve)
    return ind, joined, report, hashlib.sha1(table).hexdigest(), name_column


def _lookup_path() -> Path | None:
    """The ONS LSOA 2011→2021 lookup of the first built pack that carries one."""
    return next((pack.path("lookup") for pack in list_packs() if "lookup" in pack.manifest), None)


def lookup_key() -> str:
    """Identifies the lookup available now (so joins are redone when a pack with one is built)."""
    path = _lookup_path()
    return f"{path}:{path.stat().st_mtime}" if path else ""


def available_lookup():
    """The lookup itself (cached), else None."""
    path = _lookup_path()
    return lookup_from(str(path), path.stat().st_mtime) if path else None


@st.cache_resource(max_entries=2, show_spinner="Reading the LSOA 2011→2021 lookup…")
def lookup_from(path: str, mtime: float):
    return load_lsoa_lookup(read_table(Path(path)))


@st.cache_resource(max_entries=16, show_spinner="Summarising districts…")
def cached_district_summaries(table_key: str, measure: str, _ind):
    """District summaries of one measure; keyed by the table's content hash (the IndicatorTable is not hashed)."""
    return district_summaries(_ind, measure)


def file_bytes(path: Path) -> bytes:
    try:
        return read_path(str(path), path.stat().st_mtime)
    except OSError as exc:  # moved, deleted or unreadable since it was listed
        raise AtlasError(f"'{path.name}' can no longer be read from {path.parent} ({exc.strerror or exc}).",
                         "The file or its folder was moved or deleted: put it back, or choose other data.") from exc


def data_folders() -> list[Path]:
    """The project's data folders, plus any listed in ATLAS_DATA_DIRS (separated by ':')."""
    extra = [Path(p) for p in os.environ.get("ATLAS_DATA_DIRS", "").split(os.pathsep) if p]
    return [APP_DIR / "boundaries", APP_DIR / "indicators", *extra]


def files_in_folders(suffixes: tuple[str, ...]) -> list[Path]:
    found = []
    for folder in data_folders():
        try:
            found += sorted(p for p in folder.rglob("*") if p.name.lower().endswith(suffixes) and p.is_file())
        except OSError:  # the folder vanished (or is unreadable): it simply offers no files now
            continue
    return found


def get_real_data() -> None:
    """Sidebar: build a real England pack from the official sources (or a mirror of them)."""
    with st.sidebar.expander("Get real England data"):
        names = {f"{r['label']} ({r['national_lsoas']:,} LSOAs)": rid for rid, r in releases().items()}
        release = names[st.selectbox("Release", list(names), key="fetch_release")]
        mirror = st.text_input("Mirror (optional)", key="fetch_mirror",
                               help="Base address of a copy of the official hosts, e.g. an intranet mirror.")
        if st.button("Download and build", key="fetch_go"):
            bar = st.progress(0.0, text="Starting…")
            shown = {"text": ""}

            def progress(stage: str, done: int, total: int | None) -> None:
                fraction = min(done / total, 1.0) if total else 0.0
                text = f"{stage}: " + (f"{fraction:.0%}" if total else f"{done:,} features")
                if text != shown["text"]:  # one update per percent or page, not per chunk
                    shown["text"] = text
                    bar.progress(fraction, text=text)
            try:
                pack = fetch_release(release, mirror=mirror.strip() or None, progress=progress)
            except AtlasError as exc:
                show_error(exc)
            else:
                st.session_state["built_pack"] = pack.label
                st.rerun()  # so the new pack appears under Data
        if "built_pack" in st.session_state:
            st.success(f"Built {st.session_state.pop('built_pack')}: choose it under Data.")


# ------------------------------------------------------------------ choosing the data

def choose_inputs() -> dict | None:
    """Sidebar: where the boundaries and the table come from. Returns bytes+names, or None."""
    damaged: list[AtlasError] = []
    packs = {pack.label: pack for pack in list_packs(problems=damaged)}
    for exc in damaged:
        st.sidebar.warning(f"Not offered: {md(exc.message)} {md(exc.hint)}")
    by_id = {pack.id: label for label, pack in packs.items()} | {"folders": FOLDERS, "upload": UPLOAD}
    permalink.seed("source", "data", [*packs, FOLDERS, UPLOAD], by_id)
    source = st.sidebar.radio("Data", [*packs, FOLDERS, UPLOAD], key="source")
    st.session_state["_data_id"] = {v: k for k, v in by_id.items()}[source]
    get_real_data()
    if source in packs:
        pack = packs[source]
        return {"demo": pack.illustrative, "pack": pack, "attribution": pack.manifest["attribution"],
                **{key: (file_bytes(pack.path(part)), pack.path(part).name)
                   for key, part in (("lsoa", "lsoa"), ("district", "districts"), ("table", "table"))}}
    if source == FOLDERS:
        bfiles, tfiles = files_in_folders(BOUNDARY_SUFFIXES), files_in_folders(TABLE_SUFFIXES)
        label = lambda p: f"{p.parent.name}/{p.name}"  # noqa: E731
        gone = [st.session_state.pop(k) for k, files in (("f_lsoa", bfiles), ("f_district", bfiles), ("f_table", tfiles))
                if isinstance(st.session_state.get(k), Path) and st.session_state[k] not in files]
        if gone:  # never swap in another file silently
            st.warning("No longer in the data folders (moved or deleted?): " + ", ".join(md(label(p)) for p in gone)
                       + ". Choose the files to map in the sidebar.")
        lsoa = st.sidebar.selectbox("Neighbourhood (LSOA) boundaries", bfiles, format_func=label, key="f_lsoa")
        district = st.sidebar.selectbox("District boundaries", [None, *bfiles],
                                        format_func=lambda p: "(none)" if p is None else label(p), key="f_district")
        table = st.sidebar.selectbox("Indicator table", tfiles, format_func=label, key="f_table")
        if lsoa is None or table is None or gone:
            if not gone:
                st.info("No data files found in the data folders.")
            return None
        return {"demo": False, "lsoa": (file_bytes(lsoa), lsoa.name),
                "district": (file_bytes(district), district.name) if district else None,
                "table": (file_bytes(table), table.name)}
    up_b = st.sidebar.file_uploader("Boundaries (GeoJSON, GeoPackage, zipped Shapefile, GeoParquet)",
                                    type=["geojson", "json", "gpkg", "zip", "parquet"], key="u_b")
    up_t = st.sidebar.file_uploader("Indicator table (CSV or XLSX)", type=["csv", "xlsx"], key="u_t")
    up_d = st.sidebar.file_uploader("District boundaries (optional)", type=["geojson", "json", "gpkg", "zip", "parquet"],
                                    key="u_d")
    if not up_b or not up_t:
        if restored := restored_inputs():  # a saved session's files, until new ones are uploaded
            return restored
        st.info("Upload a boundary file and an indicator table to see how well they join.")
        return None
    return {"demo": False, "lsoa": (up_b.getvalue(), up_b.name), "table": (up_t.getvalue(), up_t.name),
            "district": (up_d.getvalue(), up_d.name) if up_d else None}


def read_layer(data: bytes, name: str, key: str):
    """Read one boundary file, asking for a layer or CRS where the file needs one. None on error."""
    layer = None
    try:
        layers = layers_of(data, name)
        if len(layers) > 1:
            layer = st.sidebar.selectbox(f"Layer of {name}", [n for n, _ in layers], key=f"layer_{key}")
        crs = st.session_state.get(f"crs_{key}")
        gdf, messages = load_boundaries(data, name, layer, crs)
        return gdf, messages, layer, crs
    except CRSProblem as exc:
        show_error(exc)
        if "does not say" in exc.message:
            st.selectbox("Coordinate system of this file", [None, "EPSG:27700", "EPSG:4326"], key=f"crs_{key}",
                         format_func=lambda c: "choose…" if c is None else
                         {"EPSG:27700": "British National Grid (EPSG:27700)", "EPSG:4326": "WGS84 lon/lat (EPSG:4326)"}[c])
        return None
    except AtlasError as exc:
        show_error(exc)
        return None


# ------------------------------------------------------------------ report panel

def show_report(report, read_messages: list[str], title: str = "How well it joins", key: str = "j") -> None:
    st.subheader(title)
    st.markdown(
        f"- Areas with data: **{report.matched:,} of {report.boundary_rows:,}** ({report.share_matched:.1%})\n"
        f"- Areas without data: **{len(report.boundaries_without_data):,}**\n"
        f"- Data rows without an area: **{len(report.data_without_boundary):,}** of {report.indicator_rows:,}\n"
        f"- Duplicate codes: **{len(report.duplicates):,}**")
    st.caption(f"Geography: **{md(report.level)}** · Boundaries: **{md(report.vintage)}** · "
               f"Table: **{md(report.indicator_vintage)}** · codes from {md(report.boundary_code)} ↔ "
               f"{md(report.indicator_code)}")
    for msg in read_messages + report.messages:
        st.info(md(msg))
    if report.normalisations:
        with st.expander(f"Code clean-ups ({len(report.normalisations)})"):
            for n in report.normalisations:
                st.markdown("• " + md(n))
    if report.conversion:
        with st.expander("Conversion to the boundaries' codes"):
            for line in report.conversion.get("methods", []):
                st.markdown("• " + md(line))
            missed = [(reason, code) for reason, codes in report.conversion.get("not_converted", {}).items()
                      for code in codes]
            if missed:
                frame = pd.DataFrame(missed, columns=["reason", "code"])
                st.dataframe(frame, hide_index=True, height=180)
                st.download_button("Download codes not converted (CSV)", csv_bytes(frame),
                                   "not_converted.csv", "text/csv", key=f"{key}_notconv")
    dups = [d for d in report.duplicates]
    if dups:
        with st.expander(f"Duplicate codes ({len(dups)})"):
            st.dataframe(pd.DataFrame(dups), hide_index=True)
    unmatched = unmatched_table(report)
    if not unmatched.empty:
        with st.expander(f"Unmatched codes ({len(unmatched):,})"):
            st.dataframe(unmatched, hide_index=True, height=200)
        st.download_button("Download unmatched codes (CSV)", csv_bytes(unmatched),
                           "unmatched_codes.csv", "text/csv", key=f"{key}_unmatched")
    st.download_button("Download join report (JSON)", json.dumps(report.to_dict(), indent=2).encode(),
                       "join_report.json", "application/json", key=f"{key}_report")


# ------------------------------------------------------------------ main

def classification_controls(default_scheme: str, allow_deciles: bool) -> dict:
    options = [s for s in SCHEMES if allow_deciles or s != "national_deciles"]
    # Keyed by the choice offered, so each view starts from its own sensible default.
    permalink.seed(f"scheme_{default_scheme}", "scheme", options)
    permalink.seed("k", "k", range(3, 11), {str(i): i for i in range(3, 11)})
    permalink.seed("palette", "palette", list(PALETTES))
    key = f"scheme_{default_scheme}"
    default = {} if key in st.session_state else {"index": options.index(default_scheme)}  # a link may have set it
    scheme = st.sidebar.selectbox("Classification", options, format_func=lambda s: SCHEMES[s][0], key=key, **default)
    k = st.sidebar.slider("Classes", 3, 10, key="k", **({} if "k" in st.session_state else {"value": 5})) \
        if SCHEMES[scheme][1] else None
    breaks = None
    if scheme == "user_defined":
        text = st.sidebar.text_input("Upper bounds of classes, comma-separated", "10, 20, 30, 40", key="breaks")
        try:
            breaks = [float(b) for b in text.replace(";", ",").split(",") if b.strip()]
        except ValueError:
            st.sidebar.error("Breaks must be numbers separated by commas, e.g. 10, 20, 30.")
            breaks = None
        if not breaks:
            scheme, k = "quantiles", 5
    palette = st.sidebar.selectbox("Colours (colour-blind safe)", list(PALETTES), key="palette")
    return {"scheme": scheme, "k": k or 5, "breaks": breaks, "palette": palette}


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

    try:
        _, table_messages = load_table(*inputs["table"])
    except AtlasError as exc:
        show_error(exc)
        return
    lsoa_read = read_layer(*inputs["lsoa"], key="lsoa")
    if lsoa_read is None:
        return
    _, lsoa_messages, layer_name, crs = lsoa_read

    resolve = st.session_state.get("resolve", "block")
    try:
        ind, joined, report, table_key, name_column = prepared_join(*inputs["lsoa"], layer_name, crs, *inputs["table"],
                                                                    resolve, lookup_key())
    except JoinBlockedWithReport as exc:
        show_error(exc)
        st.dataframe(pd.DataFrame([d for d in exc.report.duplicates if d["kind"] == "conflicting"]), hide_index=True)
        st.radio("Resolve conflicting duplicates", ["block", "first", "last"], key="resolve", horizontal=True,
                 format_func={"block": "Leave blocked", "first": "Keep the first row", "last": "Keep the last row"}.get)
        show_report(exc.report, lsoa_messages + table_messages)
        return
    except AtlasError as exc:
        show_error(exc)
        return

    iod = bool(ind.available_measures())
    district_read = None
    if inputs.get("district") and iod and ind.district_column:
        district_read = read_layer(*inputs["district"], key="district")
    views = (["Districts (England)"] if district_read else []) + ["Neighbourhoods (LSOAs)"]
    if inputs.get("pack") is not None and not inputs["demo"]:
        views = views[::-1]  # a real pack: every LSOA in England is the default national view
    if iod:
        views.append(CHANGE)
    if district_read and iod:
        views.append(ELIGIBILITY)
    views.append(PROGRESS)
    permalink.seed("view", "view", views, VIEW_IDS)
    view = st.sidebar.radio("Map", views, key="view")
    comparing = compare.toggle()

    map_col, side_col = (st.container(), st.container()) if presenting else st.columns([5, 2], gap="medium")
    if iod:
        labels = {m["id"]: m["label"] for m in ind.available_measures()}
        by_label = {label: mid for mid, label in labels.items()}
        permalink.seed("measure", "measure", list(by_label), labels)
        measure = by_label[st.sidebar.selectbox("Measure", list(by_label), key="measure")]
    if view == PROGRESS:
        layers = {"neighbourhood boundaries": (joined, report.boundary_code)}
        if district_read:
            layers["district boundaries"] = (district_read[0], guess_code_column(district_read[0]))
        for path in files_in_folders(BOUNDARY_SUFFIXES):
            if path.stat().st_size < 5_000_000 and path.name not in (inputs["lsoa"][1], (inputs.get("district") or ("", ""))[1]):
                try:
                    gdf, _ = load_boundaries(file_bytes(path), path.name, None, None)
                    layers[f"{path.parent.name}/{path.name}"] = (gdf, guess_code_column(gdf))
                except AtlasError:
                    continue
        series = [SERIES_DEMO] + [p for p in files_in_folders(TABLE_SUFFIXES) if p != SERIES_DEMO]
        imd_decile = ind.column_for("imd", "decile") if iod else None
        deciles = None
        if imd_decile is not None:
            deciles = dict(zip(normalise_codes(ind.frame[ind.code_column])[0], ind.frame[imd_decile.name]))
        shown = progress_view(series, file_bytes, layers, st.session_state.get("eligible_codes"), deciles)
    elif view == ELIGIBILITY:
        districts_gdf = district_read[0]
        code_col = guess_code_column(districts_gdf)
        shown = eligibility_view(ind, districts_gdf, code_col, guess_name_column(districts_gdf), labels)
    elif view == CHANGE:
        shown = change_layer(inputs, ind, joined, name_column, measure, labels[measure])
    elif view.startswith("Districts"):
        shown = district_layer(ind, table_key, measure, labels[measure], district_read[0])
    else:
        shown = lsoa_layer(ind, joined, report, name_column, iod, measure if iod else None,
                           labels[measure] if iod else "")
    if shown is None:
        with side_col:
            show_report(report, lsoa_messages + table_messages)
        return
    layer, spec, higher_is_worse, deciles = shown.layer, shown.spec, shown.higher_is_worse, shown.deciles
    district_report, fixed_classes, panel = shown.report, shown.classification, shown.panel
    allow_deciles = deciles is not None
    illustrative = inputs["demo"] if shown.illustrative is None else shown.illustrative
    if illustrative:
        banner.warning(DEMO_NOTE, icon="ℹ️")
        mark_illustrative(spec)
    else:
        banner.empty()
    basemap = st.sidebar.toggle("Basemap (needs internet)", value=False, key="basemap")
    spec.value_labels = st.sidebar.toggle("Not by colour alone", value=False, key="marks",
                                          help="Values written on the map (up to 300 areas) and a pattern per class "
                                               "on slides.")
    cls = {}
    if fixed_classes is not None:
        classification = fixed_classes
    else:
        cls = classification_controls("national_deciles" if allow_deciles else "quantiles", allow_deciles)
        try:
            classification = classify_values(layer[spec.value_column], cls["scheme"], cls["k"], higher_is_worse,
                                             deciles=deciles, breaks=cls["breaks"], palette=cls["palette"],
                                             extremes=spec.extremes)
        except ValueError as exc:
            st.error(str(exc))
            return
    sentences: list[str] = []
    if comparing:
        compare_areas_view(view, shown, classification, cls, attribution, joined, ind, table_key,
                           measure if iod else None, labels if iod else {})
    else:
        sentences = single_map(layer, spec, classification, attribution, basemap, map_col, view, ind, illustrative)
    with side_col:
        if presenting or comparing:
            pass
        elif panel is not None:
            panel()
        elif district_report is not None:
            tab_d, tab_l = st.tabs(["District join", "Neighbourhood join"])
            with tab_d:
                show_report(district_report, district_read[1], "Districts: summaries to boundaries", key="d")
            with tab_l:
                show_report(report, lsoa_messages + table_messages, "Neighbourhoods: table to boundaries", key="l")
        else:
            show_report(report, lsoa_messages + table_messages)
        if not presenting:
            values = layer.drop(columns=[layer.geometry.name])
            st.download_button("Download mapped values (CSV)", lambda: csv_bytes(values), "atlas_values.csv",
                               "text/csv", on_click="ignore")
            st.download_button("Download mapped areas (GeoJSON)", lambda: geojson_bytes(layer), "atlas_areas.geojson",
                               "application/geo+json", on_click="ignore")
            if not comparing:
                export_buttons(layer, spec, classification, sentences, inputs, attribution, basemap)
    ids = {v: k for k, v in VIEW_IDS.items()}
    permalink.remember(
        data=st.session_state.get("_data_id"), view=ids[view], measure=measure if iod else None,
        show=st.session_state.get("kind") if view == VIEW_IDS["lsoas"] else None,
        summary=next((s["id"] for s in load_catalogue()["summary"] if s["label"] == st.session_state.get("summary")),
                     None) if view == VIEW_IDS["districts"] else None,
        districts=st.session_state.get("districts") if view in (VIEW_IDS["lsoas"], CHANGE) else None,
        scheme=cls.get("scheme"), k=cls.get("k") if cls and SCHEMES[cls["scheme"]][1] else None,
        palette=cls.get("palette"), **compare.remembered(),
        column=st.session_state.get("column") if view == VIEW_IDS["lsoas"] and not iod else None)
    for asked in permalink.notices():
        st.info(f"The link asked for {md(asked)}, which is not available with this data; showing the nearest view.")
    if not presenting:
        permalink.link_control()
    present.story_controls(spec.title or spec.value_label)


def single_map(layer, spec, classification, attribution, basemap, map_col, view: str, ind,
               illustrative: bool) -> list[str]:
    """The one map of the view, its legend as a table and in words (returned, for the slide)."""
    fmap = build_choropleth(layer, spec, classification, attribution=attribution, basemap=basemap,
                            geometry_store=GEOMETRY_STORE)
    with map_col:
        st_folium(fmap, height=640, use_container_width=True, returned_objects=[], key="atlas_map")
        legend = pd.DataFrame({"Class": classification.labels[::-1], "Areas": classification.counts[::-1]})
        st.caption("Legend as a table (darkest first); areas without data: "
                   f"{classification.no_data_count:,}")
        st.dataframe(legend, hide_index=True)
        view_id = {v: k for k, v in VIEW_IDS.items()}[view]
        place = place_name(ind, st.session_state.get("districts") or []) if view_id in ("lsoas", "change") else None
        sentences = legend_sentences(view_id, classification, place, illustrative)
        st.markdown("**The legend in words**\n\n" + "\n".join(f"- {md(s)}" for s in sentences))
    return sentences


def compare_areas_view(view: str, shown: View, classification, cls: dict, attribution: str, joined, ind, table_key,
                       measure: str | None, labels: dict) -> None:
    """Compare areas on the layer of whichever map is chosen (its values, or district summaries behind categories)."""
    layer, spec = shown.layer, shown.spec
    numeric = pd.api.types.is_numeric_dtype(layer[spec.value_column])
    measures = [compare.Measure(spec.value_column, spec.value_label, shown.higher_is_worse)] if numeric else []
    national, pick, unit, note, words = layer, None, "areas", "", spec.extremes
    heading = f"district summaries of {labels[measure]}" if measure is not None and (
        view.startswith("Districts") or view == ELIGIBILITY) else ""
    if view.startswith("Districts"):
        measures, unit, words = compare.summary_measures(layer), "districts", ("less deprived",
                                                                                                 "more deprived")
    elif view == VIEW_IDS["lsoas"]:
        unit, pick = "LSOAs", layer
        if measure is not None:
            national = joined
            classification = classify_values(joined[spec.value_column], cls["scheme"], cls["k"], shown.higher_is_worse,
                                             deciles=joined[shown.deciles.name] if shown.deciles is not None else None,
                                             breaks=cls["breaks"], palette=cls["palette"], extremes=spec.extremes)
            measures = [compare.Measure(c.name, f"{labels[measure]} {k}", c.higher_is_worse)
                        for k in ("score", "rank") if (c := ind.column_for(measure, k)) is not None]
            words = ("less deprived", "more deprived")
    elif view == ELIGIBILITY and measure is not None:
        unit = "districts"
        try:
            national = compare.with_summaries(layer, spec.code_column, cached_district_summaries(table_key, measure, ind))
            measures = compare.summary_measures(national)
            words = ("less deprived", "more deprived")
            note = ("The eligibility map shows categories (eligible or not), not per-area values: the difference table "
                    f"and spine chart compare the district summaries of {md(labels[measure])} behind the rule.")
        except AtlasError as exc:
            show_error(exc)
    elif view == PROGRESS:
        words = ("better", "worse")
    compare.compare_view(national, spec, classification, measures, unit, pick_from=pick, attribution=attribution,
                         note=note, words=words, heading=heading)


def export_buttons(layer, spec, classification, sentences: list[str], inputs: dict, attribution: str,
                   basemap: bool) -> None:
    """Slide (PNG, SVG) and offline HTML downloads of the map on screen; each is built only when clicked."""
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
    offline = lambda: map_html(build_choropleth(layer, spec, classification, attribution=attribution,  # noqa: E731
                                                basemap=basemap, geometry_store=GEOMETRY_STORE)).encode("utf-8")
    st.download_button("Download interactive map (HTML, works offline)", offline, "atlas_map.html", "text/html",
                       on_click="ignore")


def district_layer(ind, table_key: str, measure: str, measure_label: str, districts_gdf):
    """Districts nationally: MHCLG summaries of the chosen measure, joined to district boundaries."""
    from geo.catalogue import summaries

    entries = {s["id"]: s for s in summaries()}
    by_label = {e["label"]: sid for sid, e in entries.items()}
    permalink.seed("summary", "summary", list(by_label), {sid: e["label"] for sid, e in entries.items()})
    summary_id = by_label[st.sidebar.selectbox("District summary", list(by_label), key="summary")]
    try:
        table = cached_district_summaries(table_key, measure, ind)
    except AtlasError as exc:
        show_error(exc)
        return None
    shown = district_map_layer(table, districts_gdf, summary_id, measure_label)
    return View(shown.layer, shown.spec, shown.higher_is_worse, report=shown.report)


@st.cache_resource(max_entries=4, show_spinner="Reading the other release…")
def other_release(data: bytes, name: str):
    """An earlier/later release's table, recognised (keyed by content)."""
    frame, _ = load_table(data, name)
    return prepare_table(frame)


def change_layer(inputs: dict, ind, joined, name_col: str | None, measure: str, measure_label: str):
    """Change of one measure between this release and another: districts (another pack) or LSOAs (a table)."""
    others = {}
    current = inputs.get("pack")
    for pack in list_packs():
        if current is not None and pack.id != current.id and not pack.illustrative and not current.illustrative:
            others[f"District change against {pack.label}"] = pack
    for path in files_in_folders(TABLE_SUFFIXES):
        others[f"LSOA change against {path.parent.name}/{path.name}"] = path
    if not others:
        st.info("To see change, build a second real pack (Get real England data) or put an earlier release's "
                "LSOA table in a data folder (ATLAS_DATA_DIRS).")
        return None
    choice = others[st.sidebar.selectbox("Compare with", list(others), key="compare_with")]
    st.caption(CAVEAT)
    try:
        if isinstance(choice, Path):
            other = other_release(file_bytes(choice), choice.name)
            return lsoa_change_view(ind, other, joined, name_col, measure, measure_label, choice.name)
        return district_change_view(current, choice, ind, measure, measure_label)
    except AtlasError as exc:
        show_error(exc)
        return None


def lsoa_change_view(ind, other, joined, name_col, measure: str, measure_label: str, other_name: str):
    mine, theirs = measure_frame(ind, measure), measure_frame(other, measure)
    if theirs["rank"].isna().all():
        raise AtlasError(f"'{other_name}' has no {measure_label} rank column.", "Choose a table of another IoD release.")
    change = lsoa_change(theirs, mine)
    st.caption(f"{len(change):,} LSOAs in both releases; {len(mine) - len(change):,} only in this one, "
               f"{len(theirs) - len(change):,} only in '{md(other_name)}'.")
    with st.expander("Decile transitions (rows: other release, columns: this one)"):
        st.dataframe(decile_transitions(change))
    layer = joined[[c for c in joined.columns if not str(c).startswith("_") or c == "_code"]]
    layer = layer.merge(change, left_on="_code", right_on="code", how="left")
    layer = gpd.GeoDataFrame(layer, geometry=joined.geometry.name, crs=joined.crs)
    layer = filter_districts(ind, layer)
    if layer is None:
        return None
    spec = MapSpec("rank_change", f"{measure_label}: change in rank", name_col, "_code",
                   tooltip_columns=(("Rank then", "rank_old"), ("Rank now", "rank_new"), ("Decile then", "decile_old"),
                                    ("Decile now", "decile_new"), ("Score change", "score_change")),
                   title=f"{measure_label} — change in national rank", subtitle=f"against {other_name}",
                   caveat=CAVEAT, darker_means="moved towards rank 1 (relatively more deprived)",
                   extremes=RANK_MOVES)
    return View(layer, spec, True)


def district_change_view(current, other, ind, measure: str, measure_label: str):
    older, newer = sorted([current, other], key=lambda p: p.manifest["published"])
    frames = {}
    for pack in (older, newer):
        table = ind if pack.id == current.id else other_release(file_bytes(pack.path("table")), pack.path("table").name)
        frame = measure_frame(table, measure)
        if frame[["score", "rank", "population"]].isna().all().any():
            raise AtlasError(f"{pack.label} lacks {measure_label} scores, ranks or populations.", "Rebuild the pack.")
        frames[pack.id] = frame
    change = district_change(frames[older.id], frames[newer.id], older.manifest["national_lsoas"],
                             newer.manifest["national_lsoas"])
    boundaries, _ = load_boundaries(file_bytes(newer.path("districts")), newer.path("districts").name, None, None)
    spec_code = newer.manifest["layers"]["districts"]["code"]
    joined, report = join_indicators(boundaries, change, spec_code, "district_code")
    spec = MapSpec("average_score_rank_change", f"{measure_label}: change in rank of average score",
                   newer.manifest["layers"]["districts"]["name"], spec_code,
                   tooltip_columns=((f"Rank {older.manifest['short']}", "average_score_rank_old"),
                                    (f"Rank {newer.manifest['short']}", "average_score_rank_new"),
                                    ("Average score change", "average_score_change"),
                                    ("Extent change", "extent_change")),
                   title=f"{measure_label}: {older.manifest['short']} → {newer.manifest['short']}",
                   subtitle=f"on {newer.manifest['district_vintage']} districts", caveat=CAVEAT,
                   darker_means="moved towards rank 1 (relatively more deprived)", extremes=RANK_MOVES)
    return View(joined, spec, True, report=report)


def filter_districts(ind, layer):
    """Sidebar 'Districts to show': the LSOAs of the chosen districts (all of them when none is chosen)."""
    if not ind.district_column or ind.district_column not in layer.columns:
        return layer
    names = layer[[ind.district_column] + ([ind.district_name_column] if ind.district_name_column else [])]
    names = names.dropna().drop_duplicates(ind.district_column)
    lookup = dict(zip(names[ind.district_column], names[ind.district_name_column]
                      if ind.district_name_column else names[ind.district_column]))
    codes = sorted(lookup, key=lambda c: str(lookup[c]))
    permalink.seed("districts", "districts", codes, many=True)
    chosen = st.sidebar.multiselect("Districts to show (empty = all)", codes, key="districts",
                                    format_func=lambda c: f"{lookup[c]} ({c})")
    if chosen:
        return lsoas_in_districts(layer, ind, chosen)
    return layer


def lsoa_layer(ind, joined, report, name_col: str | None, iod: bool, measure: str | None, measure_label: str):
    """LSOAs (optionally only those in chosen districts), with a national measure or any numeric column."""
    layer = filter_districts(ind, joined)
    if layer is None:
        return None
    if iod:
        kinds = [k for k in ("score", "rank", "decile") if ind.column_for(measure, k)]
        permalink.seed("kind", "show", kinds)
        kind = st.sidebar.radio("Show", kinds, horizontal=True, key="kind", format_func=str.title)
        shown = lsoa_measure_layer(ind, layer, report.boundary_code, name_col, measure, measure_label, kind)
        return View(shown.layer, shown.spec, shown.higher_is_worse, shown.deciles)
    candidates = numeric_columns(joined.drop(columns=[joined.geometry.name]),
                                 exclude=(report.boundary_code, report.indicator_code))
    if not candidates:
        st.error("The table has no numeric columns to map.")
        return None
    permalink.seed("column", "column", candidates)
    col = st.sidebar.selectbox("Column to map", candidates, key="column")
    worse = st.sidebar.toggle("Higher values are worse", value=True, key="higher_is_worse")
    layer = layer.copy()
    layer[col], _ = parse_numbers(layer[col])
    spec = MapSpec(col, str(col), name_col, report.boundary_code, title=str(col),
                   subtitle="Darker = " + ("higher" if worse else "lower"), darker_means="worse",
                   extremes=("best", "worst"))
    return View(layer, spec, worse)


try:
    main()
except Exception as exc:  # noqa: BLE001 — the last resort: a message on the projector, the details in the log
    logging.getLogger("atlas").exception("view failed")
    st.error(f"Something went wrong drawing this view ({type(exc).__name__}). The details are in the server log. "
             "Try another view or measure, or reload the page.")
session_panel(CURRENT.get("inputs"))
