"""The map as HTML: offline assets only, our legend, and hostile strings shown literally."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit_folium import _get_map_string

from geo.present.classify import classify_values
from geo.present.mapping import MapSpec, build_choropleth, escape_text, map_html
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


def test_tooltip_values_come_from_the_number_style():
    """#17: format_value delegates to geo.present.numbers: whole numbers grouped, others at the scores' precision."""
    from geo.present.mapping import format_value

    assert [format_value(v) for v in (29199, 29199.0, 35.0371, None, float("nan"), pd.NA, "Hartlepool")] == \
        ["29,199", "29,199", "35.037", "no data", "no data", "no data", "Hartlepool"]
    assert format_value(-2.5) == "\u22122.500"  # the minus sign of the number style, not a hyphen
