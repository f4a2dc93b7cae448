"""Where the data comes from: packs, data folders or uploads, read by cached loaders (keyed by content),
joined once, and handed to the views as one `geo.views.ViewData`."""

from __future__ import annotations

import csv
import hashlib
import os
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.errors import AtlasError, CRSProblem
from geo.load.io import ReadNotes, list_layers, list_sheets, read_boundaries, read_table
from geo.link.join import JoinBlockedWithReport, guess_code_column
from geo.link.layers import district_summaries, prepare_join, prepare_table
from geo.load.packs import ImportReport, fetch_release, import_release, list_packs, releases
from geo.derive.progress import read_series
from geo.link.vintages import load_lsoa_lookup
from geo.views import Source, ViewData
from geo.views.sources import csv_headers, pack_release, release_of, table_release, year_in
from ui import permalink
from ui.common import lazy_expander, md, show_error
from ui.session_file import restored_inputs

APP_DIR = Path(__file__).resolve().parent.parent
FOLDERS, UPLOAD = "Files in data folders", "Upload your own"
SERIES_DEMO = APP_DIR / "indicators" / "demo_floor_targets.csv"
BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".parquet")
TABLE_SUFFIXES = (".csv", ".xlsx", ".csv.gz")


class Content(bytes):
    """A file's bytes that remember their digest (content_key), computed once. The cached readers below are keyed
    by the digest, the bytes passed unhashed: Streamlit hashes a bytes argument in full on every call, and a warm
    rerun of the national map made five such calls over its 4 MB of boundaries and 6 MB table (~60 ms)."""


def content_key(data: bytes) -> str:
    """The digest the cached readers are keyed by: once per Content (a pack's or folder's file, kept by
    read_path), once per call for plain bytes."""
    known = getattr(data, "digest", None)
    if known is None:
        known = hashlib.blake2b(data, digest_size=20).hexdigest()
        if isinstance(data, Content):
            data.digest = known
    return known


@st.cache_data(show_spinner="Reading boundaries…", max_entries=8)
def _load_boundaries(key: str, _data: bytes, name: str, layer: str | None, assume_crs: str | None):
    notes = ReadNotes()
    gdf = read_boundaries(_data, name=name, layer=layer, assume_crs=assume_crs, notes=notes)
    return gdf, notes.messages


def load_boundaries(data: bytes, name: str, layer: str | None, assume_crs: str | None):
    """(the boundaries read, what reading them said); cached by content (a copy each call: callers may change it)."""
    return _load_boundaries(content_key(data), data, name, layer, assume_crs)


@st.cache_data(max_entries=16)
def _boundary_messages(key: str, _data: bytes, name: str, layer: str | None, assume_crs: str | None) -> list[str]:
    return load_boundaries(_data, name, layer, assume_crs)[1]


@st.cache_data(show_spinner="Reading table…", max_entries=8)
def _load_table(key: str, _data: bytes, name: str, sheet: str | None = None):
    notes = ReadNotes()
    return read_table(_data, name=name, sheet=sheet, notes=notes), notes.messages


def load_table(data: bytes, name: str, sheet: str | None = None):
    """(the table read, what reading it said); cached by content."""
    return _load_table(content_key(data), data, name, sheet)


@st.cache_data(max_entries=16)
def _table_messages(key: str, _data: bytes, name: str, sheet: str | None) -> list[str]:
    return load_table(_data, name, sheet)[1]


@st.cache_data(max_entries=8)
def _sheets_of(key: str, _data: bytes, name: str) -> list[str]:
    return list_sheets(_data, name=name)


def sheets_of(data: bytes, name: str) -> list[str]:
    return _sheets_of(content_key(data), data, name)


def choose_sheet(data: bytes, name: str, key: str) -> str | None:
    """The sheet to read of a workbook with several visible ones (asked, never the first by itself), else None."""
    sheets = sheets_of(data, name)
    if len(sheets) > 1:
        return st.sidebar.selectbox(f"Sheet of {name}", sheets, key=f"sheet_{key}",
                                    help="This workbook has several visible sheets: choose the one to map.")
    return None


@st.cache_data(max_entries=8)
def _layers_of(key: str, _data: bytes, name: str):
    return list_layers(_data, name=name)


def layers_of(data: bytes, name: str):
    return _layers_of(content_key(data), data, name)


@st.cache_resource(max_entries=16)
def read_path(path: str, mtime: float) -> Content:
    """A data file's bytes, once per file version; the same object every run (bytes are immutable), so its
    digest is computed once."""
    return Content(Path(path).read_bytes())


@st.cache_resource(max_entries=4, show_spinner="Joining the table to the boundaries…")
def _prepared_join(lsoa_key: str, _lsoa: bytes, lsoa_name: str, layer: str | None, crs: str | None, table_key: str,
                   _table: bytes, table_name: str, resolve: str, lookup_key: str, sheet: str | None = None):
    gdf, _ = load_boundaries(_lsoa, lsoa_name, layer, crs)
    frame, _ = load_table(_table, table_name, sheet)
    ind, joined, report, name_column = prepare_join(gdf, frame, available_lookup(), resolve)
    return ind, joined, report, table_key, name_column  # the table's content key, already made


def prepared_join(lsoa: bytes, lsoa_name: str, layer: str | None, crs: str | None, table: bytes, table_name: str,
                  resolve: str, lookup_key: str, sheet: str | None = None):
    """Read, recognise and join once per distinct input (and lookup); reruns reuse the result (never mutated)."""
    return _prepared_join(content_key(lsoa), lsoa, lsoa_name, layer, crs, content_key(table), table, table_name,
                          resolve, lookup_key, sheet)


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


_ADDRESS = re.compile(r"https?://[^\s<>()\"']+[^\s<>()\"'.,;:!?]")


_COMMAND = re.compile(r"python -m geo [^()`\n]+?(?= \(|`|$)")


def rich(text: str) -> str:
    """Markdown for a message: addresses as plain, working links, numbered steps as a list, the rest literal."""
    def line(text: str) -> str:
        if command := _COMMAND.search(text):
            return f"{line(text[:command.start()])}`{command.group()}`{line(text[command.end():])}"
        out, at = [], 0
        for m in _ADDRESS.finditer(text):
            out += [md(text[at:m.start()]), f"[{md(m.group())}]({m.group()})"]
            at = m.end()
        return "".join(out) + md(text[at:])
    lines = []
    for raw in str(text).split("\n"):
        step = re.match(r"^(\d+)\. (.*)$", raw)
        lines.append(f"{step.group(1)}. {line(step.group(2))}" if step else line(raw) + "\n")
    return "\n".join(lines)


def show_pack_error(exc: AtlasError) -> None:
    st.error(f"**{rich(exc.message)}**\n\n{rich(exc.hint)}")


def get_real_data() -> None:
    """Sidebar: build a real England pack from the official sources (or a mirror), or from files downloaded by hand."""
    box, opened = lazy_expander("Get real England data", "panel_fetch", where=st.sidebar)
    with box:
        if not opened:
            return
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
                show_pack_error(exc)
            else:
                st.session_state["built_pack"] = pack.label
                st.session_state["open_pack"] = pack.label  # open on it (set before the Data radio, next run)
                st.rerun()  # so the new pack appears under Data
        st.markdown("**Build from downloaded files**")
        folder = st.text_input("Folder the files were downloaded to", key="import_folder",
                               help="File 7 and the ONS boundary files, as downloaded: subfolders and zips are "
                                    "searched and files are recognised by their contents. See the README's "
                                    "'Real data without internet'.")
        if st.button("Build from this folder", key="import_go", disabled=not folder.strip()):
            report = ImportReport({}, [], [])
            try:
                with st.spinner("Reading the files…"):
                    pack = import_release(release, Path(folder.strip()).expanduser(), report=report)
            except AtlasError as exc:
                show_pack_error(exc)
            else:
                st.session_state["built_pack"] = pack.label
                st.session_state["import_report"] = report.lines()
                st.session_state["open_pack"] = pack.label
                st.rerun()
        if "built_pack" in st.session_state:
            st.success(f"Built {st.session_state.pop('built_pack')}: it is open now (see Data).")
            for line in st.session_state.pop("import_report", []):
                st.caption(md(line))


def newest_real(packs: dict) -> str | None:
    """The label of the newest real pack (by publication date), else None."""
    real = [pack for pack in packs.values() if not pack.illustrative]
    return max(real, key=lambda p: (str(p.manifest.get("published", "")), p.id)).label if real else None


# ------------------------------------------------------------------ choosing the data

def choose_inputs() -> dict | None:
    """Sidebar: where the boundaries and the table come from. Returns bytes+names, or None."""
    damaged: list[AtlasError] = []
    packs = {pack.label: pack for pack in list_packs(problems=damaged)}
    for exc in damaged:
        st.sidebar.warning(f"Not offered: {md(exc.message)} {md(exc.hint)}")
    by_id = {pack.id: label for label, pack in packs.items()} | {"folders": FOLDERS, "upload": UPLOAD}
    permalink.seed("source", "data", [*packs, FOLDERS, UPLOAD], by_id)
    if (built := st.session_state.pop("open_pack", None)) in packs:
        st.session_state["source"] = built
    elif "source" not in st.session_state and (newest := newest_real(packs)):
        st.session_state["source"] = newest  # real data when it is installed; the demo stays one click away
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
    return {"demo": False, "lsoa": (Content(up_b.getvalue()), up_b.name),
            "table": (Content(up_t.getvalue()), up_t.name),
            "district": (Content(up_d.getvalue()), up_d.name) if up_d else None}


def read_layer(data: bytes, name: str, key: str, keep: bool = True):
    """Read one boundary file, asking for a layer or CRS where the file needs one: (the layer, or None when not
    `keep` — its copy is not made on every run only to be dropped —, what reading said, layer name, CRS).
    None on error."""
    layer = None
    try:
        layers = layers_of(data, name)
        if len(layers) > 1:
            layer = st.sidebar.selectbox(f"Layer of {name}", [n for n, _ in layers], key=f"layer_{key}")
        crs = st.session_state.get(f"crs_{key}")
        if not keep:
            return None, _boundary_messages(content_key(data), data, name, layer, crs), layer, crs
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


@st.cache_resource(max_entries=4, show_spinner="Reading the other release…")
def _other_release(key: str, _data: bytes, name: str):
    frame, _ = load_table(_data, name)
    return prepare_table(frame)


def other_release(data: bytes, name: str):
    """An earlier/later release's table, recognised (keyed by content)."""
    return _other_release(content_key(data), data, name)


@st.cache_data(max_entries=8, show_spinner="Reading the series…")
def _series_table(key: str, _data: bytes, name: str):
    return read_series(read_table(_data, name=name))


def series_table(data: bytes, name: str):
    return _series_table(content_key(data), data, name)


@st.cache_data(max_entries=256, show_spinner=False)
def _headers_of(path: str, mtime: float) -> list[str] | None:
    """A data-folder table's header row, read once per file version (every run lists the folders)."""
    return csv_headers(Path(path))


def _table_headers(path: Path) -> list[str] | None:
    try:
        return _headers_of(str(path), path.stat().st_mtime)
    except OSError:
        return None


def _others(inputs: dict) -> dict[str, Source]:
    """The other IoD releases change can compare with: other real packs, and tables in the data folders whose
    headers are an IoD release's (read cheaply), never the release already loaded."""
    out: dict[str, Source] = {}
    current = inputs.get("pack")
    current_year = year_in(current.manifest.get("published")) if current is not None else None
    for pack in list_packs():
        if current is not None and pack.id != current.id and not pack.illustrative and not current.illustrative:
            table, districts = pack.path("table"), pack.path("districts")
            out[f"pack:{pack.id}"] = pack_release(
                pack, lambda t=table: other_release(file_bytes(t), t.name),
                lambda d=districts: load_boundaries(file_bytes(d), d.name, None, None)[0])
    if current is not None and current.illustrative:
        return out  # the demo's made-up areas are in no real release
    mine = (inputs.get("table") or ("", ""))[1]
    if current_year is None and inputs.get("table") and not mine.lower().endswith((".gz", ".xlsx")):
        first = inputs["table"][0][:65536].decode("utf-8-sig", errors="replace").splitlines()[:1]
        known = release_of(next(csv.reader(first), [])) if first else None
        current_year = known[1] if known else None
    for path in files_in_folders(TABLE_SUFFIXES):
        if path.name == mine:
            continue
        source = table_release(path, lambda p=path: other_release(file_bytes(p), p.name), _table_headers(path))
        if source is None or (source.meta["year"] is not None and source.meta["year"] == current_year):
            continue  # not a ranked IoD release, or another file of the release already loaded
        out[f"file:{path.parent.name}/{path.name}"] = source
    return out


def _looks_like_series(path: Path) -> bool:
    """A table in a data folder that reads as a series: long (period, value) or one column per year (≥ 3 years),
    and not an IoD LSOA release (whose "LSOA code (2011)" headers carry a year too). Workbooks are offered."""
    if path.name.lower().endswith(".xlsx"):
        return True
    headers = _table_headers(path)
    if not headers:
        return False
    lower = {str(h).strip().lower() for h in headers}
    if {"period", "value"} <= lower:
        return True
    if release_of(headers) is not None:
        return False
    return len({year_in(h) for h in lower} - {None}) >= 3


def _series() -> dict[str, Source]:
    """Indicator series: the demo's, and every table in the data folders that reads as one."""
    paths = [SERIES_DEMO] + [p for p in files_in_folders(TABLE_SUFFIXES) if p != SERIES_DEMO and _looks_like_series(p)]
    demo = lambda p: p.name == "demo_floor_targets.csv" and p.parent.name == "indicators"  # noqa: E731
    return {f"{p.parent.name}/{p.name}": Source(f"{p.parent.name}/{p.name}",
                                                lambda p=p: series_table(file_bytes(p), p.name), "series", demo(p),
                                                meta={"name": p.name, "meta_files": (p.with_suffix(".toml"),)})
            for p in paths}


def _boundary_layers(inputs: dict, joined, report, districts) -> dict[str, Source]:
    """Boundary layers a series can be drawn on: the neighbourhoods, the districts, small files in the data folders."""
    layers = {"neighbourhood boundaries": Source("neighbourhood boundaries", lambda: (joined, report.boundary_code))}
    if districts is not None:
        layers["district boundaries"] = Source("district boundaries", lambda: (districts, guess_code_column(districts)))
    skip = (inputs["lsoa"][1], (inputs.get("district") or ("", ""))[1])
    for path in files_in_folders(BOUNDARY_SUFFIXES):
        if path.stat().st_size < 5_000_000 and path.name not in skip:
            def load(p=path):
                gdf, _ = load_boundaries(file_bytes(p), p.name, None, None)
                return gdf, guess_code_column(gdf)
            layers[f"{path.parent.name}/{path.name}"] = Source(f"{path.parent.name}/{path.name}", load)
    return layers


def view_data(inputs: dict, ind, joined, report, name_column, table_key: str, district_read) -> ViewData:
    """Everything the views are built from, for this run."""
    districts = district_read[0] if district_read else None
    return ViewData(ind, joined, report, name_column, districts, inputs.get("pack"), bool(inputs["demo"]),
                    others=_others(inputs) if ind is not None and ind.available_measures() else {},
                    series=_series(), boundary_layers=_boundary_layers(inputs, joined, report, districts),
                    eligible_codes=st.session_state.get("eligible_codes"),
                    summaries=lambda measure: cached_district_summaries(table_key, measure, ind))


def load_view_data(inputs: dict) -> tuple[ViewData, list[str], object] | None:
    """Read and join the chosen data (asking about layers, CRS or conflicting duplicates where needed).

    Returns (ViewData, the read notes, the district layer read or None), or None after saying what is wrong.
    """
    from ui.report import show_report

    try:
        sheet = choose_sheet(*inputs["table"], key="table")
        table_messages = _table_messages(content_key(inputs["table"][0]), *inputs["table"], sheet)
    except AtlasError as exc:
        show_error(exc)
        return None
    lsoa_read = read_layer(*inputs["lsoa"], key="lsoa", keep=False)  # the join below reads it (cached)
    if lsoa_read is None:
        return None
    _, lsoa_messages, layer_name, crs = lsoa_read
    messages = lsoa_messages + table_messages
    resolve = st.session_state.get("resolve", "block")
    try:
        ind, joined, report, table_key, name_column = prepared_join(*inputs["lsoa"], layer_name, crs, *inputs["table"],
                                                                    resolve, lookup_key(), sheet)
    except JoinBlockedWithReport as exc:
        show_error(exc)
        st.dataframe(pd.DataFrame([d for d in exc.report.duplicates if d["kind"] == "conflicting"]), hide_index=True)
        st.radio("Resolve conflicting duplicates", ["block", "first", "last"], key="resolve", horizontal=True,
                 format_func={"block": "Leave blocked", "first": "Keep the first row", "last": "Keep the last row"}.get)
        show_report(exc.report, messages)
        return None
    except AtlasError as exc:
        show_error(exc)
        return None
    district_read = None
    if inputs.get("district") and ind.available_measures() and ind.district_column:
        district_read = read_layer(*inputs["district"], key="district")
    return view_data(inputs, ind, joined, report, name_column, table_key, district_read), messages, district_read
