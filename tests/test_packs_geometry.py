"""A pack's national map prepared when the pack is built (#18): the key written at build time is the one the app
computes when it first maps the pack, so the first open finds the geometry instead of preparing it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import geo.present.mapping
import geo.settings
from geo.load.packs import fetch_release, list_packs, prepare_pack_geometry
from tests import cases
from tests.iod2025_fixture import serve_iod2019, shared_data_available
from tests.mirror import Mirror

APP = str(cases.REPO / "app.py")


def files_of(store) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in store.iterdir()} if store.is_dir() else {}


def app_keys(monkeypatch, store, view: str | None = None) -> tuple[AppTest, list[str]]:
    """Run the app with its geometry store at `store`, recording the content key of every map it prepares."""
    import ui.mapview

    keys: list[str] = []
    real = geo.present.mapping.prepare_geometry

    def recording(*args, **kwargs):
        prepared = real(*args, **kwargs)
        keys.append(prepared.key)
        return prepared

    monkeypatch.setattr(geo.present.mapping, "prepare_geometry", recording)
    monkeypatch.setattr(ui.mapview, "GEOMETRY_STORE", store)
    at = AppTest.from_file(APP, default_timeout=300).run()
    if view:
        at.sidebar.radio(key="view").set_value(view).run()
    assert not at.exception, at.exception
    return at, keys


def test_demo_pack_prepared_at_build_is_what_the_app_finds(monkeypatch, tmp_path):
    # The demo's 546 LSOAs are drawn as SVG; drawn on a canvas (as a real pack's are), they need prepared geometry.
    monkeypatch.setitem(geo.settings.DEFAULTS, "canvas_min_features", 100)
    store = tmp_path / "geometry"
    demo = {p.id: p for p in list_packs()}["demo"]
    key = prepare_pack_geometry(demo, store)
    assert key and (store / f"{key}.meta.json").is_file()
    before = files_of(store)
    _, keys = app_keys(monkeypatch, store, "Neighbourhoods (LSOAs)")
    assert keys and set(keys) == {key}, "the app's first map has the key computed when the pack was built"
    # The live map's base (b-*.json: outlines, names, search data; ~10 ms) is the app's own to write; the
    # geometry, the slow part, was all there.
    written = {name: v for name, v in files_of(store).items() if not name.startswith("b-")}
    assert written == before, "the app found every geometry file prepared at build time and wrote none"


def test_a_layer_the_build_did_not_prepare_is_prepared_by_the_app(monkeypatch, tmp_path):
    """The test above can fail: a store the build did not fill is written to by the app's first map."""
    monkeypatch.setitem(geo.settings.DEFAULTS, "canvas_min_features", 100)
    store = tmp_path / "geometry"
    _, keys = app_keys(monkeypatch, store, "Neighbourhoods (LSOAs)")
    assert keys and (store / f"{keys[0]}.meta.json").is_file()


@pytest.mark.skipif(not shared_data_available(), reason="real open data not present (set ATLAS_SHARED_DATA)")
def test_fetched_iod2019_pack_opens_on_geometry_prepared_at_build(monkeypatch, tmp_path):
    root, store = tmp_path / "packs", tmp_path / "geometry"
    stages = []
    with Mirror() as mirror:
        serve_iod2019(mirror)
        pack = fetch_release("iod2019", root, mirror=mirror.url, geometry_store=store,
                             progress=lambda s, d, t: stages.append(s))
    assert any("preparing the national map" in s for s in stages)
    metas = [p.name for p in store.iterdir() if p.name.endswith(".meta.json")]
    assert len(metas) == 1
    before = files_of(store)
    monkeypatch.setenv("ATLAS_PACKS_DIR", str(root))
    at, keys = app_keys(monkeypatch, store)  # opens on the newest real pack: all 32,844 LSOAs
    assert at.sidebar.radio(key="source").value == pack.label
    assert at.sidebar.radio(key="view").value == "Neighbourhoods (LSOAs)"
    assert keys and keys[0] == metas[0].split(".")[0]
    written = {name: v for name, v in files_of(store).items() if not name.startswith("b-")}  # the live map's base
    assert written == before, "the first open prepared no geometry: it found the build's files"
