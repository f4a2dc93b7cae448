"""The app on real packs (built through the loopback mirror): switching packs, districts, change, conversion."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.load.packs import fetch_release
from tests.cases import REPO
from tests.iod2025_fixture import serve_iod2019, serve_iod2025, shared_data_available
from tests.mirror import Mirror
from tests.test_app import header_of

pytestmark = pytest.mark.skipif(not shared_data_available(), reason="real open data not present (set ATLAS_SHARED_DATA)")
IOD2019 = "English Indices of Deprivation 2019"
IOD2025 = "English Indices of Deprivation 2025"


@pytest.fixture(scope="module")
def packs_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("packs")
    with Mirror() as mirror:
        serve_iod2019(mirror)
        serve_iod2025(mirror)
        fetch_release("iod2019", root, mirror=mirror.url)
        fetch_release("iod2025", root, mirror=mirror.url)
    return root


def app(monkeypatch, packs_root, data_dirs: str = "") -> AppTest:
    monkeypatch.setenv("ATLAS_PACKS_DIR", str(packs_root))
    monkeypatch.setenv("ATLAS_DATA_DIRS", data_dirs)
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()


def text_of(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def test_packs_are_listed_and_open_by_district(monkeypatch, packs_root):
    at = app(monkeypatch, packs_root)
    assert at.sidebar.radio(key="source").options[1:3] == [IOD2019, IOD2025]
    at.sidebar.radio(key="source").set_value(IOD2019).run()
    # The app opens on the newest real pack (IoD2025), whose default view is the LSOAs: choose the districts.
    at.sidebar.radio(key="view").set_value("Districts (England)").run()
    assert not at.exception and not at.error
    assert "317 of 317" in text_of(at) and "32,844 of 32,844" in text_of(at)
    assert "English Indices of Deprivation" in header_of(at) and "Illustrative" not in header_of(at)
    at.sidebar.radio(key="source").set_value(IOD2025).run()
    assert not at.exception and "296 of 296" in text_of(at) and "33,755 of 33,755" in text_of(at)


def test_district_change_between_the_two_packs(monkeypatch, packs_root):
    at = app(monkeypatch, packs_root)
    at.sidebar.radio(key="source").set_value(IOD2025).run()
    at.sidebar.radio(key="view").set_value("Change between releases").run()
    box = at.sidebar.selectbox(key="compare_with")
    box.select_index(next(i for i, o in enumerate(box.options) if o.endswith(IOD2019))).run()
    assert not at.exception and not at.error
    assert any("relative" in c.value for c in at.caption)
    assert "296 of 296" in text_of(at)


def test_lsoa2011_table_is_converted_against_2021_pack_boundaries(monkeypatch, packs_root, tmp_path):
    from tests.iod2025_fixture import iod2019_file7_csv

    (tmp_path / "File_7_2019.csv").write_bytes(iod2019_file7_csv())
    at = app(monkeypatch, packs_root, f"{tmp_path}:{packs_root / 'iod2025'}")
    at.sidebar.radio(key="source").set_value("Files in data folders").run()
    box = at.sidebar.selectbox(key="f_lsoa")
    box.select_index(next(i for i, o in enumerate(box.options) if o.endswith("iod2025/lsoa.parquet"))).run()
    box = at.sidebar.selectbox(key="f_table")
    box.select_index(next(i for i, o in enumerate(box.options) if o.endswith("File_7_2019.csv"))).run()
    at.sidebar.radio(key="view").set_value("Neighbourhoods (LSOAs)").run()
    assert not at.exception
    assert "31,907 of 33,755" in text_of(at)
    assert any("Converted 32,844 row" in i.value for i in at.info)


NRF = "NRF 2001: 50 most deprived on any of six district measures"


def test_eligibility_nrf_preset_what_if_and_release_switch(monkeypatch, packs_root):
    at = app(monkeypatch, packs_root)
    at.sidebar.radio(key="source").set_value(IOD2019).run()
    at.sidebar.radio(key="view").set_value("Fund eligibility").run()
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="rule_choice").value == NRF
    text = text_of(at)
    assert "Eligible districts: **89 of 317** (districts of 2019)" in text
    assert "the rule recovers **73 of 84** districts of 2019 (**77 of 88** authorities of 2001)" in text
    assert "stays eligible **70**" in text and "newly eligible **16**" in text and "no longer eligible **11**" in text
    assert "eligible **3**, not eligible **0**" in text  # County Durham, Cornwall, Northumberland: successors
    plain = text.replace("\\", "")  # markdown escapes
    assert "merged into County Durham (2009); the successor is eligible" in plain
    assert "48 were read from a primary table" in plain
    table = at.dataframe[-1].value
    eligible = table["Eligible"] == "yes"  # #17: the table shown in words
    assert eligible.sum() == 89 and table.loc[eligible, "Reasons"].str.len().min() > 10
    link = at.query_params["rule"]
    # What if: the 40 most deprived instead of 50.
    at.sidebar.slider(key=f"n_{NRF}_0").set_value(40).run()
    assert "Eligible districts: **89 of 317**" not in text_of(at) and at.query_params["rule"] != link
    assert "50 most deprived on any of six district measures \\(what\\-if\\)**" in text_of(at)
    # The same rule on the next release: districts of 2024, the NRF 88 placed through successor codes.
    at.sidebar.radio(key="source").set_value(IOD2025).run()
    assert not at.exception and not at.error
    assert "of 296**" in text_of(at)


def test_eligibility_allocation_reconciles(monkeypatch, packs_root):
    at = app(monkeypatch, packs_root)
    at.sidebar.radio(key="source").set_value(IOD2019).run()
    at.sidebar.radio(key="view").set_value("Fund eligibility").run()
    at.toggle(key="allocate").set_value(True).run()
    at.number_input(key="floor").set_value(2_000_000.0).run()
    assert not at.exception and not at.error
    table = at.dataframe[-1].value
    # #17: the table shown has headers and numbers in words (the penny-exact split is tested in test_eligibility)
    assert {"District code", "Allocation (£)", "£ per head"} <= set(table.columns) and "district_code" not in table
    assert table.loc[table["Eligible"] == "yes", "Allocation (£)"].str.startswith("£").all()
    assert table.loc[table["Eligible"] == "yes", "£ per head"].str.match(r"^£\d+\.\d\d$").all()
    assert "Total: **£900m**" in text_of(at)
    plain = text_of(at).replace("\\", "")
    assert "standard amount per head of population" in plain and "NRF method of 2001" in plain
    assert "Against the actual NRF allocations of 45 districts" in plain and "correlate 0.85 (Pearson)" in plain


def test_rule_from_a_link_is_restored_and_a_damaged_link_falls_back(monkeypatch, packs_root):
    from geo.derive.eligibility import parse_rule
    from geo.views.eligibility import encode_rule

    custom = parse_rule("name = 'Top 10 by extent'\n[[condition]]\nkind = 'top_n'\nmeasures = ['extent']\nn = 10")
    monkeypatch.setenv("ATLAS_PACKS_DIR", str(packs_root))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["rule"] = encode_rule(custom)
    at.run()
    at.sidebar.radio(key="source").set_value(IOD2019).run()
    at.sidebar.radio(key="view").set_value("Fund eligibility").run()
    assert at.sidebar.selectbox(key="rule_choice").value == "From the link"
    assert "Eligible districts: **10 of 317**" in text_of(at)
    broken = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    broken.query_params["rule"] = "not-a-rule"
    broken.run()
    broken.sidebar.radio(key="source").set_value(IOD2019).run()
    broken.sidebar.radio(key="view").set_value("Fund eligibility").run()
    assert not broken.exception and any("damaged" in w.value for w in broken.warning)
    assert broken.sidebar.selectbox(key="rule_choice").value == NRF


# ------------------------------------------------------------------ the first five minutes (#16)

def test_the_app_opens_on_the_newest_real_pack_with_the_demo_one_click_away(monkeypatch, packs_root):
    at = app(monkeypatch, packs_root)
    radio = at.sidebar.radio(key="source")
    assert radio.value == IOD2025 and radio.options[0].startswith("Illustrative")
    assert not at.exception and "33,755 of 33,755" in text_of(at)
    radio.set_value(radio.options[0]).run()
    assert not at.exception and "Illustrative demo data" in header_of(at)


def test_offline_download_in_the_app_says_so_in_words_with_working_links(monkeypatch, tmp_path):
    import socket
    import urllib.error

    from geo.load import packs
    from geo.load.packs import releases

    def offline(url, headers, timeout):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(packs, "_open", offline)
    monkeypatch.setattr(packs.time, "sleep", lambda s: None)
    at = app(monkeypatch, tmp_path)
    at.sidebar.button(key="fetch_go").click().run()
    assert not at.exception
    shown = "\n".join(e.value for e in at.error)
    url = releases()["iod2019"]["table"]["url"]
    assert f"]({url})" in shown, shown  # the address as a working link: nothing escaped inside it
    assert "%5C" not in shown and "urlopen" not in shown and "Errno" not in shown
    assert "no internet connection: could not reach the GOV\\.UK file server" in shown
    assert "\n1. Open GOV\\.UK" in shown and "](https://www.gov.uk/government/statistics/english-indices-of-" \
        "deprivation-2019)" in shown
    assert "`python -m geo data import --release iod2019 --from FOLDER`" in shown


def test_import_from_the_downloaded_folder_in_the_app_opens_the_pack(monkeypatch, tmp_path):
    from tests.test_packs_import import downloads

    at = app(monkeypatch, tmp_path / "packs")
    at.sidebar.text_input(key="import_folder").input(str(downloads(tmp_path))).run()
    at.sidebar.button(key="import_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.sidebar.radio(key="source").value == IOD2019
    assert any("not used: IoD2019/File\\_1" in c.value for c in at.sidebar.caption), [c.value for c in at.sidebar.caption]
    assert "32,844 of 32,844" in text_of(at)
