"""A named bench of tiny edge cases, built by code: squares, codes and tables small enough to check by hand."""

from __future__ import annotations

import errno
import io
import json
import os
import socket
import sqlite3
import urllib.request
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, Polygon, box

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED = Path(os.environ.get("ATLAS_SHARED_DATA", SHARED))
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_healthy(url: str) -> bool:
    """True when a Streamlit server at `url` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except OSError:
        return False


def squares(n: int = 3, x0: float = -1.5, y0: float = 53.8, size: float = 0.01, crs: str | None = "EPSG:4326",
            codes: list[str] | None = None, names: list[str] | None = None) -> gpd.GeoDataFrame:
    """A row of n unit squares (lon/lat near Leeds by default) with LSOA-style codes."""
    codes = codes or [f"E0100000{i + 1}" for i in range(n)]
    names = names or [f"Area {i + 1}" for i in range(n)]
    geoms = [box(x0 + i * size, y0, x0 + (i + 1) * size, y0 + size) for i in range(n)]
    return gpd.GeoDataFrame({"code": codes, "name": names}, geometry=geoms, crs=crs)


def bowtie() -> Polygon:
    """A self-intersecting polygon (invalid until repaired)."""
    return Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])


def geojson_bytes(gdf: gpd.GeoDataFrame, crs_member: str | None = None) -> bytes:
    doc = json.loads(gdf.to_json(drop_id=True))
    doc.pop("crs", None)  # plain RFC 7946 unless a legacy member is asked for
    if crs_member:
        doc["crs"] = {"type": "name", "properties": {"name": crs_member}}
    return json.dumps(doc).encode()


def gpkg_bytes(tmp: Path, layers: dict[str, gpd.GeoDataFrame], table: pd.DataFrame | None = None) -> bytes:
    path = tmp / "layers.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    if table is not None:
        import pyogrio

        pyogrio.write_dataframe(table, path, layer="attributes", driver="GPKG")
    return path.read_bytes()


def plain_sqlite_bytes(tmp: Path) -> bytes:
    path = tmp / "plain.sqlite"
    con = sqlite3.connect(path)
    con.execute("create table t (a int)")
    con.commit()
    con.close()
    return path.read_bytes()


def shapefile_zip(tmp: Path, gdf: gpd.GeoDataFrame, drop: tuple[str, ...] = (), prefix: str = "") -> bytes:
    folder = tmp / "shp"
    folder.mkdir(exist_ok=True)
    gdf.to_file(folder / "areas.shp", engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.iterdir()):
            if part.suffix not in drop:
                zf.write(part, prefix + part.name)
    return buf.getvalue()


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("areas.shp", b"\x00" * 50_000_000)
        zf.writestr("areas.shx", b"\x00" * 100)
        zf.writestr("areas.dbf", b"\x00" * 100)
    return buf.getvalue()


def points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["E01000001"]}, geometry=[Point(-1.5, 53.8)], crs=4326)


VRT = b"""<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"""
KML = b"""<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>x</name></Placemark></kml>"""


class FillsUp:
    """A real file whose writes fail with ENOSPC once `room` bytes have been written (the disk fills part-way)."""

    def __init__(self, fh, room: int):
        self.fh, self.room = fh, room

    def write(self, data):
        if len(data) > self.room:
            self.fh.write(data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.fh.__exit__(*exc)
