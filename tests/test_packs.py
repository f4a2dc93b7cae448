"""Real-data packs built through the whole download path against a local mirror on loopback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from geo.errors import AtlasError
from geo.load.packs import PackError, fetch_release, import_release, list_packs, mirror_url, read_manifest
from tests.cases import REPO
from tests.iod2025_fixture import (
    iod2019_file7_csv,
    ons_lad19,
    ons_lsoa11,
    serve_iod2019,
    serve_iod2025,
    shared_data_available,
)
from tests.mirror import Mirror

pytestmark = pytest.mark.skipif(not shared_data_available(), reason="real open data not present (set ATLAS_SHARED_DATA)")


def test_mirror_url_keeps_path_and_query():
    assert mirror_url("https://example.org/a/b.csv?x=1", "http://127.0.0.1:9/m/") == "http://127.0.0.1:9/m/a/b.csv?x=1"
    assert mirror_url("https://example.org/a", None) == "https://example.org/a"


@pytest.fixture(scope="module")
def iod2019_pack(tmp_path_factory):
    root = tmp_path_factory.mktemp("packs")
    stages = []
    with Mirror() as mirror:
        paths = serve_iod2019(mirror)
        mirror.cut_once(paths["table"], 1_000_000)  # an interrupted transfer, resumed with Range
        pack = fetch_release("iod2019", root, mirror=mirror.url, progress=lambda s, d, t: stages.append(s))
        ranges = [r for m, p, r in mirror.requests if p == paths["table"] and m == "GET"]
    return root, pack, ranges, stages


def test_iod2019_pack_is_built_verified_and_listed(iod2019_pack):
    root, pack, ranges, stages = iod2019_pack
    m = pack.manifest
    assert (m["layers"]["lsoa"]["features"], m["layers"]["districts"]["features"], m["table"]["rows"]) == (32844, 317, 32844)
    assert len(m["indicators"]) == 8 and m["lsoa_vintage"] == "LSOA 2011"
    assert ranges[0] is None and ranges[1] == "bytes=1000000-", "the cut download resumed where it stopped"
    assert any("File 7" in s for s in stages) and any("lsoa" in s for s in stages)
    assert [p.id for p in list_packs(root)] == ["demo", "iod2019"]
    assert not (root / ".downloads" / "iod2019").exists(), "the download cache is cleared once the pack is built"
    assert not any(p.name.endswith(".building") for p in root.iterdir())


def test_pack_opens_in_the_app_readers_quickly(iod2019_pack):
    from geo.load.io import read_boundaries, read_table
    from geo.link.join import join_indicators

    _, pack, _, _ = iod2019_pack
    lsoa = read_boundaries(pack.path("lsoa"))
    _, report = join_indicators(lsoa, read_table(pack.path("table")))
    assert report.matched == 32844 and report.share_matched == 1.0


def test_corrupted_download_is_refused_deleted_and_leaves_no_pack(tmp_path):
    with Mirror() as mirror:
        paths = serve_iod2019(mirror)
        mirror.corrupt(paths["table"])
        with pytest.raises(PackError) as err:
            fetch_release("iod2019", tmp_path, mirror=mirror.url)
        assert "not usable" in err.value.message and "run the command again" in err.value.hint
        assert not (tmp_path / "iod2019").exists()
        assert not list((tmp_path / ".downloads" / "iod2019").glob("file7.csv*"))
        mirror.heal()
        assert fetch_release("iod2019", tmp_path, mirror=mirror.url).manifest["table"]["rows"] == 32844


def test_missing_source_says_how_to_download_by_hand(tmp_path):
    with Mirror() as mirror:
        paths = serve_iod2019(mirror)
        mirror.fail(paths["districts"], 404)
        with pytest.raises(PackError) as err:
            fetch_release("iod2019", tmp_path, mirror=mirror.url)
    assert "404" in err.value.message and "python -m geo data import --release iod2019 --from FOLDER" in err.value.hint
    assert "ONS Open Geography Portal" in err.value.hint
    assert [p.id for p in list_packs(tmp_path)] == ["demo"]


def test_iod2025_shaped_pack_with_lookup(tmp_path):
    with Mirror() as mirror:
        serve_iod2025(mirror)
        pack = fetch_release("iod2025", tmp_path, mirror=mirror.url)
    m = pack.manifest
    assert (m["layers"]["lsoa"]["features"], m["layers"]["districts"]["features"]) == (33755, 296)
    assert m["lsoa_vintage"] == "LSOA 2021" and pack.path("lookup").is_file()


def test_import_from_files_the_user_has(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "File_7.csv").write_bytes(iod2019_file7_csv())
    ons_lsoa11().to_file(folder / "lsoa.gpkg", engine="pyogrio")
    ons_lad19().to_parquet(folder / "lad.parquet")
    pack = import_release("iod2019", folder, tmp_path / "packs")
    assert pack.manifest["layers"]["districts"]["features"] == 317


def test_import_of_an_incomplete_folder_names_the_missing_file(tmp_path):
    (tmp_path / "File_7.csv").write_bytes(iod2019_file7_csv())
    with pytest.raises(PackError) as err:
        import_release("iod2019", tmp_path, tmp_path / "packs")
    assert "lsoa" in err.value.message and "By hand" not in err.value.message and "ONS" in err.value.hint


def test_half_written_or_damaged_packs_are_never_listed(tmp_path, iod2019_pack):
    _, pack, _, _ = iod2019_pack
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "lsoa.parquet").write_bytes(b"PAR1")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "pack.json").write_text("{not json")
    assert [p.id for p in list_packs(tmp_path)] == ["demo"]
    with pytest.raises(AtlasError, match="damaged"):
        read_manifest(tmp_path / "broken")


def test_cli_fetch_and_list(tmp_path):
    with Mirror() as mirror:
        serve_iod2019(mirror)
        run = subprocess.run([sys.executable, "-m", "geo", "data", "fetch", "iod2019", "--mirror", mirror.url,
                              "--dest", str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    listing = subprocess.run([sys.executable, "-m", "geo", "data", "list", "--dest", str(tmp_path)], cwd=REPO,
                             capture_output=True, text=True)
    assert "iod2019: English Indices of Deprivation 2019" in listing.stdout
    manifest = json.loads((tmp_path / "iod2019" / "pack.json").read_text())
    assert manifest["sources"][0]["url"].startswith("https://assets.publishing.service.gov.uk/")


def test_cli_fetch_offline_fails_clearly(tmp_path):
    run = subprocess.run([sys.executable, "-m", "geo", "data", "fetch", "iod2019", "--mirror", "http://127.0.0.1:9",
                          "--dest", str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 2 and "Could not download" in run.stderr and "Traceback" not in run.stderr

