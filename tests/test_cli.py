"""The command line on the demo pack, real IoD2019 data and bad input: clear messages, non-zero exits."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

import pytest

from tests.cases import REPO

DEMO_LSOA = REPO / "boundaries" / "demo_lsoa.geojson"
DEMO_TABLE = REPO / "indicators" / "demo_iod_file7.csv"


# The command line's caches (prepared geometry, boundaries read) in a folder of the tests' own, not the checkout's
# static/geometry or ~/.cache: tests that look at the cache give their own.
CACHE = tempfile.mkdtemp(prefix="atlas-cli-cache-")


def geo(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geo", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "ATLAS_GEOMETRY_CACHE": CACHE, **(env or {})})


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


# ------------------------------------------------------------------ render: slides from a link or a view file

def _svg_text(path) -> str:
    """The text of an SVG slide, wrapped lines joined by spaces (so sentences read whole)."""
    import html

    return " ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text()))


def _png_size(path):
    from PIL import Image

    with Image.open(path) as image:
        return image.format, image.size


def test_render_default_view_of_the_demo_pack(tmp_path):
    run = geo("render", "--out", str(tmp_path / "slide.png"))
    assert run.returncode == 0, run.stderr
    assert _png_size(tmp_path / "slide.png") == ("PNG", (1920, 1080))
    assert "Wrote" in run.stdout


def test_render_from_an_app_link_matches_the_app_layer(tmp_path):
    """The link's view, measure, kind and district reach the slide: one district's LSOAs, income deciles."""
    link = "http://localhost:8501/?data=demo&view=lsoas&measure=income&show=decile&districts=E08000905&palette=cividis"
    run = geo("render", "--view", link, "--out", str(tmp_path / "s.svg"), "--callout", "$x^2$ {{7*7}}")
    assert run.returncode == 0, run.stderr
    svg = _svg_text(tmp_path / "s.svg")
    assert "Income — decile" in svg and "Illustrative demo data" in svg
    assert "$x^2$ {{7*7}}" in svg
    assert re.search(r"Most deprived 10% of LSOAs nationally: \d+ of Wexley Fold's 54", svg), svg


def test_render_from_a_toml_view_file_in_every_format(tmp_path):
    view = tmp_path / "view.toml"
    view.write_text('view = "districts"\nmeasure = "employment"\nsummary = "extent"\nscheme = "equal_interval"\n'
                    'k = 4\ntitle = "$x^2$ {{7*7}}"\ncallout = "A callout"\ntheme = "projector"\nmarks = "hatch"\n'
                    'date = 2026-01-31\n', encoding="utf-8")
    for suffix in ("png", "svg", "pdf"):
        out = tmp_path / f"slide.{suffix}"
        run = geo("render", "--view", str(view), "--out", str(out))
        assert run.returncode == 0, run.stderr
    assert _png_size(tmp_path / "slide.png") == ("PNG", (1920, 1080))
    svg = _svg_text(tmp_path / "slide.svg")
    assert "$x^2$ {{7*7}}" in svg and "Date: 31 January 2026" in svg and "Employment: Extent" in svg
    assert (tmp_path / "slide.pdf").read_bytes().startswith(b"%PDF-")


def test_render_bad_views_fail_with_a_message_not_a_traceback(tmp_path, capsys):
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("view = [unclosed\n")
    typo = tmp_path / "typo.toml"
    typo.write_text('veiw = "districts"\n')
    cases = [
        (["--view", "?view=nowhere"], "Unknown view"),
        (["--view", "?measure=happiness"], "Unknown measure"),
        (["--view", "?view=lsoas&show=median"], "Unknown show"),
        (["--view", "?view=lsoas&districts=E09999999"], "No LSOAs of district E09999999"),
        (["--view", "?scheme=astrology"], "Unknown classification"),
        (["--view", "?k=99"], "out of range"),
        (["--view", "?data=iod2031"], "No data pack 'iod2031'"),
        (["--view", "?data=upload"], "an upload"),
        (["--view", "?view=districts&rule=abc"], "The districts view has no parameter rule"),
        (["--view", "?view=progress&series=nowhere.csv"], "Unknown series 'nowhere.csv'"),
        (["--view", "ftp://example.org/?view=districts"], "neither a view file"),
        (["--view", "not a link"], "neither a view file"),
        (["--view", "http://localhost/?a=1&b"], "cannot be read"),
        (["--view", "http://localhost/?story=abc"], "none of the atlas's view parameters"),
        (["--view", str(tmp_path / "missing.toml")], "No view file"),
        (["--view", str(bad_toml)], "not valid TOML"),
        (["--view", str(typo)], "unknown keys: veiw"),
    ]
    from geo.__main__ import main

    for args, message in cases:  # in process (main() is what `python -m geo` runs), to keep this test quick
        assert main(["render", *args, "--out", str(tmp_path / "x.png")]) == 2, args
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.startswith("error:"), (args, err)
        assert message in err and "what to do:" in err, (args, err)
    # #16: change with no other release draws the current release's map and says how to get one (not an error).
    assert main(["render", "--view", "?view=change", "--out", str(tmp_path / "change.png")]) == 0
    err = capsys.readouterr().err
    assert "note [warning]: There is no other IoD release to compare with" in err and "ATLAS_DATA_DIRS" in err, err
    run = geo("render", "--out", str(tmp_path / "slide.gif"))
    assert run.returncode == 2 and ".png, .svg or .pdf" in run.stderr and ".html" in run.stderr
    assert not (tmp_path / "x.png").exists()


# ------------------------------------------------------------------ render on real IoD2019 data

def _real_args():
    from tests.cases import SHARED

    lsoa = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"
    table = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
    districts = SHARED / "boundaries" / "lad19_england_buc.gpkg"
    if not (lsoa.is_file() and table.is_file() and districts.is_file()):
        pytest.skip(f"real IoD2019 files and ONS boundaries not at {SHARED}")
    return ["--lsoa", str(lsoa), "--table", str(table), "--districts", str(districts)], table


def test_render_real_england_districts(tmp_path):
    args, _ = _real_args()
    run = geo("render", *args, "--view", "?view=districts&measure=imd&summary=average_score_rank",
              "--out", str(tmp_path / "england.svg"))
    # average_score_rank is not a summary id (ranks come with each summary): a clear error, then the real one.
    assert run.returncode == 2 and "Unknown district summary" in run.stderr, run.stderr
    run = geo("render", *args, "--view", "?view=districts&measure=imd&summary=average_score",
              "--out", str(tmp_path / "england.svg"))
    assert run.returncode == 0, run.stderr
    svg = _svg_text(tmp_path / "england.svg")
    assert "Index of Multiple Deprivation — Average score" in svg and "317 of 317 districts matched" in svg
    assert re.search(r"Darkest class, [\d.]+ – [\d.]+ \(most deprived\): 6\d of England's 317", svg), svg
    run = geo("render", *args, "--view", "?view=districts", "--out", str(tmp_path / "england.png"))
    assert run.returncode == 0 and _png_size(tmp_path / "england.png") == ("PNG", (1920, 1080))


def test_render_real_hartlepool_lsoas(tmp_path):
    import pandas as pd

    args, table = _real_args()
    run = geo("render", *args, "--view", "?view=lsoas&measure=imd&districts=E06000001", "--out",
              str(tmp_path / "hartlepool.svg"))
    assert run.returncode == 0, run.stderr
    frame = pd.read_csv(table)
    hartlepool = frame[frame["lad19cd"] == "E06000001"]
    in_top = int((hartlepool["imd_decile"] == 1).sum())
    assert len(hartlepool) == 58
    svg = _svg_text(tmp_path / "hartlepool.svg")
    assert f"Most deprived 10% of LSOAs nationally: {in_top} of Hartlepool's 58" in svg, svg


def test_render_builds_the_classes_the_app_shows_for_the_same_link():
    """The same link in the app (AppTest) and in `render`: the same legend, class by class, and the same words."""
    from streamlit.testing.v1 import AppTest

    from geo.present.classify import palette_colours
    from geo.present.render import build_view, parse_view, resolve_inputs
    from ui.common import md

    params = {"data": "demo", "view": "lsoas", "measure": "crime", "show": "rank", "districts": "E07000903,E08000902",
              "scheme": "quantiles", "k": "6", "palette": "greys"}
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params.update(params)
    at.run()
    assert not at.exception
    app_legend = at.table[0].value
    req = parse_view("?" + "&".join(f"{k}={v}" for k, v in params.items()))
    built = build_view(req, resolve_inputs(req))
    assert built.view == "lsoas" and built.values["districts"] == ["E07000903", "E08000902"]
    assert list(app_legend["Class"]) == built.classification.labels[::-1]
    assert list(app_legend["Areas"]) == built.classification.counts[::-1]
    assert built.classification.colours == palette_colours("greys", 6)
    words = "\n".join(str(m.value) for m in at.markdown)
    assert built.sentences[0].startswith("Darkest class, ")
    assert all(md(sentence) in words for sentence in built.sentences), (built.sentences, words)


def test_render_every_view_from_the_registry_on_real_data(tmp_path):
    """Change, eligibility and progress render from a link like the map views: slide, offline map and table."""
    import pandas as pd

    from tests.cases import SHARED

    args, _ = _real_args()
    iod2015 = SHARED / "indicators" / "imd2015_england_lsoa11.csv"
    history = SHARED / "indicators" / "imd_lad21_2004_2019.csv"
    lad21 = SHARED / "boundaries" / "lad21_england_buc.gpkg"
    run = geo("render", *args, "--view", "?view=eligibility", "--out", str(tmp_path / "eligibility.csv"))
    assert run.returncode == 0, run.stderr
    table = pd.read_csv(tmp_path / "eligibility.csv")
    assert len(table) == 317 and table["eligible"].sum() == 89  # the NRF 2001 preset, as in the app
    run = geo("render", *args, "--view", "?view=eligibility&allocate=1&colour_by=%C2%A3+per+head", "--out",
              str(tmp_path / "eligibility.svg"))
    assert run.returncode == 0, run.stderr
    assert "£ per head" in _svg_text(tmp_path / "eligibility.svg")
    run = geo("render", *args, "--view", "?view=change&districts=E06000001", "--other", str(iod2015),
              "--out", str(tmp_path / "change.csv"))
    assert run.returncode == 0, run.stderr
    change = pd.read_csv(tmp_path / "change.csv")
    assert {"rank_old", "rank_new", "rank_change"} <= set(change.columns) and len(change) > 30_000
    run = geo("render", *args, "--view", "?view=progress&group=nrf88", "--series", str(history),
              "--series-boundaries", str(lad21), "--out", str(tmp_path / "progress.html"))
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "progress.html").read_text()
    assert "NRF districts: narrow the gap" in page and "achieved" in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", page)  # offline: Leaflet inlined
    run = geo("render", *args, "--view", "?view=progress&group=nrf88", "--series", str(history),
              "--series-boundaries", str(lad21), "--out", str(tmp_path / "progress.csv"))
    progress = pd.read_csv(tmp_path / "progress.csv")
    assert run.returncode == 0 and progress["in_group"].sum() == 84 * progress["period"].nunique()
