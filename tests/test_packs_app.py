"""The app on real packs (built through the loopback mirror): switching packs, districts, change, conversion."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.packs import fetch_release
from tests.cases import REPO
from tests.iod2025_fixture import serve_iod2019, serve_iod2025, shared_data_available
from tests.mirror import Mirror

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
    assert not at.exception and not at.error
    assert "317 of 317" in text_of(at) and "32,844 of 32,844" in text_of(at)
    assert not any("Illustrative" in w.value for w in at.warning)
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
