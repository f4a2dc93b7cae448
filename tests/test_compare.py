"""geo.present.compare on the real IoD2019 districts and LSOAs, on hand-checkable cases, and the spine chart's SVG."""

from __future__ import annotations

import statistics
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.present.classify import classify_values
from geo.present.compare import (
    KeepScale,
    Measure,
    area_extents,
    area_rows,
    compare_areas,
    display_table,
    district_lsoa_layers,
    dodge_lanes,
    national_decile,
    national_rank,
    shared_legend_html,
    spine_svg,
    spine_table,
    subset_classification,
    summary_measures,
)
from geo.errors import AtlasError
from geo.load.io import read_boundaries, read_table
from geo.present.mapping import MapSpec, build_choropleth, map_html
from geo.link.layers import district_summaries, prepare_table
from tests.cases import SHARED

IOD = SHARED / "indicators" / "iod2019"
real = pytest.mark.skipif(not (IOD / "iod2019_lsoa11_all_scores.csv").is_file(), reason="real open data not present")
HARTLEPOOL, LIVERPOOL, MIDDLESBROUGH = "E06000001", "E08000012", "E06000002"
DISTRICT_MEASURES = [Measure("average_score", "Average score", True),
                     Measure("proportion_most_deprived_10pct", "Share in most deprived 10%", True),
                     Measure("extent", "Extent", True), Measure("average_rank", "Average rank", False)]


@pytest.fixture(scope="module")
def iod2019():
    return prepare_table(read_table(IOD / "iod2019_lsoa11_all_scores.csv"))


@pytest.fixture(scope="module")
def districts(iod2019):
    return district_summaries(iod2019, "imd")


@real
def test_three_districts_against_published_summaries(districts):
    cmp = compare_areas(districts, "district_code", "district_name", [HARTLEPOOL, LIVERPOOL, MIDDLESBROUGH],
                        DISTRICT_MEASURES, "districts")
    t = cmp.table.set_index(["code", "column"])
    # Published IoD2019 local authority summaries (MHCLG File 10): average score and its rank of 317.
    for code, score, rank in ((HARTLEPOOL, 35.037, 10), (LIVERPOOL, 42.412, 3), (MIDDLESBROUGH, 40.460, 5)):
        row = t.loc[(code, "average_score")]
        assert round(row["value"], 3) == score and row["rank"] == rank and row["of"] == 317, code
        assert row["decile"] == 1  # ranks 3–10 of 317 are in the most deprived tenth (ranks 1–31)
    assert round(t.loc[(HARTLEPOOL, "proportion_most_deprived_10pct"), "value"], 4) == 0.3621
    assert round(t.loc[(LIVERPOOL, "proportion_most_deprived_10pct"), "value"], 4) == 0.4866
    # England value: the median of the 317 districts, computed here independently; the gap is value − England.
    median = statistics.median(districts["average_score"].tolist())
    assert t.loc[(HARTLEPOOL, "average_score"), "england"] == pytest.approx(median)
    for code, score in ((HARTLEPOOL, 35.037), (LIVERPOOL, 42.412), (MIDDLESBROUGH, 40.460)):
        assert t.loc[(code, "average_score"), "gap"] == pytest.approx(score - median, abs=5e-4), code
    assert 15 < median < 25 and (t.xs("average_score", level="column")["against_england"] == "more deprived").all()
    # A low average rank is deprived: rank 1 is the lowest value, and these three are well below England's median.
    ar = t.xs("average_rank", level="column")
    assert (ar["gap"] < 0).all() and (ar["against_england"] == "more deprived").all()
    assert cmp.areas == [(HARTLEPOOL, "Hartlepool"), (LIVERPOOL, "Liverpool"), (MIDDLESBROUGH, "Middlesbrough")]
    assert "median of all 317 districts" in cmp.england_note()


@real
def test_district_ranks_agree_with_an_independent_aggregation():
    """The third-party IMD history (re-aggregated to 2021 districts) ranks these three the same way."""
    hist = pd.read_csv(SHARED / "indicators" / "imd_lad21_2004_2019.csv").drop_duplicates("ltla21_code")
    hist = hist.set_index("ltla21_code")
    assert [hist.loc[c, "imd2019_rank_of_score"] for c in (HARTLEPOOL, LIVERPOOL, MIDDLESBROUGH)] == [10, 3, 5]
    share = national_rank(hist["imd2019_proportion_top10pc"], True)
    assert share[MIDDLESBROUGH] < share[LIVERPOOL] < share[HARTLEPOOL]


@real
def test_lsoa_rank_and_decile_equal_the_published_ones(iod2019):
    """Over all 32,844 LSOAs, the national rank of the IMD score and its decile are exactly the published columns."""
    frame = iod2019.frame
    score, rank, decile = (iod2019.column_for("imd", k).name for k in ("score", "rank", "decile"))
    ours = national_rank(frame[score], True)
    tied = frame[score].duplicated(keep=False)
    assert (ours[~tied] == frame[rank][~tied]).all()  # MHCLG breaks score ties; ours share the best rank
    assert (national_decile(frame[rank].astype(float), len(frame)) == frame[decile]).all()
    codes = frame[iod2019.code_column].head(3).tolist()
    cmp = compare_areas(frame, iod2019.code_column, None, codes, [Measure(rank, "IMD rank", False)], "LSOAs")
    for row in cmp.table.itertuples():
        published = frame.loc[frame[iod2019.code_column] == row.code]
        assert row.rank == published[rank].iloc[0] and row.decile == published[decile].iloc[0]
    assert cmp.table["england"].iloc[0] == pytest.approx((32844 + 1) / 2)  # the median rank


def tiny():
    return gpd.GeoDataFrame({"code": ["E1", "E2", "E3", "E4", "E5"], "name": ["A&B", "<i>x</i>", "C", "D", "E"],
                             "score": [10.0, 20.0, 30.0, 40.0, np.nan]},
                            geometry=[box(0, 0, 1, 1), box(1, 0, 3, 2), box(3, 0, 3.5, 0.5), box(4, 0, 5, 1),
                                      box(5, 0, 6, 1)], crs=4326)


def test_hand_checked_ranks_deciles_and_gaps():
    cmp = compare_areas(tiny(), "code", "name", ["e2", "E4"], [Measure("score", "Score", True)], "areas")
    t = cmp.table.set_index("code")
    assert t.loc["E4", "rank"] == 1 and t.loc["E2", "rank"] == 3 and t.loc["E2", "of"] == 4
    assert t.loc["E4", "decile"] == 3 and t.loc["E2", "decile"] == 8  # ceil(1×10/4), ceil(3×10/4)
    assert t.loc["E2", "england"] == 25.0 and t.loc["E2", "gap"] == -5.0 and t.loc["E2", "against_england"] == \
        "less deprived"
    shown = display_table(cmp)
    assert shown["National rank"].tolist() == ["3rd of 4", "1st of 4"]
    assert shown["Value"].tolist() == ["20.000", "40.000"] and shown["England"].tolist() == ["25.000", "25.000"]
    assert shown["Against England"].tolist() == ["5.000 points less deprived than England's median area",
                                                 "15.000 points more deprived than England's median area"]


def test_bad_choices_are_errors_with_advice():
    with pytest.raises(AtlasError, match="Not on this map: E9"):
        compare_areas(tiny(), "code", "name", ["E1", "E9"], [Measure("score", "Score")])
    with pytest.raises(AtlasError, match="Compare 2 to 4"):
        compare_areas(tiny(), "code", "name", ["E1"], [Measure("score", "Score")])
    with pytest.raises(AtlasError, match="Compare 2 to 4"):
        compare_areas(tiny(), "code", "name", ["E1", "E2", "E3", "E4", "E5"], [Measure("score", "Score")])
    with pytest.raises(AtlasError, match="has values"):
        compare_areas(tiny().assign(score=np.nan), "code", "name", ["E1", "E2"], [Measure("score", "Score")])


def test_spine_chart_is_escaped_svg_with_a_text_twin():
    cmp = compare_areas(tiny(), "code", "name", ["E1", "E2"], [Measure("score", "Score <b>", True)])
    svg = spine_svg(cmp)
    root = ET.fromstring(svg)  # well-formed: every name escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and root.find(f"{ns}title") is not None and root.find(f"{ns}desc") is not None
    assert "<i>" not in svg and "&lt;i&gt;x&lt;/i&gt;" in svg and "A&amp;B" in svg
    markers = root.findall(f".//{ns}g[@class='spine-area']")
    assert [m.get("data-code") for m in markers] == ["E1", "E2"]
    text = spine_table(cmp)
    assert text.loc[0, "England (median)"] == "25.000" and text.loc[0, "25th–75th percentile"] == "17.500 – 32.500"
    assert text.loc[0, "A · A&B"] == "10.000" and text.loc[0, "More deprived end"] == "40.000"


def test_small_maps_share_breaks_and_one_scale():
    layer = tiny()
    cls = classify_values(layer["score"], "quantiles", 4)
    masks = [area_rows(layer, "code", c) for c in ("E1", "E2")]
    subs = [subset_classification(cls, m) for m in masks]
    assert subs[0].labels == subs[1].labels == cls.labels and subs[0].colours == cls.colours
    assert subs[0].counts == [1, 0, 0, 0] and subs[1].counts == [0, 1, 0, 0]
    own, largest = area_extents([layer[m] for m in masks])
    assert own[0] == (0, 0, 1, 1) and largest == (1, 0, 3, 2)  # E2 is the larger
    spec = MapSpec("score", "Score", "name", "code", title="A")
    m = build_choropleth(layer[masks[0]], spec, subs[0])
    m.add_child(KeepScale(own[0], largest))
    page = m.get_root().render()
    assert "AtlasMap.keepScale(" in page and "[[0.0,1.0],[2.0,3.0]]" in page  # the largest area's corners, lat/lon
    assert page.index("AtlasMap.svg(") < page.index("AtlasMap.keepScale(")  # runs after the layer fitted itself
    assert "getBoundsZoom" in map_html(m)  # the offline page carries atlas-map.js


@real
def test_real_district_maps_fit_the_largest_area():
    gdf = read_boundaries(SHARED / "boundaries" / "lad19_england_buc.gpkg")
    code = "ltla19_code"
    parts = [gdf[area_rows(gdf, code, c)] for c in (HARTLEPOOL, LIVERPOOL, MIDDLESBROUGH)]
    own, largest = area_extents(parts)
    assert largest == own[1]  # Liverpool is the largest of the three


# ------------------------------------------------------------------ the difference table, by kind (#17)

THREE_DECIMAL_NUMBER = r"\d,\d{3}\.\d{3}"  # "10,263.021": a rank written as a score


def test_table_writes_each_measure_by_its_kind_and_the_gap_in_words():
    """A share of 0–1 as a percentage, ranks whole and as positions, a low-is-deprived rank's gap the right way."""
    layer = tiny().assign(share=[0.362, 0.1, 0.05, 0.0, np.nan], avg_rank=[10263.021, 17587.4, 20000.0, 30000.0, np.nan])
    measures = [Measure("share", "Share in most deprived 10%", True, "share"),
                Measure("avg_rank", "Average rank", False, "rank")]
    cmp = compare_areas(layer, "code", "name", ["E1", "E2"], measures, "districts")
    shown = display_table(cmp).set_index(["Measure", "Area"])
    share, rank = shown.loc["Share in most deprived 10%"], shown.loc["Average rank"]
    assert share.loc["A · A&B (E1)", "Value"] == "36.2%" and share.loc["A · A&B (E1)", "England"] == "7.5%"
    assert share.loc["A · A&B (E1)", "National rank"] == "1st of 4"
    assert share.loc["A · A&B (E1)", "Against England"] == \
        "28.7 percentage points more deprived than England's median district"
    # Average rank: lower is more deprived; England's median is (17,587.4 + 20,000) / 2 = 18,793.7.
    assert rank.loc["A · A&B (E1)", "Value"] == "10,263" and rank.loc["A · A&B (E1)", "England"] == "18,794"
    assert rank.loc["A · A&B (E1)", "Against England"] == "8,531 ranks more deprived than England's median district"
    assert rank.loc["B · <i>x</i> (E2)", "Against England"] == \
        "1,206 ranks more deprived than England's median district"
    text = display_table(cmp).to_string()
    assert not pd.Series([text]).str.contains(THREE_DECIMAL_NUMBER).any() and "0.362" not in text
    assert "Gap" not in text and "-" not in text.replace("-deprived", "")  # no hyphen-minus numbers


def test_district_summaries_have_their_kinds():
    by_column = {m.column: m.number_kind() for m in summary_measures(pd.DataFrame(columns=[
        "average_score", "average_rank", "proportion_most_deprived_10pct", "extent", "local_concentration"]))}
    assert by_column == {"average_score": "score", "average_rank": "rank", "proportion_most_deprived_10pct": "share",
                         "extent": "share", "local_concentration": "rank"}


@real
def test_real_district_table_reads_as_words(districts):
    """Hartlepool against England as the issue asks: "10th of 317", "36.2%", "7,324 ranks more deprived …"."""
    cmp = compare_areas(districts, "district_code", "district_name", [HARTLEPOOL, LIVERPOOL],
                        summary_measures(districts), "districts")
    shown = display_table(cmp).set_index(["Measure", "Area"])
    h = "A · Hartlepool (E06000001)"
    assert shown.loc[("Average score", h), "Value"] == "35.037"
    assert shown.loc[("Average score", h), "National rank"] == "10th of 317"
    assert shown.loc[("Share of LSOAs in most deprived 10%", h), "Value"] == "36.2%"
    assert shown.loc[("Average rank", h), "Value"] == "10,263"
    assert shown.loc[("Average rank", h), "Against England"] == "7,324 ranks more deprived than England's median district"
    text = display_table(cmp).to_string() + spine_table(cmp).to_string()
    assert not pd.Series([text]).str.contains(THREE_DECIMAL_NUMBER).any() and "0.362" not in text


# ------------------------------------------------------------------ spine chart: markers never hide each other

def _marker_boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """(code, x0, y0, x1, y1) of every area marker drawn by spine_svg, from its circle, rect or polygon."""
    ns = "{http://www.w3.org/2000/svg}"
    boxes = []
    for g in ET.fromstring(svg).iter(f"{ns}g"):
        if g.get("class") != "spine-area":
            continue
        shape = [el for el in g if el.tag != f"{ns}title"][0]
        if shape.tag == f"{ns}circle":
            cx, cy, r = (float(shape.get(a)) for a in ("cx", "cy", "r"))
            box_ = (cx - r, cy - r, cx + r, cy + r)
        elif shape.tag == f"{ns}rect":
            x, y, w, h = (float(shape.get(a)) for a in ("x", "y", "width", "height"))
            box_ = (x, y, x + w, y + h)
        else:
            pts = [tuple(map(float, p.split(","))) for p in shape.get("points").split()]
            box_ = (min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts))
        boxes.append((g.get("data-code"), *box_))
    return boxes


def _overlapping(boxes) -> list[tuple[str, str]]:
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]]


def test_spine_markers_never_overlap_and_keep_their_place_along_the_bar():
    """Four areas with the same value, and two a hair apart: stacked in lanes, each still at its value."""
    layer = tiny().assign(score=[30.0, 30.0, 30.0, 30.0, 0.0], near=[10.0, 10.05, 50.0, 90.0, 0.0])
    cmp = compare_areas(layer, "code", "name", ["E1", "E2", "E3", "E4"],
                        [Measure("score", "Same", True), Measure("near", "Near", True)])
    boxes = _marker_boxes(spine_svg(cmp))
    assert len(boxes) == 8 and _overlapping(boxes) == []
    centre = lambda b: round((b[1] + b[3]) / 2, 1)  # noqa: E731
    same, near = boxes[:4], boxes[4:]
    assert len({centre(b) for b in same}) == 1  # one value: one place along the bar, four lanes
    assert centre(near[0]) <= centre(near[1]) < centre(near[2]) < centre(near[3])
    # An area with none near it stays on the bar: its marker spans the bar's middle line.
    ns = "{http://www.w3.org/2000/svg}"
    bars = [float(r.get("y")) + 9 for r in ET.fromstring(spine_svg(cmp)).iter(f"{ns}rect") if r.get("fill") == "#e3e3e3"]
    assert all(b[2] < bars[1] < b[4] for b in near[2:]) and not all(b[2] < bars[1] < b[4] for b in near[:2])


def test_dodge_lanes_by_pixel_distance():
    assert dodge_lanes([100, 105, 200, 110, 130], 20) == [0, 1, 0, 2, 0]
    assert dodge_lanes([], 20) == [] and dodge_lanes([5], 20) == [0]


@real
def test_hartlepool_is_not_hidden_on_local_concentration(districts):
    """The issue's case: Hartlepool, Liverpool and Middlesbrough sit within a few pixels on local concentration."""
    cmp = compare_areas(districts, "district_code", "district_name", [HARTLEPOOL, LIVERPOOL, MIDDLESBROUGH],
                        summary_measures(districts), "districts")
    boxes = _marker_boxes(spine_svg(cmp))
    assert len(boxes) == 3 * len(cmp.ranges) and _overlapping(boxes) == []


# ------------------------------------------------------------------ small maps: each district's own LSOAs

@pytest.fixture(scope="module")
def demo():
    from geo.present.render import ViewRequest, resolve_inputs, view_data

    return view_data(resolve_inputs(ViewRequest()))


def _district_setup(data, codes):
    from geo.views import classify_result, get_view, resolve_values

    view = get_view("districts")
    values, _ = resolve_values(view, data, {"measure": "imd"})
    result = view.build(data, values)
    return view.comparison(data, values, result, classify_result(result, values))


def test_compared_districts_are_drawn_as_their_lsoas_by_national_decile(demo):
    setup = _district_setup(demo, [])
    small = setup.small_maps
    assert small is not None and len(small.layer) == len(demo.joined)  # classes over every LSOA of the data
    assert small.classification.scheme == "national_deciles" and "Index of Multiple Deprivation" in small.legend_title
    district_col = demo.ind.district_column
    codes = demo.joined[district_col].astype(str).value_counts().index[:2].tolist()
    decile = demo.ind.column_for("imd", "decile").name
    for code, (gdf, sub) in zip(codes, district_lsoa_layers(small, codes)):
        expected = demo.joined[demo.joined[district_col].astype(str) == code]
        assert len(gdf) == len(expected) > 1 and (gdf[district_col].astype(str) == code).all()
        assert sub.labels == small.classification.labels and sub.colours == small.classification.colours
        assert (sub.classes == 10 - pd.to_numeric(gdf[decile]).to_numpy()).all()  # decile 1 = the last class
        assert sum(sub.counts) == len(gdf)
    # The other district views compare the same way.
    from geo.views import classify_result, get_view, resolve_values

    view = get_view("eligibility")
    values, _ = resolve_values(view, demo, {"measure": "imd"})
    result = view.build(demo, values)
    assert view.comparison(demo, values, result, classify_result(result, values)).small_maps is small


def test_small_maps_are_bare_and_share_one_escaped_legend(demo):
    from dataclasses import replace

    small = _district_setup(demo, []).small_maps
    code = demo.joined[demo.ind.district_column].astype(str).iloc[0]
    gdf, sub = district_lsoa_layers(small, [code])[0]
    bare = build_choropleth(gdf, replace(small.spec, chrome="bare"), sub).get_root().render()
    full = build_choropleth(gdf, small.spec, sub).get_root().render()
    assert '"bare":true' in bare.replace(" ", "") and '"bare":false' in full.replace(" ", "")
    cls = subset_classification(small.classification, np.ones(len(small.layer), dtype=bool))
    cls.labels[0] = "<script>alert(1)</script>"
    legend = shared_legend_html(cls, "LSOAs & <b>deciles</b>", [1] * 10, "LSOAs")
    assert legend.count('class="atlas-compare-legend"') == 1 and legend.count('class="atlas-compare-key"') == 10
    assert "<script>" not in legend and "&lt;script&gt;" in legend and "LSOAs &amp; &lt;b&gt;" in legend
    keys = legend[legend.index('class="atlas-compare-key"'):]
    assert keys.index("Decile 1 (most deprived 10%)") < keys.index("Decile 2")  # most deprived first


@real
def test_hartlepool_small_map_is_its_58_lsoas_by_published_decile(iod2019):
    from geo.views.base import ViewData, district_lsoas

    lsoas = read_boundaries(SHARED / "boundaries" / "lsoa11_england_bsc.gpkg") if (
        SHARED / "boundaries" / "lsoa11_england_bsc.gpkg").is_file() else None
    if lsoas is None:
        pytest.skip("LSOA boundaries not present")
    from geo.link.layers import prepare_join

    ind, joined, report, name_col = prepare_join(lsoas, iod2019.frame)
    small = district_lsoas(ViewData(ind, joined, report, name_col), "imd")
    (h, hsub), (liv, _) = district_lsoa_layers(small, [HARTLEPOOL, LIVERPOOL])
    assert len(h) == 58 and len(liv) == 298
    decile = ind.column_for("imd", "decile").name
    assert (hsub.classes == 10 - h[decile].astype(int).to_numpy()).all()
    assert hsub.counts[9] == 21  # Hartlepool's LSOAs in England's most deprived 10% (36.2% of 58)


# ------------------------------------------------------------------ the app's part: the map stays while choosing

def _compare_script():
    """An app page of one comparison on the tiny layer; writes what compare_view returned."""
    import geopandas as gpd
    import numpy as np
    import streamlit as st
    from shapely.geometry import box

    from geo.present.classify import classify_values
    from geo.present.compare import Measure
    from geo.present.mapping import MapSpec
    from ui.compare import compare_view

    layer = gpd.GeoDataFrame({"code": ["E1", "E2", "E3", "E4"], "name": ["A&B", "<i>x</i>", "C", "D"],
                              "score": [10.0, 20.0, 30.0, np.nan]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 3, 2), box(3, 0, 3.5, 0.5), box(4, 0, 5, 1)], crs=4326)
    spec = MapSpec("score", "Score", "name", "code", title="Score")
    drew = compare_view(layer, spec, classify_values(layer["score"], "quantiles", 3),
                        [Measure("score", "Score", True, "score")], "areas")
    st.session_state["drew"] = drew


def test_compare_view_returns_whether_it_drew_the_comparison():
    """Fewer than two areas: only the picker and a hint (False: the caller draws the single map); two: True."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_compare_script, default_timeout=60).run()
    assert not at.exception and at.session_state["drew"] is False
    assert "Pick 2 to 4 areas" in " ".join(c.value for c in at.caption) and not at.table
    at.multiselect(key="compare_areas").select("E1").run()
    assert at.session_state["drew"] is False
    at.multiselect(key="compare_areas").select("E2").run()
    assert not at.exception and at.session_state["drew"] is True
    table = at.table[0].value
    assert table["National rank"].tolist() == ["3rd of 3", "2nd of 3"]
    assert len([m for m in at.markdown if "atlas-compare-legend" in m.value]) == 1  # one legend for both maps
    captions = [m.value for m in at.markdown if m.value.startswith("**") and "·" in m.value]
    assert len(captions) == 2 and "\\<i\\>x" in captions[1], captions  # each map's name above it, escaped
