"""The postcode → LSOA lookup: ONS's best-fit layout, kept compactly in the pack, found in any common form."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from geo.load import packs
from geo.load.packs import ImportReport, PackError, fetch_release, import_release, lookup_postcode, normalise_postcode
from tests.iod2025_fixture import iod2019_file7_csv, serve_iod2019, shared_data_available
from tests.mirror import Mirror

pytestmark = pytest.mark.skipif(not shared_data_available(), reason="real open data not present (set ATLAS_SHARED_DATA)")


def sample_lookup(column: str = "lsoa11cd") -> bytes:
    """A few rows in ONS's layout: pcd7/pcd8/pcds, dointr, doterm (empty when live), usertype, OA/LSOA/MSOA/LAD."""
    file7 = pd.read_csv(io.BytesIO(iod2019_file7_csv()), dtype=str, encoding="utf-8-sig")
    first, second = file7["LSOA code (2011)"].iloc[0], file7["LSOA code (2011)"].iloc[1]
    rows = [("TS248AA", "TS24 8AA", "TS24 8AA", "198001", "", "0", first),
            ("TS248AB", "TS24 8AB", "TS24 8AB", "198001", "200012", "0", second),  # terminated
            ("CF101AA", "CF10 1AA", "CF10 1AA", "198001", "", "1", "W01001939")]   # Wales: not kept
    frame = pd.DataFrame(rows, columns=["PCD7", "pcd8", "pcds", "dointr", "doterm", "usertype", column])
    frame["oa11cd"], frame["msoa11cd"], frame["ladcd"] = "E00000001", "E02000001", "E06000001"
    return frame.to_csv(index=False).encode()


def test_postcodes_are_normalised_from_any_common_form():
    assert {normalise_postcode(t) for t in ("ts248aa", "TS24 8AA", "TS248AA", " ts24  8aa ")} == {"TS248AA"}
    assert normalise_postcode("not a postcode") is None and normalise_postcode("SW1A 1AA") == "SW1A1AA"


@pytest.fixture(scope="module")
def pack_with_postcodes(tmp_path_factory):
    root = tmp_path_factory.mktemp("pc")
    spec = {**packs.releases()["iod2019"]["postcodes"], "url": "https://www.arcgis.com/sample/PCD_LU.zip"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("Data/PCD_LU.csv", sample_lookup())
        zf.writestr("User Guide.txt", "ONS")
    with pytest.MonkeyPatch.context() as mp, Mirror() as mirror:
        mp.setitem(packs.releases()["iod2019"], "postcodes", spec)
        serve_iod2019(mirror)
        mirror.add_file("/sample/PCD_LU.zip", buffer.getvalue())
        pack = fetch_release("iod2019", root, mirror=mirror.url, postcodes=True)
    return pack


def test_fetch_keeps_the_postcodes_of_the_release_compactly(pack_with_postcodes):
    pack = pack_with_postcodes
    assert pack.manifest["postcodes"] == {"file": "postcodes.parquet", "rows": 2, "terminated": 1}
    stored = pd.read_parquet(pack.path("postcodes"))
    assert list(stored.columns) == ["postcode", "lsoa", "terminated"] and "CF101AA" not in set(stored["postcode"])


def test_lookup_postcode_names_the_lsoa_and_district(pack_with_postcodes):
    match = lookup_postcode(pack_with_postcodes, "ts248aa")
    assert match.postcode == "TS24 8AA" and match.lsoa.startswith("E01") and not match.terminated
    assert match.district.startswith("E0") and match.district_name and match.lsoa_name
    assert lookup_postcode(pack_with_postcodes, "TS24 8AB").terminated
    assert lookup_postcode(pack_with_postcodes, "ZZ99 9ZZ") is None
    with pytest.raises(PackError, match="not a UK postcode"):
        lookup_postcode(pack_with_postcodes, "hello")


def test_import_finds_the_lookup_and_refuses_the_wrong_vintage(tmp_path):
    from tests.test_packs_import import downloads

    folder = downloads(tmp_path)
    (folder / "PCD_OA21_LSOA21_MSOA21_LAD_NOV25_UK_LU.csv").write_bytes(sample_lookup("lsoa21cd"))
    report = ImportReport({}, [], [])
    pack = import_release("iod2019", folder, tmp_path / "packs", report=report)
    assert "postcodes" not in pack.manifest
    reason = dict(report.not_used)["PCD_OA21_LSOA21_MSOA21_LAD_NOV25_UK_LU.csv"]
    assert "lsoa21cd" in reason and "needs lsoa11cd" in reason


def test_fetch_without_a_known_address_says_how_to_get_it_by_hand(tmp_path):
    with Mirror() as mirror:
        serve_iod2019(mirror)
        with pytest.raises(PackError) as err:
            fetch_release("iod2019", tmp_path, mirror=mirror.url, postcodes=True)
    assert "postcode lookup" in err.value.message
    assert "1. Open https://open-geography-portalx-ons.hub.arcgis.com/datasets/ons::postcode-to-output-area" in err.value.hint


def _postcode_box():
    import os
    from pathlib import Path

    import streamlit as st

    from geo.load.packs import read_manifest
    from ui.postcode import find_postcode

    st.session_state["found"] = find_postcode(read_manifest(Path(os.environ["POSTCODE_PACK"])),
                                              values=lambda code: {"IMD decile": 3})


def test_find_a_postcode_box_names_the_area_and_returns_its_lsoa(pack_with_postcodes, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("POSTCODE_PACK", str(pack_with_postcodes.folder))
    at = AppTest.from_function(_postcode_box, default_timeout=60).run()
    assert at.session_state["found"] is None
    at.sidebar.text_input(key="postcode").input("ts248aa").run()
    match = lookup_postcode(pack_with_postcodes, "TS24 8AA")
    assert not at.exception and at.session_state["found"] == match.lsoa
    shown = "\n".join(m.value for m in at.sidebar.markdown)
    assert "TS24 8AA" in shown and match.lsoa in shown and "IMD decile: 3" in "\n".join(c.value for c in at.caption)
    at.sidebar.text_input(key="postcode").input("TS24 8AB").run()
    assert any("terminated" in c.value for c in at.caption)
    at.sidebar.text_input(key="postcode").input("nonsense").run()
    assert at.session_state["found"] is None and any("not a UK postcode" in w.value for w in at.warning)


def test_the_app_zooms_to_a_postcode_typed_in_the_sidebar(pack_with_postcodes, monkeypatch):
    """The real app on a pack with a postcode lookup: the box names the area and the map opens focused on it."""
    from streamlit.testing.v1 import AppTest

    from tests.cases import REPO

    monkeypatch.setenv("ATLAS_PACKS_DIR", str(pack_with_postcodes.folder.parent))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180).run()
    assert not at.exception
    match = lookup_postcode(pack_with_postcodes, "TS24 8AA")
    at.sidebar.text_input(key="postcode").input("ts24 8aa").run()
    assert not at.exception and at.session_state["map_focus"] == match.lsoa  # the national LSOA map
    assert any(match.lsoa in m.value for m in at.sidebar.markdown)
    at.sidebar.radio(key="view").set_value("Districts (England)").run()
    assert not at.exception and at.session_state["map_focus"] == match.district  # a districts map: its district
