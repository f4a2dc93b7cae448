"""The loopback mirror of the official hosts (tests/mirror.py) and the source-shaped fixtures (tests/iod2025_fixture.py)."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import urllib.error
import urllib.parse
import urllib.request

import geopandas as gpd
import pandas as pd
import pytest

from tests import iod2025_fixture as fx
from tests.cases import REPO, SHARED, squares
from tests.mirror import Mirror

FILE7_PATH = "/media/5dc407b440f0b6379a7acc8d/File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"
QUERY = "/ESMARspQHYMw9BZ9/arcgis/rest/services/Test_Layer_BUC/FeatureServer/0/query"
PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes, every byte value

needs_shared = pytest.mark.skipif(not fx.shared_data_available(),
                                  reason=f"real open data not present at {SHARED} (set ATLAS_SHARED_DATA)")

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy: loopback only


def fetch(url: str, headers: dict | None = None, method: str = "GET", timeout: float = 10):
    """(status, headers, body) of a request; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def query(m: Mirror, path: str = QUERY, **params) -> tuple[int, dict]:
    params = {"where": "1=1", "outFields": "*", "f": "geojson", "outSR": "4326", **params}
    status, _, body = fetch(m.url + path + "?" + urllib.parse.urlencode(params))
    return status, json.loads(body)


def page_through(m: Mirror, path: str, page: int) -> list[dict]:
    """Page a layer the way the downloader does: resultOffset/resultRecordCount until no exceededTransferLimit."""
    pages, offset = [], 0
    while True:
        status, doc = query(m, path, resultOffset=offset, resultRecordCount=page, orderByFields="FID")
        assert status == 200, doc
        pages.append(doc)
        offset += len(doc["features"])
        if not doc.get("properties", {}).get("exceededTransferLimit"):
            return pages
        assert len(pages) < 1000


@pytest.fixture
def mirror():
    with Mirror() as m:
        yield m


# ---------------------------------------------------------------------------------------------
# files


def test_mirror_listens_on_loopback_only(mirror):
    assert mirror.url.startswith("http://127.0.0.1:") and mirror.port > 0
    assert mirror._server.server_address[0] == "127.0.0.1"


def test_full_get_head_and_404(mirror):
    url = mirror.add_file(FILE7_PATH, PAYLOAD)
    assert url == mirror.url + FILE7_PATH
    status, headers, body = fetch(url)
    assert (status, body) == (200, PAYLOAD)
    assert headers["Content-Length"] == str(len(PAYLOAD)) and headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Type"].startswith("text/csv")
    status, headers, body = fetch(url, method="HEAD")
    assert (status, body) == (200, b"") and headers["Content-Length"] == str(len(PAYLOAD))
    assert fetch(mirror.url + "/media/nothing.csv")[0] == 404
    assert mirror.requests == [("GET", FILE7_PATH, None), ("HEAD", FILE7_PATH, None), ("GET", "/media/nothing.csv", None)]


def test_ranges(mirror):
    url = mirror.add_file(FILE7_PATH, PAYLOAD)
    n = len(PAYLOAD)
    status, headers, body = fetch(url, {"Range": "bytes=1000-"})
    assert status == 206 and body == PAYLOAD[1000:]
    assert headers["Content-Range"] == f"bytes 1000-{n - 1}/{n}" and headers["Content-Length"] == str(n - 1000)
    status, headers, body = fetch(url, {"Range": "bytes=10-19"})
    assert (status, body, headers["Content-Range"]) == (206, PAYLOAD[10:20], f"bytes 10-19/{n}")
    status, _, body = fetch(url, {"Range": "bytes=-5"})
    assert (status, body) == (206, PAYLOAD[-5:])
    status, headers, _ = fetch(url, {"Range": f"bytes={n}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{n}"
    assert fetch(url, {"Range": "lines=1-2"})[:3:2] == (200, PAYLOAD)  # not a byte range: the whole file


def test_cut_once_then_range_resume(mirror):
    url = mirror.add_file(FILE7_PATH, PAYLOAD)
    mirror.cut_once(FILE7_PATH, after_bytes=30_000)
    with _OPENER.open(url, timeout=10) as resp:
        assert resp.status == 200 and resp.headers["Content-Length"] == str(len(PAYLOAD))  # the full length promised
        with pytest.raises(http.client.IncompleteRead) as err:
            resp.read()
    got = err.value.partial
    assert len(got) == 30_000 and got == PAYLOAD[:30_000]
    status, headers, rest = fetch(url, {"Range": f"bytes={len(got)}-"})  # resume
    assert status == 206 and got + rest == PAYLOAD
    assert fetch(url)[2] == PAYLOAD  # only once
    assert mirror.gets(FILE7_PATH) == [("GET", FILE7_PATH, None), ("GET", FILE7_PATH, "bytes=30000-"),
                                       ("GET", FILE7_PATH, None)]


def test_cut_once_applies_to_a_range_request_too(mirror):
    url = mirror.add_file(FILE7_PATH, PAYLOAD)
    mirror.cut_once(FILE7_PATH, after_bytes=10)
    with _OPENER.open(urllib.request.Request(url, headers={"Range": "bytes=100-"}), timeout=10) as resp:
        assert resp.status == 206
        with pytest.raises(http.client.IncompleteRead) as err:
            resp.read()
    assert err.value.partial == PAYLOAD[100:110]


def test_corrupt_changes_bytes_but_not_length(mirror):
    csv = b"\xef\xbb\xbfLSOA code (2011),Score\n" + b"".join(b"E0%07d,%d.5\n" % (i, i) for i in range(5000))
    url = mirror.add_file(FILE7_PATH, csv)
    mirror.corrupt(FILE7_PATH)
    status, headers, body = fetch(url)
    assert status == 200 and len(body) == len(csv) and body != csv
    assert hashlib.sha256(body).digest() != hashlib.sha256(csv).digest()
    assert body.split(b"\n", 1)[0] != csv.split(b"\n", 1)[0]  # the header line is hit: a schema check fails too
    assert fetch(url, {"Range": "bytes=0-"})[2] == body  # consistent from then on, resumable
    mirror.heal(FILE7_PATH)
    assert fetch(url)[2] == csv


def test_stall_once(mirror):
    url = mirror.add_file(FILE7_PATH, PAYLOAD)
    mirror.stall_once(FILE7_PATH, 2.0)  # longer than either client below waits (how long it takes: bench/mirror.py)
    with pytest.raises((TimeoutError, urllib.error.URLError)) as err:
        fetch(url, timeout=0.3)
    reason = err.value.reason if isinstance(err.value, urllib.error.URLError) else err.value
    assert isinstance(reason, TimeoutError), f"the client timed out waiting (not refused or reset): {reason!r}"
    assert fetch(url, timeout=1.0)[2] == PAYLOAD  # the stall was for one request only: a second one would time out
    assert len(mirror.gets(FILE7_PATH)) == 2, "both requests reached the mirror; the first was the stalled one"


def test_fail_until_healed(mirror):
    url = mirror.add_file(FILE7_PATH, PAYLOAD)
    mirror.fail(FILE7_PATH, 503)
    assert fetch(url)[0] == 503 and fetch(url)[0] == 503
    mirror.fail(FILE7_PATH, 404)
    assert fetch(url, method="HEAD")[0] == 404
    mirror.heal()
    assert fetch(url)[0] == 200


# ---------------------------------------------------------------------------------------------
# ArcGIS FeatureServer


def _layer(n: int = 7) -> gpd.GeoDataFrame:
    gdf = squares(n, codes=[f"E0100{i:04d}" for i in range(n)]).rename(columns={"code": "LSOA11CD", "name": "LSOA11NM"})
    return gdf.to_crs(27700)  # served in EPSG:4326 whatever comes in


def test_arcgis_paging(mirror):
    mirror.add_arcgis(QUERY, _layer(7), max_record_count=3)
    pages = page_through(mirror, QUERY, page=2000)  # asks for more than the cap: capped at 3
    assert [len(p["features"]) for p in pages] == [3, 3, 1]
    assert [p.get("properties", {}).get("exceededTransferLimit") for p in pages] == [True, True, None]
    assert "properties" not in pages[-1] and "exceededTransferLimit" not in pages[-1]
    feats = [f for p in pages for f in p["features"]]
    assert [f["properties"]["LSOA11CD"] for f in feats] == [f"E0100{i:04d}" for i in range(7)]
    assert set(feats[0]["properties"]) == {"LSOA11CD", "LSOA11NM"}
    got = gpd.GeoDataFrame.from_features(feats, crs=4326)
    assert abs(got.total_bounds[0] - -1.5) < 1e-6 and got.geom_type.eq("Polygon").all()
    assert query(mirror, returnCountOnly="true") == (200, {"count": 7})
    assert [len(p["features"]) for p in page_through(mirror, QUERY, page=2)] == [2, 2, 2, 1]
    status, doc = query(mirror, resultOffset=7)
    assert status == 200 and doc["features"] == [] and "properties" not in doc


def test_arcgis_query_options(mirror):
    mirror.add_arcgis(QUERY, _layer(5))
    _, doc = query(mirror, outFields="LSOA11CD", where="LSOA11CD LIKE 'E%'")
    assert len(doc["features"]) == 5 and set(doc["features"][0]["properties"]) == {"LSOA11CD"}
    _, doc = query(mirror, where="LSOA11CD = 'E01000002'", returnGeometry="false")
    assert [f["properties"]["LSOA11CD"] for f in doc["features"]] == ["E01000002"]
    assert doc["features"][0]["geometry"] is None
    assert query(mirror, where="LSOA11CD IN ('E01000001','E01000004')", returnCountOnly="true")[1] == {"count": 2}
    status, doc = query(mirror, f="json")
    assert status == 400 and doc["error"]["code"] == 400 and doc["error"]["message"]
    status, doc = query(mirror, f="pbf")
    assert status == 400 and "error" in doc
    status, doc = query(mirror, outFields="NOPE")
    assert status == 400 and "error" in doc
    status, doc = query(mirror, outSR="27700")
    assert status == 400


def test_arcgis_table_and_transfer_limit_styles(mirror):
    table = pd.DataFrame({"LSOA11CD": ["E01000001", "E01000002", "E01000003"], "LSOA21CD": ["E01000001"] * 3,
                          "CHGIND": ["U", "M", "M"]})
    mirror.add_arcgis(QUERY, table, max_record_count=2, transfer_limit="top")
    _, doc = query(mirror)
    assert doc["exceededTransferLimit"] is True and "properties" not in doc
    assert all(f["geometry"] is None for f in doc["features"]) and doc["features"][0]["properties"]["CHGIND"] == "U"
    other = QUERY.replace("Test_Layer", "Both")
    mirror.add_arcgis(other, table, max_record_count=2, transfer_limit="both")
    _, doc = query(mirror, other)
    assert doc["exceededTransferLimit"] is True and doc["properties"] == {"exceededTransferLimit": True}
    with pytest.raises(ValueError):
        mirror.add_arcgis(other, table, transfer_limit="sometimes")


def test_arcgis_faults(mirror):
    mirror.add_arcgis(QUERY, _layer(3))
    mirror.fail(QUERY, 500)
    assert query_status(mirror) == 500
    mirror.heal(QUERY)
    mirror.corrupt(QUERY)
    status, _, body = fetch(mirror.url + QUERY + "?f=geojson&where=1%3D1&outFields=*")
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)


def query_status(m: Mirror) -> int:
    return fetch(m.url + QUERY + "?f=geojson&where=1%3D1&outFields=*")[0]


# ---------------------------------------------------------------------------------------------
# fixtures shaped like the official sources


@needs_shared
def test_iod2019_file7_fixture():
    data = fx.iod2019_file7_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    demo_header = (REPO / "indicators" / "demo_iod_file7.csv").read_bytes().split(b"\n", 1)[0].rstrip(b"\r")
    assert demo_header.startswith(b"\xef\xbb\xbf") and data.split(b"\n", 1)[0] == demo_header
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert df.shape == (32844, 33) and df["LSOA code (2011)"].is_unique
    assert df["Local Authority District code (2019)"].nunique() == 317
    row = df.set_index("LSOA code (2011)").loc["E01000001"]
    assert row["Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"] == 29199
    assert row["Total population: mid 2015 (excluding prisoners)"] == 1296


@needs_shared
def test_ons_boundaries_fixture():
    lsoa, lad = fx.ons_lsoa11(), fx.ons_lad19()
    assert list(lsoa.columns) == ["LSOA11CD", "LSOA11NM", "geometry"] and len(lsoa) == 32844
    assert list(lad.columns) == ["LAD19CD", "LAD19NM", "geometry"] and len(lad) == 317
    assert lsoa.crs.to_epsg() == 4326 and lad.crs.to_epsg() == 4326
    file7 = pd.read_csv(io.BytesIO(fx.iod2019_file7_csv()), encoding="utf-8-sig", usecols=[0, 2])
    assert set(file7["LSOA code (2011)"]) == set(lsoa["LSOA11CD"])
    assert set(file7["Local Authority District code (2019)"]) == set(lad["LAD19CD"])


@needs_shared
def test_iod2025_fixture_shape_and_consistency():
    f = fx.iod2025_fixture()  # how long building it takes is a benchmark figure (bench/mirror.py), not a test
    file7 = pd.read_csv(io.BytesIO(f["file7_csv"]), encoding="utf-8-sig")
    lsoa21, lad24, lookup = f["lsoa21"], f["lad24"], f["lookup"]
    assert f["file7_csv"].startswith(b"\xef\xbb\xbf")
    assert len(file7) == len(lsoa21) == lookup["LSOA21CD"].nunique() == 33755
    assert len(lad24) == 296 and lad24["LAD24CD"].is_unique
    assert list(lsoa21.columns) == ["LSOA21CD", "LSOA21NM", "geometry"] and lsoa21.crs.to_epsg() == 4326
    assert {"LSOA11CD", "LSOA21CD", "CHGIND"} <= set(lookup.columns)
    assert set(lookup["CHGIND"]) == {"U", "M", "S", "X"} and lookup["LSOA21CD"].str.startswith("E").all()
    assert lookup["LSOA11CD"].nunique() == 32844
    codes = set(file7["LSOA code (2021)"])
    assert codes == set(lsoa21["LSOA21CD"]) == set(lookup["LSOA21CD"])
    assert set(file7["Local Authority District code (2024)"]) == set(lad24["LAD24CD"])
    assert {"E06000063", "E06000064", "E06000065", "E06000066", "E08000038", "E08000039"} <= set(lad24["LAD24CD"])
    assert not {"E07000026", "E07000163", "E07000187", "E08000016", "E08000019"} & set(lad24["LAD24CD"])
    assert lsoa21.geometry.notna().all() and not lsoa21.geometry.is_empty.any()
    # headers: 2021/2024 codes, the IoD2019 measure headers, mid-2022 denominators
    cols = list(file7.columns)
    assert cols[:4] == ["LSOA code (2021)", "LSOA name (2021)", "Local Authority District code (2024)",
                        "Local Authority District name (2024)"]
    demo = list(pd.read_csv(REPO / "indicators" / "demo_iod_file7.csv", nrows=0, encoding="utf-8-sig").columns)
    assert cols[4:28] == demo[4:28]
    assert cols[28] == "Total population: mid 2022" and all("mid 2022" in c for c in cols[28:]) and len(cols) == 33
    # ranks recomputed over all 33,755 (1 = highest score) and deciles from ranks
    n = len(file7)
    for score, rank, decile in fx.MEASURES.values():
        r, s = file7[rank + fx.RANK_SUFFIX], file7[score]
        assert sorted(r) == list(range(1, n + 1))
        assert s[r == 1].iloc[0] == s.max() and s[r == n].iloc[0] == s.min()
        assert file7[decile + fx.DECILE_SUFFIX].value_counts().sort_index().index.tolist() == list(range(1, 11))
        assert (file7[decile + fx.DECILE_SUFFIX] == (r - 1) * 10 // n + 1).all()
    assert fx.iod2025_fixture()["file7_csv"] == f["file7_csv"]  # deterministic, cached


@needs_shared
def test_whole_release_paged_through_the_mirror(mirror):
    paths = fx.serve_iod2025(mirror)
    assert paths["table"] == fx.source_path("iod2025", "table")
    status, headers, body = fetch(mirror.url + paths["table"])
    assert status == 200 and body == fx.iod2025_fixture()["file7_csv"] and headers["Accept-Ranges"] == "bytes"
    pages = page_through(mirror, paths["lsoa"], page=2000)
    assert len(pages) == 17 and sum(len(p["features"]) for p in pages) == 33755
    assert query(mirror, paths["lsoa"], returnCountOnly="true")[1] == {"count": 33755}
    codes = {f["properties"]["LSOA21CD"] for p in pages for f in p["features"]}
    assert codes == set(fx.iod2025_fixture()["lsoa21"]["LSOA21CD"])
    lookup = [f for p in page_through(mirror, paths["lookup"], page=2000) for f in p["features"]]
    assert len(lookup) == 33855 and lookup[0]["geometry"] is None
    assert {f["properties"]["LSOA21CD"] for f in lookup} == codes
    districts = page_through(mirror, paths["districts"], page=2000)
    assert len(districts) == 1 and len(districts[0]["features"]) == 296


@needs_shared
def test_iod2019_release_through_the_mirror(mirror):
    paths = fx.serve_iod2019(mirror)
    assert paths["table"] == FILE7_PATH
    assert fetch(mirror.url + FILE7_PATH)[2] == fx.iod2019_file7_csv()
    assert query(mirror, paths["lsoa"], returnCountOnly="true")[1] == {"count": 32844}
    districts = page_through(mirror, paths["districts"], page=100)
    assert [len(p["features"]) for p in districts] == [100, 100, 100, 17]
