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


def _payload(page: str) -> dict:
    match = re.search(r"var data = (\{.*?\});\n", page)
    return json.loads(match.group(1))


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
    meta = json.loads(re.search(r"var meta = (\{.*?\});\n", page).group(1))
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
