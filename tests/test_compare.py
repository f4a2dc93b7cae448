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
    national_decile,
    national_rank,
    spine_svg,
    spine_table,
    subset_classification,
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
    assert shown["National rank"].tolist() == ["3 of 4", "1 of 4"] and shown["Gap to England"].tolist() == ["-5", "+15"]


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
    assert text.loc[0, "England (median)"] == "25" and text.loc[0, "25th–75th percentile"] == "17.500 – 32.500"
    assert text.loc[0, "A · A&B"] == "10" and text.loc[0, "More deprived end"] == "40"


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
