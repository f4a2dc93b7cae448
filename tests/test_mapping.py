"""The map as HTML: offline assets only, our legend, and hostile strings shown literally."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from streamlit_folium import _get_map_string

from geo.present.classify import classify_values
from geo.present.mapping import MapSpec, build_choropleth, escape_text, format_value, map_html
from tests import cases

HOSTILE = ["{{7*7}}", "{% raw %}x{% endraw %}<script>alert(1)</script>", "${alert(1)}`x`", "</script><b>x</b>"]


def hostile_map(**kw):
    gdf = cases.squares(4, names=HOSTILE)
    gdf["{{ header }} <i>v</i>"] = [1.0, 2.0, 3.0, None]
    cls = classify_values(gdf["{{ header }} <i>v</i>"], "quantiles", 3)
    spec = MapSpec("{{ header }} <i>v</i>", "{{ header }} <i>v</i>", "name", "code", title="{% if 1 %}T{% endif %}",
                   subtitle="<u>s</u>", caveat="${c}")
    return build_choropleth(gdf, spec, cls, attribution="{{7*6}} <a href=x>", **kw), gdf


@pytest.mark.parametrize("raw,escaped", [
    ("{{7*7}}", "&#123;&#123;7*7&#125;&#125;"), ("<script>", "&lt;script&gt;"), ("${x}", "&#36;&#123;x&#125;"),
    ("`", "&#96;"), ('"', "&quot;"), (None, ""), (float("nan"), ""),
])
def test_escape_text(raw, escaped):
    assert escape_text(raw) == escaped


def test_page_is_self_contained_and_offline():
    m, _ = hostile_map()
    page = map_html(m)
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', page), "no CDN or remote asset"
    assert re.search(r"var map_[0-9a-f]+ = L\.map\(", page), "a Leaflet map is created"
    assert "L.geoJSON(data" in page, "our GeoJSON layer is drawn from the embedded data"
    assert "L.DomUtil.create('div', 'atlas-legend')" in page and "legend.addTo(map)" in page, "our legend is added"
    assert page.count('class=\\"atlas-legend-row\\"') == 4, "the legend has a row per class (3) and one for no data"


def _args(page: str, call: str = "AtlasMap.svg(") -> tuple[dict, dict]:
    """The meta and payload the page's one call into atlas-map.js passes: AtlasMap.svg(map, meta, payload)."""
    start = page.index(", ", page.rindex(call)) + 2  # the last: the first is in atlas-map.js itself
    decoder = json.JSONDecoder()
    meta, end = decoder.raw_decode(page, start)
    return meta, decoder.raw_decode(page, end + 2)[0]


def _payload(page: str) -> dict:
    return _args(page)[1]


def test_hostile_names_and_headers_reach_the_page_escaped_and_unexecuted():
    m, _ = hostile_map()
    page = map_html(m)
    assert "49" not in "".join(f["properties"]["n"] for f in _payload(page)["features"])
    assert "<script>alert(1)</script>" not in page
    assert "</script><b>" not in page
    assert "{{ header }}" not in page and "{% if 1 %}" not in page and "{{7*6}}" not in page
    names = [f["properties"]["n"] for f in _payload(page)["features"]]
    assert names[0] == "&#123;&#123;7*7&#125;&#125;"


def test_streamlit_folium_script_path_also_keeps_strings_literal():
    m, _ = hostile_map(asset_base="/app/static/vendor/leaflet")
    m.get_root().render()
    script = _get_map_string(m)
    assert _payload(script)["features"][0]["properties"]["n"] == "&#123;&#123;7*7&#125;&#125;"
    assert "<script>alert" not in script and "{{" not in script and "{%" not in script


def test_every_polygon_is_a_feature_and_no_data_is_class_minus_one():
    m, gdf = hostile_map()
    feats = _payload(map_html(m))["features"]
    assert len(feats) == len(gdf) and feats[3]["properties"]["k"] == -1
    assert feats[3]["properties"]["t"][0] == "no data"


def test_legend_lists_ranges_counts_and_no_data():
    m, _ = hostile_map()
    page = map_html(m)
    meta = _args(page)[0]
    assert "No data" in meta["legend"] and "most deprived" in meta["legend"]
    assert re.search(r'atlas-count">1<', meta["legend"])
    assert meta["colours"][0] != meta["colours"][-1]


def test_coordinates_are_rounded_to_the_configured_precision():
    gdf = cases.squares(1, x0=-1.123456789)
    cls = classify_values(pd.Series([1.0]), "quantiles", 1)
    m = build_choropleth(gdf, MapSpec("code", "x", "name", "code"), cls, precision=3)
    coords = _payload(map_html(m))["features"][0]["geometry"]["coordinates"][0]
    assert all(len(str(c).split(".")[-1]) <= 3 for pt in coords for c in pt)


def test_basemap_is_optional_and_off_by_default():
    m, _ = hostile_map()
    assert "tile.openstreetmap.org" not in map_html(m)
    m2, _ = hostile_map(basemap=True)
    assert "tile.openstreetmap.org" in map_html(m2)


def test_no_javascript_or_css_in_python_strings_of_the_map_modules():
    """The map's JS and CSS live in geo/present/js/ (served from static/atlas/, inlined offline). Allowed in Python:
    the one-call Jinja glue of each layer (`AtlasMap.svg(…)`, `AtlasMap.canvas(…)`, `AtlasMap.keepScale(…)`),
    the bare <script>/<style> tags map_html wraps the files in, and inline style="…" attributes of generated
    markup (a legend swatch's colour, the spine chart's SVG)."""
    import ast
    from pathlib import Path

    import geo.present.compare
    import geo.present.mapping

    js = re.compile(r"function\s*\(|=>|\bvar |\blet |\bconst |addEventListener|document\.|window\.|L\.[a-zA-Z]+\(|"
                    r"\.on\(|querySelector|innerHTML")
    css_rule = re.compile(r"[.#]?[a-zA-Z][\w-]*[^{}\n;]*\{[^{}%]*:[^{}]*\}")
    glue = re.compile(r"^\{% macro script\(this, kwargs\) %\}AtlasMap\.\w+\(.*\);\{% endmacro %\}$", re.S)
    for module in (geo.present.mapping, geo.present.compare):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Template":
                text = "".join(c.value for c in ast.walk(node.args[0]) if isinstance(c, ast.Constant))
                call = text.replace("{% macro script(this, kwargs) %}", "").replace("{% endmacro %}", "")
                assert call == "" or re.fullmatch(r"AtlasMap\.\w+\(.*\);", call, re.S), (module.__name__, text)
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if glue.match(text) or re.fullmatch(r"AtlasMap\.\w+\([^;]*\);", text) or text in (
                    "{% macro script(this, kwargs) %}", "{% endmacro %}", "{{ this.view }});{% endmacro %}"):
                continue
            assert not js.search(text), (module.__name__, text[:120])
            assert not css_rule.search(text), (module.__name__, text[:120])
            stripped = re.sub(r"</?(script|style)>|<script src=\"|\"></script>", "", text)
            assert "<script" not in stripped and "<style" not in stripped, (module.__name__, text[:120])


def test_lsoa_map_carries_its_districts_for_search_and_focus_opens_on_an_area():
    """#16: an LSOA map names each area's district (search lands on a whole district), the level of its areas
    (the match list says "LSOA" / "district"), and MapSpec.focus (None by default) is the code to open on."""
    gdf = cases.squares(4)
    gdf["code"] = ["E01000001", "E01000002", "E01000003", "E01000004"]
    gdf["lad"] = ["E06000001", "E06000001", "E08000012", None]
    gdf["lad_name"] = ["Hartlepool", "Hartlepool", "Liverpool", None]
    gdf["v"] = [1.0, 2.0, 3.0, 4.0]
    classes = classify_values(gdf["v"], "quantiles", 2)
    assert MapSpec("v", "V", "name", "code").focus is None
    plain = _args(map_html(build_choropleth(gdf, MapSpec("v", "V", "name", "code"), classes)))[0]
    assert plain["districts"] is None and plain["focus"] is None and plain["level"] == "LSOA"
    spec = MapSpec("v", "V", "name", "code", district_column="lad", district_name_column="lad_name", focus="E06000001")
    meta, payload = _args(map_html(build_choropleth(gdf, spec, classes)))
    assert meta["districts"] == {"codes": ["E06000001", "E08000012"], "names": ["Hartlepool", "Liverpool"],
                                 "of": [0, 0, 1, -1]}
    assert meta["focus"] == "E06000001"
    assert [f["properties"]["r"] for f in payload["features"]] == [0, 1, 2, 3]
    hostile = MapSpec("v", "V", "name", "code", focus="<b>{{x}}</b>")
    assert _args(map_html(build_choropleth(gdf, hostile, classes)))[0]["focus"] == escape_text("<b>{{x}}</b>")
    # The canvas renderer gets the same districts (row order: its areas are the layer's rows).
    canvas = map_html(build_choropleth(gdf, spec, classes, canvas=True))
    assert _args(canvas, "AtlasMap.canvas(")[0]["districts"]["of"] == [0, 0, 1, -1]


def test_not_by_colour_alone_says_what_it_offers_on_a_map_too_big_for_labels(monkeypatch):
    """#16: above MAX_VALUE_LABELS areas no labels are written, and the legend says so (never silently nothing)."""
    from geo.present import mapping

    gdf = cases.squares(4)
    gdf["v"] = [1.0, 2.0, 3.0, 4.0]
    classes = classify_values(gdf["v"], "quantiles", 2)
    small = _args(map_html(build_choropleth(gdf, MapSpec("v", "V", "name", "code", value_labels=True), classes)))[0]
    assert len(small["labels"]) == 4 and "atlas-marks-notice" not in small["legend"]
    monkeypatch.setattr(mapping, "MAX_VALUE_LABELS", 3)
    for canvas in (False, True):
        page = map_html(build_choropleth(gdf, MapSpec("v", "V", "name", "code", value_labels=True), classes,
                                         canvas=canvas))
        meta = _args(page, "AtlasMap.canvas(" if canvas else "AtlasMap.svg(")[0]
        assert meta["labels"] == [] and "atlas-marks-notice" in meta["legend"], meta["legend"]
        assert "up to 3 areas; this one has 4" in meta["legend"] and "Not by colour alone" in meta["legendText"]
    off = _args(map_html(build_choropleth(gdf, MapSpec("v", "V", "name", "code"), classes)))[0]
    assert "atlas-marks-notice" not in off["legend"]


# ------------------------------------------------------------------ #17: orientation and chrome

def district_grid(names=("Hartlepool", "Leeds", "<script>alert(1)</script>", "{{7*7}}"), n=3, size=0.01):
    """Four districts (2×2) of n×n square LSOAs each, lon/lat near Leeds."""
    from shapely.geometry import box

    rows = []
    for gx in range(2 * n):
        for gy in range(2 * n):
            d = gx // n + 2 * (gy // n)
            rows.append({"code": f"E01{len(rows):06d}", "name": f"LSOA {len(rows)}", "lad": f"E0600000{d + 1}",
                         "lad_name": names[d], "v": float(len(rows)), "rank": len(rows) * 97.5 + 0.021,
                         "share": len(rows) / 100,
                         "geometry": box(-1.6 + gx * size, 53.8 + gy * size, -1.6 + (gx + 1) * size, 53.8 + (gy + 1) * size)})
    import geopandas as gpd

    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def grid_meta(canvas=False, **kw):
    gdf = district_grid()
    spec = MapSpec("v", "Income — score", "name", "code", title="Income — score", district_column="lad",
                   district_name_column="lad_name", tooltip_columns=(("Income — rank", "rank"), ("Share", "share")), **kw)
    page = map_html(build_choropleth(gdf, spec, classify_values(gdf["v"], "quantiles", 3), canvas=canvas))
    return _args(page, "AtlasMap.canvas(" if canvas else "AtlasMap.svg(") + (page,)


def decoded_lines(outlines):
    from shapely.geometry import LineString

    out = []
    for flat in outlines["lines"]:
        pts = np.cumsum(np.asarray(flat, dtype=float).reshape(-1, 2), axis=0) * outlines["q"]
        out.append(LineString(pts))
    return out


@pytest.mark.parametrize("canvas", [False, True])
def test_lsoa_map_carries_its_district_borders_once_each_and_names_to_label(canvas):
    import shapely

    meta, _, page = grid_meta(canvas=canvas)
    lines = decoded_lines(meta["outlines"])
    # The 2×2 districts' borders: the outer square (4 × 0.06°) and the inner cross (2 × 0.06°), each border once
    # (sent per district, the shared ones would add up to 4 × 4 × 0.03 = 0.48°).
    assert sum(line.length for line in lines) == pytest.approx(0.36, abs=0.002)
    cross = shapely.union_all([shapely.LineString([(-1.57, 53.8), (-1.57, 53.86)]),
                               shapely.LineString([(-1.6, 53.83), (-1.54, 53.83)])])
    assert all(shapely.distance(shapely.Point(p), cross.union(shapely.box(-1.6, 53.8, -1.54, 53.86).boundary)) < 2e-4
               for line in lines for p in line.coords)
    names = [label[2] for label in meta["districtLabels"]]
    assert sorted(names) == sorted(["Hartlepool", "Leeds", "&lt;script&gt;alert(1)&lt;/script&gt;",
                                    "&#123;&#123;7*7&#125;&#125;"])
    assert meta["labelZoom"] >= 9  # no names on a national view
    for lat, lon, _ in meta["districtLabels"]:
        assert 53.8 < lat < 53.86 and -1.6 < lon < -1.54
    assert "<script>alert(1)" not in page and "{{7*7}}" not in page


def test_no_outlines_without_districts_or_on_a_district_map():
    gdf = district_grid()
    classes = classify_values(gdf["v"], "quantiles", 3)
    plain = _args(map_html(build_choropleth(gdf, MapSpec("v", "V", "name", "code"), classes)))[0]
    assert plain["outlines"] is None and plain["districtLabels"] == []
    own = gdf.assign(lad=gdf["code"])  # each area its own district: nothing to outline over it
    spec = MapSpec("v", "V", "name", "code", district_column="lad")
    assert _args(map_html(build_choropleth(own, spec, classes)))[0]["outlines"] is None


def test_outlines_are_remembered_by_content(monkeypatch):
    from geo.present import outlines

    calls = []
    real = outlines.compute_outlines
    monkeypatch.setattr(outlines, "compute_outlines", lambda *a, **k: calls.append(1) or real(*a, **k))
    outlines.clear_memo()
    gdf = district_grid()
    first = outlines.district_outlines(gdf, "code", "lad", "lad_name")
    again = outlines.district_outlines(gdf.copy(), "code", "lad", "lad_name")
    assert again is first and len(calls) == 1
    moved = gdf.copy()
    moved.loc[0, "lad"] = "E06000002"  # another district for one LSOA: computed again, with a different border
    other = outlines.district_outlines(moved, "code", "lad", "lad_name")
    assert len(calls) == 2 and other.lines != first.lines


def test_large_text_bare_place_and_legend_words_reach_the_map():
    meta, _, _ = grid_meta(large_text=True, place="<b>Leeds</b> {{x}}",
                           legend_words=("Darker is <i>more</i> deprived.", "{{7*7}}"))
    assert meta["large"] is True and meta["chrome"] == "full"
    assert meta["place"] == escape_text("<b>Leeds</b> {{x}}") and meta["title"] == "Income — score"
    assert '<details class="atlas-words"><summary>In words</summary>' in meta["legend"]
    assert "<p>Darker is &lt;i&gt;more&lt;/i&gt; deprived.</p><p>&#123;&#123;7*7&#125;&#125;</p>" in meta["legend"]
    assert "Darker is &lt;i&gt;more&lt;/i&gt; deprived." in meta["legendText"]
    normal, _, _ = grid_meta()
    assert normal["large"] is False and "atlas-words" not in normal["legend"] and normal["place"] == ""
    bare, _, _ = grid_meta(chrome="bare", place="Leeds", legend_words=("words",))
    assert bare["legend"] == "" and bare["title"] == "" and bare["place"] == "" and bare["chrome"] == "bare"
    assert bare["outlines"]["lines"], "a bare map keeps its outlines"
    with pytest.raises(ValueError, match="bare"):
        grid_meta(chrome="minimal")


def test_large_text_css_sets_every_map_text_to_20px_or_more():
    """Presenter mode's rules (the browser test measures the rendered sizes): each sets 20 px or more."""
    from geo.load.assets import atlas_text

    css = re.sub(r"/\*.*?\*/", "", atlas_text("atlas-map.css"), flags=re.S)
    rules = [(sel, body) for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", css) if ".atlas-large" in sel]
    sizes = [float(m) for _, body in rules for m in re.findall(r"font-size:\s*([\d.]+)px", body)]
    assert len(sizes) >= 8 and min(sizes) >= 20, rules
    covered = " ".join(sel for sel, _ in rules)
    for text in ("atlas-legend", "atlas-title", "atlas-caveat", "leaflet-control-attribution", "atlas-search",
                 "atlas-label", "atlas-place", "leaflet-tooltip", "leaflet-control-scale-line"):
        assert text in covered, text


def test_tooltips_write_numbers_by_kind_in_both_renderers():
    meta, payload, _ = grid_meta()
    assert meta["kinds"] == ["score", "rank", "share"]  # by the fields' words (geo.present.numbers.kind_of)
    assert payload["features"][5]["properties"]["t"] == ["5.000", "488", "5.0%"]  # not "487.521", not "0.050"
    _, canvas_payload, _ = grid_meta(canvas=True)  # the canvas sends numbers; atlas-map.js writes them by kind
    assert canvas_payload["kinds"] == meta["kinds"]
    values = canvas_payload["values"]["data"]
    assert values[0][5] == 5 and values[1][5] == pytest.approx(487.521) and values[2][5] == pytest.approx(0.05)
    assert [format_value(values[0][5], "score"), format_value(values[1][5], "rank")] == ["5.000", "488"]


@pytest.mark.parametrize("value,kind,text", [
    (10263.021, "rank", "10,263"), (0.362, "share", "36.2%"), (35.037, "score", "35.037"), (900000000, "money", "£900m"),
    (-7324.089, "rank", "\u22127,324"), (None, "rank", "no data"), (29199, None, "29,199"), (35.0371, None, "35.037"),
])
def test_format_value_by_kind(value, kind, text):
    assert format_value(value, kind) == text


def test_tooltip_values_come_from_the_number_style():
    """#17: format_value delegates to geo.present.numbers: whole numbers grouped, others at the scores' precision."""
    from geo.present.mapping import format_value

    assert [format_value(v) for v in (29199, 29199.0, 35.0371, None, float("nan"), pd.NA, "Hartlepool")] == \
        ["29,199", "29,199", "35.037", "no data", "no data", "no data", "Hartlepool"]
    assert format_value(-2.5) == "\u22122.500"  # the minus sign of the number style, not a hyphen


def test_warm_rerun_memo_follows_the_values():
    """#18: tooltip values and the districts list are remembered by a hash of their columns, so a warm rerun does
    not format 33k values again — and a changed value (or district) is never served from the memo."""
    from geo.present import mapping

    df = pd.DataFrame({"v": [1.5, 2.5, 3.5], "lad": ["E06000001", "E06000001", "E06000002"], "n": ["A", "A", "B"]})
    spec = MapSpec("v", "V", None, "lad", district_column="lad", district_name_column="n")
    first = mapping._tooltip_values(df, spec)
    assert mapping._tooltip_values(df.copy(), spec) is first  # same content: the memo
    changed = df.assign(v=[1.5, 2.5, 4.5])
    assert mapping._tooltip_values(changed, spec)[1] != first[1]
    moved = df.assign(lad=["E06000001", "E06000002", "E06000002"])
    assert mapping._districts_meta(moved, spec)["of"] == [0, 1, 1] != mapping._districts_meta(df, spec)["of"]


# ------------------------------------------------------------------ #18: the live map's base and style

def _parts(gdf, column, canvas, store=None, **kw):
    from geo.present.mapping import map_parts, prepare_map

    spec = MapSpec(column, f"Label of {column}", "name", "code", title=f"Title {column}", district_column="lad",
                   district_name_column="lad_name", tooltip_columns=(("Income — rank", "rank"),), **kw)
    cls = classify_values(gdf[column], "quantiles", 3)
    return map_parts(gdf, spec, cls, attribution="{{7*6}} <a>", prepared=prepare_map(gdf, spec, store, canvas=canvas),
                     canvas=canvas), cls


@pytest.mark.parametrize("canvas", [False, True])
def test_a_change_of_measure_changes_the_style_only_and_the_base_is_named_by_content(canvas, tmp_path):
    from geo.present.mapping import store_base

    gdf = district_grid()
    gdf["w"] = gdf["v"].to_numpy()[::-1]  # another measure: the classes run the other way
    one, cls_one = _parts(gdf, "v", canvas, tmp_path)
    two, cls_two = _parts(gdf, "w", canvas, tmp_path)
    assert one.base == two.base and store_base(one.base, tmp_path) == store_base(two.base, tmp_path)
    assert one.style["classes"] != two.style["classes"]
    assert one.style["classes"] == "".join(chr(48 + int(k)) for k in cls_one.classes)
    assert "Title w" in two.style["title"] and "Label of w" in two.style["legend"]
    name = store_base(one.base, tmp_path)
    assert json.loads((tmp_path / name).read_text()) == one.base
    assert not any(key in one.base for key in ("classes", "legend", "title", "colours", "tips", "values"))
    if canvas:
        assert one.base["kind"] == "canvas" and all(d["url"].startswith("/app/static/geometry/")
                                                     for d in one.base["details"])
        assert one.style["values"]["url"] != two.style["values"]["url"]  # tooltip values by URL, per measure
    else:
        props = [f["properties"] for f in one.base["geojson"]["features"]]
        assert [p["r"] for p in props] == list(range(len(gdf))) and not any("k" in p for p in props)
        assert len(one.style["tips"]) == len(gdf) and one.style["tips"][0][0] != two.style["tips"][0][0]


def test_live_map_parts_carry_user_strings_escaped():
    gdf = district_grid()
    gdf.loc[0, "name"] = HOSTILE[1]
    parts, _ = _parts(gdf, "v", False)
    text = json.dumps([parts.base, parts.style])
    assert "<script>" not in text and "{{7*7}}" not in text and "{{7*6}}" not in text
    assert escape_text(HOSTILE[1]) in text
