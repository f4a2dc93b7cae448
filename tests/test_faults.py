"""Faults: damaged packs, data that disappears, a full disk and a stalled download — a clear message, nothing half-trusted.

Real parts: packs are built by the real downloader from the loopback mirror (tests/mirror.py) over
HTTP; the app runs under AppTest with its real readers; the full disk is an OSError(ENOSPC) raised
part-way through a real write (the one thing that cannot be produced for real in a test).
"""

from __future__ import annotations

import builtins
import errno
import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.load.packs import PackError, download_file, fetch_release, list_packs, read_manifest, write_pack
from tests.cases import FillsUp, REPO, geojson_bytes, squares
from tests.iod2025_fixture import serve_iod2019, shared_data_available
from tests.mirror import Mirror

needs_shared = pytest.mark.skipif(not shared_data_available(), reason="real open data not present (set ATLAS_SHARED_DATA)")
IOD2019 = "English Indices of Deprivation 2019"


# ------------------------------------------------------------------ (a) damaged or half-written packs

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A real IoD2019 pack, fetched while the mirror stalls the first request for File 7 (the retry resumes)."""
    if not shared_data_available():
        pytest.skip("real open data not present (set ATLAS_SHARED_DATA)")
    root = tmp_path_factory.mktemp("built")
    mp = pytest.MonkeyPatch()
    mp.setenv("ATLAS_DOWNLOAD_TIMEOUT", "1")
    try:
        with Mirror() as mirror:
            paths = serve_iod2019(mirror)
            mirror.stall_once(paths["table"], 4)
            pack = fetch_release("iod2019", root, mirror=mirror.url)
            gets = [r for m, p, r in mirror.requests if p == paths["table"] and m == "GET"]
    finally:
        mp.undo()
    return pack, gets


@pytest.fixture
def pack_copy(built, tmp_path):
    pack, _ = built
    shutil.copytree(pack.folder, tmp_path / "iod2019")
    return tmp_path, tmp_path / "iod2019"


@needs_shared
def test_a_stalled_request_is_retried_within_the_fetch(built):
    pack, gets = built
    assert len(gets) == 2, gets  # the stalled GET timed out after 1 s; the second one completed
    assert set(pack.manifest["files"]) == {"table.csv", "lsoa.parquet", "districts.parquet"}
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in pack.manifest["files"].values())


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _drop_file(path: Path) -> None:
    path.unlink()


DAMAGE = [  # (what is done to the copy, the file, words the error must contain)
    (_truncate, "lsoa.parquet", "incomplete"),
    (_truncate, "table.csv", "incomplete"),
    (_flip_a_byte, "districts.parquet", "does not match the checksum"),
    (_flip_a_byte, "table.csv", "does not match the checksum"),
    (_drop_file, "table.csv", "missing table.csv"),
    (_truncate, "pack.json", "damaged"),
]


@needs_shared
@pytest.mark.parametrize(("damage", "name", "words"), DAMAGE, ids=[f"{d.__name__}-{n}" for d, n, _ in DAMAGE])
def test_damaged_pack_is_refused_and_not_listed(pack_copy, damage, name, words):
    root, folder = pack_copy
    assert [p.id for p in list_packs(root)] == ["demo", "iod2019"]
    original = (folder / name).read_bytes()
    damage(folder / name)
    with pytest.raises(PackError) as err:
        read_manifest(folder)
    assert words in err.value.message and "again" in err.value.hint, err.value
    problems: list[PackError] = []
    assert [p.id for p in list_packs(root, problems)] == ["demo"], "a damaged pack is never offered"
    assert [str(p) for p in problems] == [str(err.value)]
    (folder / name).write_bytes(original)  # rebuilt / restored: trusted again
    assert [p.id for p in list_packs(root)] == ["demo", "iod2019"]


@needs_shared
def test_manifest_pointing_outside_its_folder_or_at_nothing(pack_copy):
    root, folder = pack_copy
    manifest = json.loads((folder / "pack.json").read_text())
    manifest["files"]["../../etc/passwd"] = {"bytes": 1, "sha256": "0" * 64}
    (folder / "pack.json").write_text(json.dumps(manifest))
    with pytest.raises(PackError, match="outside its folder"):
        read_manifest(folder)
    manifest["files"].pop("../../etc/passwd")
    manifest["layers"]["lsoa"]["file"] = "lsoa_v2.parquet"  # a manifest naming a file that was never written
    (folder / "pack.json").write_text(json.dumps(manifest))
    with pytest.raises(PackError, match="missing lsoa_v2.parquet"):
        read_manifest(folder)
    (folder / "pack.json").write_text("[1, 2]")
    with pytest.raises(PackError, match="does not describe a pack"):
        read_manifest(folder)


@needs_shared
def test_the_app_does_not_offer_a_damaged_pack_and_says_why(pack_copy, monkeypatch):
    root, folder = pack_copy
    _truncate(folder / "lsoa.parquet")
    monkeypatch.setenv("ATLAS_PACKS_DIR", str(root))
    monkeypatch.setenv("ATLAS_DATA_DIRS", "")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not at.exception and not at.error
    assert IOD2019 not in at.sidebar.radio(key="source").options
    warnings = [w.value for w in at.sidebar.warning]
    assert any("iod2019" in w and "incomplete" in w and "lsoa\\.parquet" in w and "build the pack again" in w
               for w in warnings), warnings


# ------------------------------------------------------------------ (c) a full disk

def test_full_disk_during_a_download_leaves_nothing_to_resume_from(tmp_path, monkeypatch):
    data = b"LSOA code (2011),value\n" + b"E01000001,1.5\n" * 20_000
    with Mirror() as mirror:
        mirror.add_file("/media/file7.csv", data)
        dest = tmp_path / "file7.csv"
        monkeypatch.setattr("geo.load.packs.open", lambda f, mode="r", *a, **k: FillsUp(builtins.open(f, mode, *a, **k),
                                                                                    50_000), raising=False)
        with pytest.raises(PackError) as err:
            download_file(f"{mirror.url}/media/file7.csv", dest, what="File 7")
        assert "disk space" in err.value.message and "Free some disk space" in err.value.hint
        assert list(tmp_path.iterdir()) == [], "neither the file nor a partial .part is left"
        assert len([r for r in mirror.requests if r[0] == "GET"]) == 1, "a full disk is not retried"
        monkeypatch.undo()
        assert download_file(f"{mirror.url}/media/file7.csv", dest).read_bytes() == data


@needs_shared
def test_full_disk_while_writing_a_pack_keeps_the_old_pack(built, tmp_path, monkeypatch):
    import geopandas as gpd

    from geo.load.io import read_boundaries, read_table

    pack, _ = built
    root = tmp_path / "packs"
    shutil.copytree(pack.folder, root / "iod2019")
    parts = {k: pack.path(k) for k in ("table", "lsoa", "districts")}
    table, lsoa, districts = read_table(parts["table"]), read_boundaries(parts["lsoa"]), read_boundaries(parts["districts"])
    real = gpd.GeoDataFrame.to_parquet

    def fills_up(self, path, *args, **kwargs):
        real(self, path, *args, **kwargs)
        if Path(path).name == "lsoa.parquet":  # half of it reached the disk, then no more room
            Path(path).write_bytes(Path(path).read_bytes()[:1000])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", fills_up)
    with pytest.raises(PackError) as err:
        write_pack("iod2019", table, lsoa, districts, root, sources=[])
    assert "disk space" in err.value.message and "ATLAS_PACKS_DIR" in err.value.hint
    assert sorted(p.name for p in root.iterdir()) == ["iod2019"], "no half-written working folder is left"
    assert read_manifest(root / "iod2019").manifest["files"] == pack.manifest["files"], "the old pack is intact"


# ------------------------------------------------------------------ (d) a stalled download

def test_stalled_download_names_the_url_keeps_nothing_trusted_and_a_retry_resumes(tmp_path):
    data = bytes(range(256)) * 400
    with Mirror() as mirror:
        path = "/media/stalls.csv"
        mirror.add_file(path, data)
        url, dest = f"{mirror.url}{path}", tmp_path / "stalls.csv"
        mirror.cut_once(path, 30_000)  # first: the connection drops after 30 kB
        with pytest.raises(PackError):
            download_file(url, dest, attempts=1, timeout=5)
        assert not dest.exists() and (tmp_path / "stalls.csv.part").stat().st_size == 30_000
        mirror.stall_once(path, 3)  # then: the server accepts and sends nothing
        with pytest.raises(PackError) as err:
            download_file(url, dest, what="File 7", attempts=1, timeout=0.5)
        assert "stalled" in err.value.message and url in err.value.message, err.value.message
        assert "run the same command again" in err.value.hint.lower() and "resumes" in err.value.hint
        assert not dest.exists(), "nothing is renamed into place before it is complete"
        assert download_file(url, dest, timeout=5).read_bytes() == data
        assert not (tmp_path / "stalls.csv.part").exists()
        ranges = [r for m, p, r in mirror.requests if p == path and m == "GET"]
    assert ranges[-1] == "bytes=30000-", ranges


def test_checksum_is_verified_before_the_file_is_trusted(tmp_path):
    with Mirror() as mirror:
        mirror.add_file("/media/f.csv", b"a,b\n1,2\n")
        with pytest.raises(PackError, match="does not match its published checksum"):
            download_file(f"{mirror.url}/media/f.csv", tmp_path / "f.csv", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ (b) a data folder that disappears

def test_data_folder_removed_while_the_app_runs(tmp_path, monkeypatch):
    folder = tmp_path / "mydata"
    folder.mkdir()
    (folder / "my_lsoa.geojson").write_bytes(geojson_bytes(squares(3)))
    (folder / "my_table.csv").write_text("code,value\nE01000001,1\nE01000002,2\nE01000003,3\n")
    monkeypatch.setenv("ATLAS_DATA_DIRS", str(folder))
    monkeypatch.setenv("ATLAS_PACKS_DIR", str(tmp_path / "packs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.sidebar.radio(key="source").set_value("Files in data folders").run()
    for key, name in (("f_lsoa", "mydata/my_lsoa.geojson"), ("f_table", "mydata/my_table.csv")):
        box = at.sidebar.selectbox(key=key)
        box.select_index(box.options.index(name)).run()
    assert not at.exception and not at.error
    assert any("3 of 3" in m.value for m in at.markdown)

    shutil.rmtree(folder)  # the folder goes away between two reruns
    at.run()
    assert not at.exception and not at.error
    warning = " ".join(w.value for w in at.warning)
    assert "No longer in the data folders" in warning and "my\\_lsoa" in warning and "my\\_table" in warning, warning
    assert not any("3 of 3" in m.value for m in at.markdown), "another file is never swapped in silently"
    assert "mydata" not in " ".join(at.sidebar.selectbox(key="f_lsoa").options)
    box = at.sidebar.selectbox(key="f_lsoa")  # the app keeps working with what is still there
    box.select_index(box.options.index("boundaries/demo_lsoa.geojson")).run()
    box = at.sidebar.selectbox(key="f_table")
    box.select_index(box.options.index("indicators/demo_iod_file7.csv")).run()
    assert not at.exception and not at.error and not at.warning
    assert any("546 of 546" in m.value for m in at.markdown), [m.value for m in at.markdown]


def test_full_disk_on_a_cli_export_names_disk_space_and_keeps_the_old_file(tmp_path, monkeypatch, capsys):
    from geo.__main__ import main

    (tmp_path / "areas.geojson").write_bytes(geojson_bytes(squares(3)))
    (tmp_path / "table.csv").write_text("code,value\nE01000001,1\nE01000002,2\nE01000003,3\n")
    out = tmp_path / "map.html"
    args = ["map", str(tmp_path / "areas.geojson"), str(tmp_path / "table.csv"), "--column", "value", "--out", str(out)]
    assert main(args) == 0 and out.stat().st_mode & 0o777 == 0o644
    before = out.read_bytes()
    real_fdopen = __import__("os").fdopen
    monkeypatch.setattr("geo.present.export.os.fdopen", lambda fd, mode: FillsUp(real_fdopen(fd, mode), 100_000))
    assert main([*args, "--title", "another map"]) == 2
    err = capsys.readouterr().err
    assert "Not enough disk space to write map.html" in err and "Free some disk space" in err, err
    assert out.read_bytes() == before, "the complete earlier export is untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["areas.geojson", "map.html", "table.csv"], "no temp file"
