"""The choropleth as a value: a folium Map built from a classified layer, plus a self-contained HTML export.

Every string that came from a user file (area names, codes, column headers, values, titles) is
escaped by `escape_text` before it reaches folium: HTML-escaped, and the characters that
template engines act on (`{ } $` and backtick) replaced by character references, so a name like
`{{7*7}}` or `<script>` displays literally and nothing in it is run on the server or in the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo.load.assets import atlas_text, leaflet_text
from geo.memo import Memo
from geo.present.classify import Classification
from geo.present.coverage import PreparedGeometry, prepare_geometry
from geo.present.export import write_atomic
from geo.present.numbers import fmt as fmt_number
from geo.present.numbers import kind_of
from geo.present.outlines import LABEL_ZOOM, QUANTUM, district_outlines
from geo.settings import setting

STATIC_LEAFLET = "/app/static/vendor/leaflet"
STATIC_GEOMETRY = "/app/static/geometry"
_TEMPLATE_CHARS = {"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;"}
_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
MAX_VALUE_LABELS = 300  # more labels than this cover each other and the map


def escape_text(value: object) -> str:
    """Make any value safe to show as HTML inside a folium/branca template."""
    text = html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value),
                       quote=True)
    for char, ref in _TEMPLATE_CHARS.items():
        text = text.replace(char, ref)
    return text


def _script_json(obj: object) -> str:
    """JSON that can sit inside a <script> element without closing it."""
    return _script_text(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


def _script_text(text: str) -> str:
    """JSON text made safe inside a <script> element: < > & and the two JavaScript line separators escaped (they
    occur only inside JSON strings, where the escapes mean the same characters)."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def format_value(value: object, kind: str | None = None, *, per_head: bool = False) -> str:
    """A number as a person reads it ('29,199', '35.037', '−2.500'); text unchanged; missing as 'no data'.

    With a `kind` (geo.present.numbers: rank, share, score, money, …) it is written in that kind's style
    ("10,263", "36.2%", "£12.3m"), as the map's tooltips are; without one, whole numbers as counts and others
    as scores. atlas-map.js's `fmt` writes the same."""
    from geo.present import numbers  # the one number style

    if kind is not None and kind != "text":
        return fmt_number(value, kind, per_head=per_head)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or isinstance(value, str):
        return numbers.NO_DATA if value is None or value is pd.NA else str(value)
    if not np.isfinite(float(value)):
        return numbers.NO_DATA
    return numbers.fmt(value, "count" if float(value).is_integer() else "score")


@dataclass
class MapSpec:
    """What to draw: which columns name the areas, which value is mapped, and the words around it."""

    value_column: str
    value_label: str
    name_column: str | None
    code_column: str
    tooltip_columns: tuple[tuple[str, str], ...] = ()  # (label, column) shown after the value
    title: str = ""
    subtitle: str = ""
    caveat: str = ""
    darker_means: str = "more deprived"
    extremes: tuple[str, str] = ("least deprived", "most deprived")  # words for the lightest and darkest class
    value_labels: bool = False  # write each area's value on it (up to MAX_VALUE_LABELS areas): not by colour alone
    district_column: str | None = None       # the district code of each area (LSOA maps): search finds districts
    district_name_column: str | None = None  # … and its name
    focus: str | None = None    # an area's (or district's) code to zoom to and outline when the map opens
    chrome: str = "full"        # "full" | "bare": bare = no legend, title, search box (a comparison's small maps)
    large_text: bool = False    # presenter mode: every text on the map at least 20 px
    legend_words: tuple[str, ...] = ()  # the legend in words, shown on the map ("In words" in the legend)
    place: str = ""             # the searched or filtered place, named in the title ("Income — score · Hartlepool")


CHROMES = ("full", "bare")


def field_kind(column: str, label: str = "") -> str | None:
    """How a tooltip field's numbers are written: a geo.present.numbers kind, "money-head" (£ per head), or None
    (not known: whole numbers whole, others to three decimals) for a value whose words name no kind: a score
    is written at the IoD's three decimals only when it is called a score."""
    kind = kind_of(str(column), str(label))
    if kind == "score" and "score" not in f"{column} {label}".lower():
        return None
    if kind == "money" and "per head" in f"{column} {label}".lower().replace("_", " "):
        return "money-head"
    return kind


def _format_field(value: object, kind: str | None) -> str:
    return format_value(value, "money", per_head=True) if kind == "money-head" else format_value(value, kind)


def area_level(codes: pd.Series) -> str:
    """"LSOA", "district" or "" (unknown): the level of a layer's areas, from their GSS code prefixes."""
    text = codes.astype("string").str.strip().str.upper().str[:3]
    if text.isin(["E01", "W01"]).mean() > 0.5:
        return "LSOA"
    if text.isin(["E06", "E07", "E08", "E09", "W06"]).mean() > 0.5:
        return "district"
    return ""


def class_string(classes) -> str:
    """Each area's class as one character ('-': no data, '0' + k: class k), vectorised (33k areas in ~0.3 ms)."""
    k = np.asarray(classes, dtype=np.int64)
    if len(k) and k.max() > 78:  # beyond 'z'… never for a choropleth; written one by one like the rest
        return "".join("-" if c < 0 else chr(48 + int(c)) for c in k)
    return np.where(k < 0, 45, 48 + k).astype(np.uint8).tobytes().decode("ascii")


_MEMO: Memo[object] = Memo(16)  # what a warm rerun would compute again, by a cheap hash of its inputs


def _column_key(gdf: pd.DataFrame, columns: list[str]) -> tuple:
    """A cheap content key of some columns (pandas' vectorised row hashes, then one sha1): a few ms on 33k rows,
    where formatting them again costs ~0.1 s per rerun."""
    frame = gdf[[c for c in columns if c in gdf.columns]]
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return (tuple(columns), len(frame), hashlib.sha1(rows.tobytes()).hexdigest())


def _memo(key: tuple, make):
    return _MEMO.get(key, make)


def _districts_meta(gdf: gpd.GeoDataFrame, spec: MapSpec) -> dict | None:
    """The districts of a layer's areas for search: escaped codes and names, and each row's district (-1: none)."""
    col = spec.district_column
    if not col or col not in gdf.columns:
        return None
    name_col = spec.district_name_column if spec.district_name_column in gdf.columns else None
    key = ("districts", name_col) + _column_key(gdf, [col] + ([name_col] if name_col else []))
    return _memo(key, lambda: _districts_meta_of(gdf, spec))


def _districts_meta_of(gdf: gpd.GeoDataFrame, spec: MapSpec) -> dict | None:
    col = spec.district_column
    codes = gdf[col].astype("string").str.strip().str.upper()
    names = (gdf[spec.district_name_column].astype("string")
             if spec.district_name_column and spec.district_name_column in gdf.columns else codes)
    known = codes.notna() & (codes != "")
    order = sorted(set(codes[known]))
    if not order:
        return None
    first = dict(zip(codes[known], names[known]))
    index = {c: i for i, c in enumerate(order)}
    return {"codes": [escape_text(c) for c in order], "names": [escape_text(first[c]) for c in order],
            "of": [index.get(c, -1) if isinstance(c, str) else -1 for c in codes.tolist()]}


def _geometry_json(geoms: gpd.GeoSeries, precision: int) -> list[dict | None]:
    """GeoJSON geometry dicts with coordinates rounded to `precision` decimals."""
    rounded = shapely.set_precision(geoms.values, 10 ** -precision, mode="pointwise")
    out: list[dict | None] = []
    for geom in rounded:
        if geom is None or geom.is_empty:
            out.append(None)
        else:
            out.append(json.loads(shapely.to_geojson(geom)))
    return out


def _features(gdf: gpd.GeoDataFrame, spec: MapSpec, classification: Classification, formatted: list[list[str]],
              precision: int) -> list[dict]:
    """GeoJSON features of a lon/lat layer with escaped name, code, class and tooltip values; rows without
    geometry skipped."""
    geoms = _geometry_json(gdf.geometry, precision)
    names = gdf[spec.name_column] if spec.name_column else gdf[spec.code_column]
    features = []
    for i, geom in enumerate(geoms):
        if geom is None:
            continue
        props = {"n": escape_text(names.iloc[i]), "c": escape_text(gdf[spec.code_column].iloc[i]),
                 "k": int(classification.classes[i]), "t": [f[i] for f in formatted]}
        if spec.district_column:
            props["r"] = i  # the row, for the district of each area (meta.districts.of)
        features.append({"type": "Feature", "geometry": geom, "properties": props})
    return features


def marks_notice(n_areas: int) -> str:
    """What "Not by colour alone" offers on a map too big for value labels (said in the legend, never silent)."""
    return (f"Not by colour alone: values are written on maps of up to {MAX_VALUE_LABELS} areas; this one has "
            f"{n_areas:,}. Hover or search an area for its value and class, choose fewer areas (e.g. districts to "
            "show) for labels, or download the table; slides draw a pattern per class.")


def _legend_html(spec: MapSpec, classification: Classification, notice: str = "") -> str:
    if spec.chrome == "bare":
        return ""  # the page draws one legend for all the small maps
    rows = []
    for cls in range(classification.k - 1, -1, -1):  # most deprived first
        rows.append(
            f'<div class="atlas-legend-row"><span class="atlas-swatch" style="background:{classification.colours[cls]}">'
            f'</span><span class="atlas-range">{escape_text(classification.labels[cls])}</span>'
            f'<span class="atlas-count">{classification.counts[cls]:,}</span></div>'
        )
    rows.append(
        '<div class="atlas-legend-row"><span class="atlas-swatch atlas-nodata"></span>'
        f'<span class="atlas-range">No data</span><span class="atlas-count">{classification.no_data_count:,}</span></div>'
    )
    caveat = f'<div class="atlas-caveat">{escape_text(spec.caveat)}</div>' if spec.caveat else ""
    if notice:
        caveat += f'<div class="atlas-caveat atlas-marks-notice">{escape_text(notice)}</div>'
    words = ""
    if spec.legend_words:  # a native disclosure: keyboard accessible, closed so the legend fits a laptop's map
        words = ('<details class="atlas-words"><summary>In words</summary>'
                 + "".join(f"<p>{escape_text(w)}</p>" for w in spec.legend_words) + "</details>")
    return (f'<div class="atlas-legend-title">{escape_text(spec.value_label)}</div>'
            f'<div class="atlas-legend-head"><span>Darker = {escape_text(spec.darker_means)}</span><span>areas</span></div>'
            + '<div class="atlas-legend-rows">' + "".join(rows) + "</div>" + caveat + words)


# The layers' scripts are one call each into geo/present/js/atlas-map.js (served from static/atlas/, inlined by
# map_html); Jinja fills in only the map's name and the escaped JSON. No other JS or CSS lives in Python.
ATLAS_JS = ("atlas-map.js",)                 # every map
ATLAS_CANVAS_JS = ("atlas-coverage.js",)     # the canvas renderer, for big layers
ATLAS_CSS = ("atlas-map.css",)


def _script(call: str) -> Template:
    return Template("{% macro script(this, kwargs) %}" + call + "{% endmacro %}")


class ChoroplethLayer(MacroElement):
    """A GeoJSON layer styled by precomputed class, with legend, title and search controls."""

    _template = _script("AtlasMap.svg({{ this._parent.get_name() }}, {{ this.meta }}, {{ this.payload }});")

    def __init__(self, payload: dict, meta: dict) -> None:
        super().__init__()
        self._name = "ChoroplethLayer"
        self.payload = _script_json(payload)
        self.meta = _script_json(meta)


class CoverageLayer(MacroElement):
    """Many areas on one canvas (geo/present/js/atlas-coverage.js): geometry by URL (or inlined), classes and values here."""

    _template = _script("AtlasMap.canvas({{ this._parent.get_name() }}, {{ this.meta }}, {{ this.payload }});")

    def __init__(self, prepared: PreparedMap, url_base: str, payload: dict, values: bytes, meta: dict) -> None:
        super().__init__()
        self._name = "CoverageLayer"
        self.prepared, self.url_base, self._payload, self._values = prepared, url_base, payload, values
        self.meta = _script_json(meta)
        self.inline(False)

    @property
    def by_url(self) -> bool:
        """Geometry and values fetched from the app's store (else carried in the page)."""
        return self.prepared.geometry.store is not None and self.prepared.values_file is not None

    def inline(self, inline: bool) -> None:
        """Carry the geometry in the page itself (offline export) or fetch it by URL from the app. Reads only."""
        inline = inline or not self.by_url
        geometry = self.prepared.geometry
        # The inlined values are spliced in as the text they are stored as (made safe for a <script> as
        # _script_json makes it), not parsed and written again; a random token marks the place. The geometry
        # goes in gzipped (atlas-coverage.js inflates it with the browser's DecompressionStream).
        mark = f"@atlas-values-{secrets.token_hex(8)}@"
        values_src = {"data": mark} if inline else {"url": f"{self.url_base}/{self.prepared.values_file}"}
        details = []
        for d in geometry.details:
            src = {"minZoom": d.min_zoom}
            if inline:  # the stored gzip in base64 (1.5 MB for England's LSOAs, where the JSON was 4.1 MB)
                src["gz"] = _inline_b64(geometry, d)
            else:
                src["url"] = f"{self.url_base}/{d.file}"
            details.append(src)
        text = _script_json({**self._payload, "details": details, "values": values_src})
        if inline:
            text = text.replace(json.dumps(mark), _script_text(self._values.decode("utf-8")), 1)
        self.payload = text


def _inline_b64(geometry: PreparedGeometry, detail) -> str:
    """One level of detail for a page that carries it: its stored bytes (gzipped when prepared) in base64,
    made once per process (a page is rendered more than once — build, export; the geometry is named by content)."""
    return _MEMO.get(("gz", geometry.key, detail.file), lambda: base64.b64encode(geometry.read(detail)).decode())


@dataclass(frozen=True)
class PreparedMap:
    """What a canvas map needs beside the page, prepared before it is built: the layer's geometry and
    (in a store) its tooltip values, as content-named files. `values_file` is None when they are not stored."""

    geometry: PreparedGeometry
    values_file: str | None = None


def _compact_values(series: pd.Series, kind: str | None = None) -> list:
    """Tooltip values for the canvas layer: numbers as JSON numbers (the browser formats them by `kind` as
    `format_value` does), missing as null, anything else as escaped text."""
    numeric = pd.to_numeric(series, errors="coerce") if series.dtype == object else series
    if pd.api.types.is_numeric_dtype(numeric) and not pd.api.types.is_bool_dtype(numeric) and (
            series.dtype != object or numeric.notna().sum() == series.notna().sum()):
        arr = np.asarray(numeric, dtype=float)
        out = np.round(arr, 5 if kind == "share" else 3).tolist()  # shares are written to 0.1%
        return [None if not np.isfinite(v) else (int(v) if float(v).is_integer() else v) for v in out]
    return [escape_text(_format_field(v, kind)) for v in series.tolist()]


def _tooltip_values(gdf: gpd.GeoDataFrame, spec: MapSpec) -> tuple[bytes, str]:
    """The canvas layer's tooltip values as JSON bytes, and their content name in a store."""
    fields = [(spec.value_label, spec.value_column)] + list(spec.tooltip_columns)

    def make() -> tuple[bytes, str]:
        data = _script_json([_compact_values(gdf[col], field_kind(col, label)) for label, col in fields]).encode()
        return data, f"v-{hashlib.sha256(data).hexdigest()[:24]}.json"
    key = ("tooltips", tuple(fields)) + _column_key(gdf, [col for _, col in fields])
    return _memo(key, make)


def uses_canvas(gdf: gpd.GeoDataFrame, canvas: bool | None = None) -> bool:
    """Whether the layer is drawn on a canvas (big layers, or asked) rather than as SVG."""
    return len(gdf) >= int(setting("canvas_min_features")) if canvas is None else bool(canvas)


def prepare_map(gdf: gpd.GeoDataFrame, spec: MapSpec, store: Path | None = None,
                canvas: bool | None = None) -> PreparedMap | None:
    """The step before building a map: prepare what a canvas layer needs beside the page.

    With a `store` (the app's static/geometry/), the geometry and the tooltip values are written there
    as content-named files (once: they are found again by content) and the map fetches them by URL;
    with none they are prepared in memory and the page carries them. An SVG layer needs nothing (None).
    """
    if not uses_canvas(gdf, canvas):
        return None
    geometry = prepare_geometry(gdf, spec.code_column, spec.name_column, store, escape=escape_text)
    if store is None:
        return PreparedMap(geometry)
    data, name = _tooltip_values(gdf, spec)
    path = Path(store) / name
    if not path.is_file() or path.stat().st_size != len(data):
        write_atomic(path, data)
    return PreparedMap(geometry, name)


def _coverage_layer(gdf: gpd.GeoDataFrame, spec: MapSpec, classification: Classification, meta: dict,
                    prepared: PreparedMap, url_base: str) -> CoverageLayer:
    values, name = _tooltip_values(gdf, spec)
    if prepared.values_file is not None and prepared.values_file != name:
        prepared = PreparedMap(prepared.geometry)  # prepared for other values: carry these in the page
    classes = class_string(classification.classes)
    payload = {"classes": classes, "colours": classification.colours, "noData": "#ffffff", "opacity": 0.85,
               "fields": meta["fields"], "kinds": meta["kinds"], "weight": 0.5, "outlineZoom": 9, "label": meta["legendText"]}
    return CoverageLayer(prepared, url_base, payload, values, {**meta, "bounds": list(prepared.geometry.bounds)})


def _checked_meta(gdf, spec: MapSpec, classification: Classification, attribution: str, precision: int | None,
                  canvas: bool | None):
    """What build_choropleth and map_parts both start from: the inputs checked, the precision and renderer decided,
    and the map's meta (_map_meta)."""
    if len(classification.classes) != len(gdf):
        raise ValueError("The classification does not match the layer (different number of rows).")
    if spec.chrome not in CHROMES:
        raise ValueError(f"Unknown map chrome {spec.chrome!r}; one of {', '.join(CHROMES)}.")
    precision = int(precision if precision is not None else setting("map_precision"))
    return precision, uses_canvas(gdf, canvas), _map_meta(gdf, spec, classification, attribution)


def _map_meta(gdf: gpd.GeoDataFrame, spec: MapSpec, classification: Classification,
              attribution: str) -> tuple[list[tuple[str, str]], list, dict]:
    """The tooltip fields, their kinds, and the escaped description atlas-map.js draws the chrome from."""
    tooltip_cols = [(spec.value_label, spec.value_column)] + list(spec.tooltip_columns)
    labels = _value_labels(gdf, spec) if spec.value_labels and len(gdf) <= MAX_VALUE_LABELS else []
    notice = marks_notice(len(gdf)) if spec.value_labels and len(gdf) > MAX_VALUE_LABELS else ""
    legend_text = "; ".join(f"{lab}: {n} areas" for lab, n in zip(classification.labels, classification.counts))
    if notice:
        legend_text += ". " + notice
    if spec.legend_words:
        legend_text += ". " + " ".join(spec.legend_words)
    bare = spec.chrome == "bare"
    title = spec.title  # the place is named by the map beside the title (and replaced by a hovered or found one)
    if spec.place and title.endswith(f" · {spec.place}"):
        title = title[: -len(f" · {spec.place}")]
    kinds = [field_kind(col, label) for label, col in tooltip_cols]
    meta = {
        "colours": classification.colours, "noData": "#ffffff",
        "fields": [escape_text(label) for label, _ in tooltip_cols], "kinds": kinds,
        "legend": _legend_html(spec, classification, notice), "legendText": escape_text(legend_text),
        "title": "" if bare else escape_text(title), "subtitle": "" if bare else escape_text(spec.subtitle),
        "place": "" if bare else escape_text(spec.place), "chrome": spec.chrome, "large": bool(spec.large_text),
        **_outlines_meta(gdf, spec), "weight": 0.6 if len(gdf) < 2000 else 0.2,
        "attribution": escape_text(attribution), "labels": labels,
        "level": area_level(gdf[spec.code_column]) if len(gdf) else "",
        "districts": _districts_meta(gdf, spec), "focus": escape_text(spec.focus) if spec.focus else None,
        "bare": spec.chrome == "bare",
    }
    return tooltip_cols, kinds, meta



def build_choropleth(
    gdf: gpd.GeoDataFrame,
    spec: MapSpec,
    classification: Classification,
    attribution: str = "",
    basemap: bool = False,
    asset_base: str = STATIC_LEAFLET,
    precision: int | None = None,
    height: str = "100%",
    prepared: PreparedMap | None = None,
    geometry_url: str = STATIC_GEOMETRY,
    canvas: bool | None = None,
) -> folium.Map:
    """Build the map value: one feature per row of `gdf` (every polygon kept), coloured by class. Writes nothing.

    Small layers are drawn as SVG from GeoJSON in the page. Layers of `canvas_min_features` or more
    (or `canvas=True`) are drawn on a canvas from geometry prepared beforehand by `prepare_map` (into
    the app's store: fetched from `geometry_url`); with none prepared, it is prepared in memory and inlined.
    """
    precision, canvas, (tooltip_cols, kinds, meta) = _checked_meta(gdf, spec, classification, attribution,
                                                                   precision, canvas)
    # The SVG layer is sent in lon/lat: reproject once (the canvas layer's geometry is prepared apart).
    wgs = None if canvas else (gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf)
    if canvas:
        if prepared is None:
            prepared = prepare_map(gdf, spec, None, canvas=True)  # in memory: the page carries it
        layer = _coverage_layer(gdf, spec, classification, meta, prepared, geometry_url)
        minx, miny, maxx, maxy = prepared.geometry.bounds
    else:
        formatted = [[escape_text(_format_field(v, kind)) for v in gdf[col].tolist()]
                     for (_, col), kind in zip(tooltip_cols, kinds)]
        layer = ChoroplethLayer({"type": "FeatureCollection", "features": _features(wgs, spec, classification,
                                                                                    formatted, precision)}, meta)
        minx, miny, maxx, maxy = wgs.total_bounds if len(gdf) else (-6, 49.8, 2, 55.9)
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=7, tiles=None,
                   control_scale=True, height=height, zoom_snap=0.25, fade_animation=False)
    # Leaflet from our own server (or inlined by map_html); nothing else: no CDN, no jQuery/Bootstrap.
    # Our own scripts and styles from static/atlas/ beside it (or from asset_base itself, as the bench serves them).
    own = f"{asset_base.rsplit('/', 2)[0]}/atlas" if asset_base == STATIC_LEAFLET else asset_base
    m.default_js = [("leaflet", f"{asset_base}/leaflet.js")]
    m.default_js += [(f"atlas:{name}", f"{own}/{name}") for name in ATLAS_JS + (ATLAS_CANVAS_JS if canvas else ())]
    m.default_css = [("leaflet_css", f"{asset_base}/leaflet.css")]
    m.default_css += [(f"atlas:{name}", f"{own}/{name}") for name in ATLAS_CSS]
    if basemap:
        folium.TileLayer(_OSM, attr="&copy; OpenStreetMap contributors", name="OpenStreetMap", opacity=0.6).add_to(m)
    m.add_child(layer)
    return m  # the layer's script fits the view to the areas, without animation


def _value_labels(gdf: gpd.GeoDataFrame, spec: MapSpec) -> list:
    """[lat, lon, escaped value] where each area's value is written on it (row order; None without geometry)."""
    wgs = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    points = shapely.point_on_surface(wgs.geometry.values)
    kind = field_kind(spec.value_column, spec.value_label)
    texts = [escape_text(_format_field(v, kind)) for v in gdf[spec.value_column].tolist()]
    return [None if p is None or p.is_empty else [round(p.y, 5), round(p.x, 5), t] for p, t in zip(points, texts)]


def _outlines_meta(gdf: gpd.GeoDataFrame, spec: MapSpec) -> dict:
    """The district borders drawn over an LSOA map, and the districts' names (geo.present.outlines), escaped."""
    found = district_outlines(gdf, spec.code_column, spec.district_column, spec.district_name_column)
    if found is None:
        return {"outlines": None, "districtLabels": [], "labelZoom": LABEL_ZOOM}
    return {"outlines": {"q": QUANTUM, "lines": [list(line) for line in found.lines]},
            "districtLabels": [[lat, lon, escape_text(name)] for lat, lon, name in found.labels],
            "labelZoom": LABEL_ZOOM}



# ------------------------------------------------------------------ the live map (ui/atlas_map)
# The same map as build_choropleth, split in two: the BASE, drawn once (geometry or where to fetch it, district
# outlines and names, the districts for search), written to the store under a content name and fetched by URL;
# and the STYLE, sent on every run and applied to the map already drawn (the class of each area, colours,
# legend, title, tooltip fields and values, value labels, focus). A change of measure, scheme or palette
# changes only the style; another layer (view, district filter) changes the base, and the map is rebuilt.
BASE_KEYS = ("outlines", "districtLabels", "labelZoom", "districts", "level", "chrome", "large", "attribution",
             "weight", "noData", "bare")


@dataclass(frozen=True)
class MapParts:
    """A live map's two halves (see above): `base` for store_base, `style` for every run (plain JSON values)."""

    base: dict
    style: dict


def map_parts(
    gdf: gpd.GeoDataFrame,
    spec: MapSpec,
    classification: Classification,
    attribution: str = "",
    basemap: bool = False,
    precision: int | None = None,
    prepared: PreparedMap | None = None,
    geometry_url: str = STATIC_GEOMETRY,
    canvas: bool | None = None,
) -> MapParts:
    """The map build_choropleth builds, from the same inputs, as (base, style) for atlas-map.js's AtlasMap.live.
    Writes nothing; every user string is escaped as in build_choropleth."""
    precision, canvas, (tooltip_cols, kinds, meta) = _checked_meta(gdf, spec, classification, attribution,
                                                                   precision, canvas)
    classes = class_string(classification.classes)
    base = {key: meta[key] for key in BASE_KEYS}
    base["basemap"] = _OSM if basemap else None  # the tile URL (atlas-map.js names no server of its own)
    style = {key: meta[key] for key in ("colours", "fields", "kinds", "legend", "legendText", "title", "subtitle",
                                         "place", "labels", "focus")}
    style["classes"] = classes
    if canvas:
        if prepared is None:
            prepared = prepare_map(gdf, spec, None, canvas=True)  # in memory: the base and style carry it
        geometry = prepared.geometry
        by_url = geometry.store is not None
        base["details"] = [{"minZoom": d.min_zoom, **({"url": f"{geometry_url}/{d.file}"} if by_url
                                                        else {"gz": _inline_b64(geometry, d)})}
                           for d in geometry.details]
        base.update(kind="canvas", bounds=list(geometry.bounds), opacity=0.85, outlineWeight=0.5, outlineZoom=9)
        if prepared.values_file is not None and by_url:
            style["values"] = {"url": f"{geometry_url}/{prepared.values_file}"}
        else:
            style["values"] = {"data": json.loads(_tooltip_values(gdf, spec)[0])}
    else:
        wgs = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
        geoms = _geometry_json(wgs.geometry, precision)
        names = gdf[spec.name_column] if spec.name_column else gdf[spec.code_column]
        features = [{"type": "Feature", "geometry": geom,
                     "properties": {"n": escape_text(names.iloc[i]), "c": escape_text(gdf[spec.code_column].iloc[i]),
                                    "r": i}}
                    for i, geom in enumerate(geoms) if geom is not None]
        bounds = [float(b) for b in wgs.total_bounds] if len(gdf) else [-6.0, 49.8, 2.0, 55.9]
        base.update(kind="svg", bounds=bounds, geojson={"type": "FeatureCollection", "features": features})
        formatted = [[escape_text(_format_field(v, kind)) for v in gdf[col].tolist()]
                     for (_, col), kind in zip(tooltip_cols, kinds)]
        style["tips"] = [list(row) for row in zip(*formatted)] if formatted and len(gdf) else []
    return MapParts(base, style)


def store_base(base: dict, store: Path) -> str:
    """Write a live map's base into `store` under a content name (once) and return the name."""
    data = _script_json(base).encode()
    name = f"b-{hashlib.sha256(data).hexdigest()[:24]}.json"
    path = Path(store) / name
    if not path.is_file() or path.stat().st_size != len(data):
        Path(store).mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    return name


def _inline_script(text: str) -> str:
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def map_html(m: folium.Map) -> str:
    """The map as one self-contained HTML page: Leaflet and the atlas' scripts and styles inlined, so it
    opens with no internet. Reads the prepared geometry (memory or store); writes nothing."""
    coverage = [c for c in m._children.values() if isinstance(c, CoverageLayer)]
    for layer in coverage:
        layer.inline(True)
    try:
        page = m.get_root().render()
    finally:
        for layer in coverage:
            layer.inline(False)
    swaps = []
    for name, url in m.default_js:
        text = leaflet_text("leaflet.js") if name == "leaflet" else atlas_text(name.split(":", 1)[1])
        swaps.append((f'<script src="{url}"></script>', _inline_script(text)))
    for name, url in m.default_css:
        text = leaflet_text("leaflet.css") if name == "leaflet_css" else atlas_text(name.split(":", 1)[1])
        swaps.append((f'<link rel="stylesheet" href="{url}"/>', f"<style>{text}</style>"))
    for tag, inline in swaps:
        if tag not in page:
            raise RuntimeError(f"Could not find {tag} to inline in folium's page.")
        page = page.replace(tag, inline)
    return page
