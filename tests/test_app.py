"""UI logic with Streamlit's AppTest (fast; it cannot see inside the map — the browser tests do that)."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo.errors import AtlasError

from tests import cases

APP = str(cases.REPO / "app.py")


def run_app(monkeypatch=None, data_dir=None) -> AppTest:
    if monkeypatch is not None and data_dir is not None:
        monkeypatch.setenv("ATLAS_DATA_DIRS", str(data_dir))
    return AppTest.from_file(APP, default_timeout=60).run()


def header_of(at: AppTest) -> str:
    """The page's one-line header (ui.layout.header): the atlas, the data and, on the demo, that it is illustrative."""
    return "\n".join(e.proto.body for e in at.get("html") if "atlas-head" in e.proto.body)


def text_of(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def test_default_view_is_demo_districts_labelled_illustrative():
    at = run_app()
    assert not at.exception
    assert "Illustrative demo data" in header_of(at)
    assert at.sidebar.radio(key="view").value == "Districts (England)"
    assert "12 of 12" in text_of(at) and "546 of 546" in text_of(at)


def test_neighbourhood_view_and_district_filter():
    at = run_app()
    at.sidebar.radio(key="view").set_value("Neighbourhoods (LSOAs)").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="scheme_national_deciles").value == "national_deciles"
    at.sidebar.multiselect(key="districts").set_value(["E08000905"]).run()
    assert not at.exception
    legend = at.table[0].value
    assert legend["Areas"].sum() < 546 and legend["Class"].iloc[0].startswith("Decile 1")


def test_every_measure_and_kind_renders():
    at = run_app()
    at.sidebar.radio(key="view").set_value("Neighbourhoods (LSOAs)").run()
    for index in range(len(at.sidebar.selectbox(key="measure").options)):
        at.sidebar.selectbox(key="measure").select_index(index).run()
        for kind in ("score", "rank", "decile"):
            at.sidebar.radio(key="kind").set_value(kind).run()
            assert not at.exception, (index, kind)


def test_bad_user_breaks_say_what_to_do():
    at = run_app()
    at.sidebar.selectbox(key="scheme_quantiles").set_value("user_defined").run()
    at.sidebar.text_input(key="breaks").set_value("10, ten").run()
    assert not at.exception
    assert any("numbers separated by commas" in e.value for e in at.sidebar.error)


@pytest.fixture
def folder(tmp_path):
    sq = cases.squares(3)
    (tmp_path / "areas.geojson").write_bytes(cases.geojson_bytes(sq))
    bng = cases.squares(3, x0=430000, y0=433000, size=500, crs="EPSG:27700")
    (tmp_path / "bng_as_wgs84.geojson").write_bytes(cases.geojson_bytes(bng))
    (tmp_path / "no_prj.zip").write_bytes(cases.shapefile_zip(tmp_path, bng, drop=(".prj",)))
    pd.DataFrame({"code": ["E01000001", "E01000001", "E01000002"], "value": [1, 9, 2]}).to_csv(
        tmp_path / "conflicts.csv", index=False)
    return tmp_path


def pick(at: AppTest, key: str, name: str) -> None:
    box = at.sidebar.selectbox(key=key)
    box.select_index(next(i for i, label in enumerate(box.options) if label.endswith("/" + name)))


def open_folder_files(monkeypatch, folder, boundaries: str, table: str | None = None) -> AppTest:
    """The app on 'Files in data folders' with the given boundary file (and table) chosen."""
    at = run_app(monkeypatch, folder)
    at.sidebar.radio(key="source").set_value("Files in data folders").run()
    pick(at, "f_lsoa", boundaries)
    if table:
        pick(at, "f_table", table)
    return at.run()


def test_conflicting_duplicates_block_until_the_user_resolves(monkeypatch, folder):
    at = open_folder_files(monkeypatch, folder, "areas.geojson", "conflicts.csv")
    assert not at.exception
    assert any("different values" in e.value for e in at.error)
    at.radio(key="resolve").set_value("first").run()
    assert not at.exception and not at.error
    assert "3 of 3" not in text_of(at) and "2 of 3" in text_of(at)


def test_missing_crs_asks_instead_of_guessing(monkeypatch, folder):
    at = open_folder_files(monkeypatch, folder, "no_prj.zip", "conflicts.csv")
    assert any("does not say which coordinate system" in e.value for e in at.error)
    at.selectbox(key="crs_lsoa").set_value("EPSG:27700").run()
    assert not at.exception and not any("coordinate" in e.value for e in at.error)


def test_bng_labelled_as_wgs84_is_refused_with_advice(monkeypatch, folder):
    at = open_folder_files(monkeypatch, folder, "bng_as_wgs84.geojson")
    assert any("British National Grid" in e.value and "Assign projection" in e.value for e in at.error)


def test_eligibility_on_the_demo_empty_result_and_allocation_map():
    at = run_app()
    at.sidebar.radio(key="view").set_value("Fund eligibility").run()
    assert not at.exception and "Eligible districts: **12 of 12**" in text_of(at)
    assert any("not English district codes" in c.value for c in at.caption)  # no NRF comparison for fiction
    at.toggle(key="allocate").set_value(True).run()
    at.sidebar.radio(key="colour_by").set_value("£ per head").run()
    assert not at.exception and "(most per head)" in at.table[0].value["Class"].iloc[0]
    rule = "A fifth of LSOAs in the most deprived 10%"
    at.sidebar.selectbox(key="rule_choice").set_value(rule).run()
    at.sidebar.slider(key=f"s_{rule}_0").set_value(1.0).run()
    assert not at.exception
    assert any("No district meets" in w.value for w in at.warning)
    assert any("nothing to allocate" in e.value for e in at.error)


def test_target_progress_on_the_demo_series():
    at = run_app()
    at.sidebar.radio(key="view").set_value("Target progress").run()
    assert not at.exception and not at.error
    text = text_of(at)
    assert "group **66.7%**, the rest of England **72.0%**, gap **5.3 points**" in text
    assert "Wexley Fold: Employment rate" in text and "narrowed by" in text
    assert "straight line" in " ".join(c.value for c in at.caption)
    assert "target" in at.query_params
    at.sidebar.selectbox(key="target_choice").set_value(
        "Demo: bring the most deprived districts' crime rate to 80 per 1,000 by 2010").run()
    assert not at.exception and "crime" in text_of(at).lower()
    at.sidebar.radio(key="progress_map").set_value("value (breaks locked across periods)").run()
    first = at.table[0].value["Class"].tolist()
    at.sidebar.select_slider(key="period_demo_floor_targets.csv").set_value("2001").run()
    assert not at.exception and at.table[0].value["Class"].tolist() == first  # same breaks, another period


@pytest.mark.skipif(not (cases.SHARED / "indicators" / "imd_lad21_2004_2019.csv").is_file(), reason="no shared data")
def test_target_progress_on_the_imd_history_for_the_nrf_88(monkeypatch):
    monkeypatch.setenv("ATLAS_DATA_DIRS", f"{cases.SHARED / 'indicators'}:{cases.SHARED / 'boundaries'}")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.radio(key="view").set_value("Target progress").run()
    box = at.sidebar.selectbox(key="series_choice")
    box.select_index(next(i for i, o in enumerate(box.options) if o.endswith("imd_lad21_2004_2019.csv"))).run()
    assert not at.exception and not at.error
    text = text_of(at)
    assert "Group: 84 areas" in text and "gap **15.9 points**" in text
    assert "Method: pooled LSOA counts (LSOA 2001 counts for 2004–2010, LSOA 2011 for 2015–2019)." in text.replace("\\", "")
    legend = at.table[0].value
    assert legend.set_index("Class").loc["Target achieved", "Areas"] > 0
    assert legend["Areas"].sum() == 309  # every 2021 district drawn, from the matching boundary file


def test_the_view_lives_in_the_link_and_a_stale_link_falls_back():
    at = run_app()
    at.sidebar.radio(key="view").set_value("Neighbourhoods (LSOAs)").run()
    at.sidebar.multiselect(key="districts").set_value(["E08000905"]).run()
    at.sidebar.radio(key="kind").set_value("rank").run()
    link = dict(at.query_params)
    assert link["view"] == "lsoas" and link["districts"] == "E08000905" and link["show"] == "rank"
    # 'Link to this view' shows the same address, to copy.
    shown = [c.value for c in at.sidebar.code]
    assert any(all(f"{k}={v}" in text for k, v in link.items() if k != "districts") and "districts=E08000905" in text
               for text in shown), shown
    opened = AppTest.from_file(APP, default_timeout=60)
    for key, value in {**link, "measure": "happiness", "palette": "rainbow"}.items():
        opened.query_params[key] = value
    opened.run()
    assert not opened.exception
    assert opened.sidebar.radio(key="view").value == "Neighbourhoods (LSOAs)"
    assert opened.sidebar.radio(key="kind").value == "rank"
    assert opened.sidebar.multiselect(key="districts").value == ["E08000905"]
    notices = " ".join(i.value for i in opened.info)
    assert "measure = happiness" in notices and "palette = rainbow" in notices


def test_a_link_cannot_be_a_zip_bomb():
    import base64
    import zlib

    from geo.views.eligibility import rule_from as decode_rule

    bomb = base64.urlsafe_b64encode(zlib.compress(b"a" * 50_000_000, 9)).decode()
    with pytest.raises(AtlasError, match="damaged"):
        decode_rule(bomb, ("imd",))


def test_the_address_carries_only_the_parameters_of_the_view_on_screen():
    at = run_app()
    at.sidebar.radio(key="view").set_value("Neighbourhoods (LSOAs)").run()
    at.sidebar.radio(key="kind").set_value("rank").run()
    assert at.query_params["view"] == "lsoas" and at.query_params["show"] == "rank"
    at.sidebar.radio(key="view").set_value("Districts (England)").run()
    assert not at.exception and at.query_params["view"] == "districts" and "summary" in at.query_params
    assert "show" not in at.query_params  # the LSOA view's parameter left with it


def test_eligibility_words_follow_the_what_if_and_the_pot_reads_as_money():
    """#17: the what-if title follows N ("8 most deprived", not "50 most deprived"); the pot reads "£900m";
    the table's headers are words, not `district_code`."""
    at = run_app()
    at.sidebar.radio(key="view").set_value("Fund eligibility").run()
    rule = "NRF 2001: 50 most deprived on any of six district measures"
    at.sidebar.selectbox(key="rule_choice").set_value(rule).run()
    for i in range(3):
        at.sidebar.slider(key=f"n_{rule}_{i}").set_value(8).run()
    assert not at.exception
    plain = text_of(at).replace("\\", "")
    assert "**NRF 2001: 8 most deprived on any of six district measures (what-if)**" in plain
    assert "50 most deprived" not in " ".join(m.value.replace("\\", "") for m in at.markdown if "what-if" in m.value)
    at.toggle(key="allocate").set_value(True).run()
    assert not at.exception
    captions = [c.value for c in at.sidebar.caption]
    assert "Pot: £900m" in captions and "Floor per district: £0" in captions
    assert "£900m split" in text_of(at).replace("\\", "") and "900000000" not in text_of(at)
    table = at.dataframe[-1].value
    assert "District code" in table.columns and "district_code" not in table.columns
    assert any(b.label.startswith("Download eligibility (CSV and about.txt") for b in at.get("download_button"))


def test_progress_says_its_gap_in_one_unit():
    """#17: the target box is in the headline's units ("Narrow the gap by (percentage points)" with 2.0 beside
    "2.0 points"), the table in % and points, the trend chart's axis named with its unit."""
    at = run_app()
    at.sidebar.radio(key="view").set_value("Target progress").run()
    assert not at.exception
    box = next(n for n in at.sidebar.number_input if n.label.startswith("Narrow the gap by"))
    assert box.label == "Narrow the gap by (percentage points)"
    assert f"narrow the gap by {box.value:.1f} points" in " ".join(i.value for i in at.info).replace("\\", "")
    table = next(d.value for d in at.dataframe if "Gap" in d.value.columns)
    assert table["Group"].str.endswith("%").all() and table["Gap"].str.endswith("points").all()
    import json

    axis = json.loads(at.get("vega_lite_chart")[0].proto.spec)["encoding"]["y"]["axis"]
    assert axis["title"] == "Employment rate, 16–64 (%)" and axis["labelExpr"] == "datum.label + '%'"


@pytest.mark.panels_closed
def test_closed_panels_draw_nothing_until_opened_and_keep_their_widgets_values():
    """A first page draws no closed panel's contents (download buttons, uploaders, the legend table: each a chunk
    of Streamlit's front end to fetch before the map's frame is made, #18); opening one draws them, and a value
    typed in a panel survives closing it."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    labels = [e.label for e in at.expander]
    for label in ("Downloads", "Legend as a table", "Save or restore this session", "Story for presenting",
                  "Get real England data"):
        assert any(lab.startswith(label) for lab in labels), (label, labels)
    assert not at.get("download_button") and not at.get("file_uploader") and not at.table and not at.text_area
    at.session_state["panel_downloads"] = True
    at.run()
    assert any("Download mapped values" in b.proto.label for b in at.get("download_button"))
    at.text_input(key="slide_callout").input("Hartlepool: 21 of 58 LSOAs in decile 1").run()
    at.session_state["panel_downloads"] = False
    at.run()
    assert not at.get("download_button") and not [t for t in at.text_input if t.key == "slide_callout"]
    at.session_state["panel_downloads"] = True
    at.run()
    assert at.text_input(key="slide_callout").value == "Hartlepool: 21 of 58 LSOAs in decile 1"
    at.session_state["panel_legend"] = True
    at.run()
    assert len(at.table) == 1 and not at.exception
