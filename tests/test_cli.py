"""The command line on the demo pack and on bad input: clear messages, non-zero exits."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cases import REPO

DEMO_LSOA = REPO / "boundaries" / "demo_lsoa.geojson"
DEMO_TABLE = REPO / "indicators" / "demo_iod_file7.csv"


def geo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geo", *args], cwd=REPO, capture_output=True, text=True)


def test_join_demo(tmp_path):
    run = geo("join", str(DEMO_LSOA), str(DEMO_TABLE), "--report", str(tmp_path / "r.json"))
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["matched"] == report["boundary_rows"] == 546 and "demo" in report["vintage"]


def test_summarise_and_map_demo(tmp_path):
    run = geo("summarise", str(DEMO_TABLE), "--national-lsoas", "32844", "--out", str(tmp_path / "s.csv"))
    assert run.returncode == 0, run.stderr
    run = geo("map", str(DEMO_LSOA), str(DEMO_TABLE), "--column", "Index of Multiple Deprivation (IMD) Score",
              "--out", str(tmp_path / "m.html"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "m.html").read_text().count('"type":"Feature"') == 546


def test_bad_inputs_fail_with_a_message_not_a_traceback(tmp_path):
    vrt = tmp_path / "evil.geojson"
    vrt.write_text("<OGRVRTDataSource/>")
    for args in (["join", str(vrt), str(DEMO_TABLE), "--report", str(tmp_path / "r.json")],
                 ["join", str(tmp_path / "missing.gpkg"), str(DEMO_TABLE), "--report", str(tmp_path / "r.json")],
                 ["summarise", str(DEMO_LSOA), "--out", str(tmp_path / "s.csv")],
                 ["map", str(DEMO_LSOA), str(DEMO_TABLE), "--column", "nope", "--out", str(tmp_path / "m.html")]):
        run = geo(*args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr and run.stderr.startswith("error:")


def test_conflicting_duplicates_exit_3_with_report(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("code,v\nE01900001,1\nE01900001,2\n")
    run = geo("join", str(DEMO_LSOA), str(table), "--report", str(tmp_path / "r.json"))
    assert run.returncode == 3 and "different values" in run.stderr
    assert json.loads((tmp_path / "r.json").read_text())["blocked"] is True
