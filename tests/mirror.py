"""A local HTTP mirror of the official data hosts (GOV.UK assets and the ONS ArcGIS FeatureServer).

Tests run the whole download path (``python -m geo data fetch RELEASE --mirror URL``) against a
``Mirror`` on 127.0.0.1: the downloader swaps each URL's scheme and host for ``mirror.url`` and
keeps the path, so register content under the same paths as ``geo/reference/releases.toml``::

    with Mirror() as m:
        m.add_file("/media/.../File_7_....csv", csv_bytes)
        m.add_arcgis("/ESMARspQHYMw9BZ9/arcgis/rest/services/<Service>/FeatureServer/0/query", gdf)
        m.cut_once("/media/.../File_7_....csv", after_bytes=100_000)  # an interrupted transfer
        ... fetch with --mirror m.url ...
        assert ("GET", path, "bytes=100000-") in m.requests

Files are served with Content-Length, ``Accept-Ranges: bytes``, an ETag and ``Range: bytes=N-``
(and ``N-M``) support; HEAD is answered for every route. ArcGIS layers answer ``/query`` with
GeoJSON pages (``f=geojson``) in the way ArcGIS Online does: at most ``max_record_count``
features a page and ``"properties": {"exceededTransferLimit": true}`` on the collection while
more remain.

Fault injection (all per path, may be combined): ``cut_once`` (the next GET promises the full
length but the connection closes after N body bytes), ``corrupt`` (bytes flipped from then on),
``stall_once`` (the next GET sleeps first) and ``fail`` (always answer a status). ``heal`` clears
them. Nothing leaves the loopback interface.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pandas as pd

__all__ = ["Mirror", "ArcgisLayer"]

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def corrupt_bytes(data: bytes) -> bytes:
    """Flip one bit in a handful of bytes spread through ``data`` (same length, so Range still lines up).

    One flip sits early in the first line (the CSV header or the start of a JSON document), so a
    schema check fails as well as a checksum.
    """
    if not data:
        return data
    buf = bytearray(data)
    n = len(buf)
    first_line = buf.find(b"\n")
    first_line = n if first_line < 0 else first_line
    positions = {min(n - 1, max(0, first_line // 3)), min(n - 1, 2)}
    positions.update(n * i // 8 for i in range(1, 8))
    for p in positions:
        buf[p] ^= 0x01
    return bytes(buf)


@dataclass
class ArcgisLayer:
    """One FeatureServer layer: the attribute frame, GeoJSON geometry strings (or None) and the page cap."""

    frame: pd.DataFrame
    geometry: list[str | None]
    max_record_count: int = 2000
    transfer_limit: str = "properties"  # "properties" (ArcGIS Online's geojson), "top" or "both"

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class _Route:
    kind: str  # "file" | "arcgis"
    data: bytes = b""
    layer: ArcgisLayer | None = None
    content_type: str = "application/octet-stream"


@dataclass
class _Faults:
    cut: dict[str, int] = field(default_factory=dict)
    stall: dict[str, float] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)


class ArcgisError(Exception):
    def __init__(self, message: str, details: list[str] | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.details, self.status = message, details or [], status

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.status, "extendedCode": -2147467259, "message": self.message,
                                     "details": self.details}}).encode()


def _where_mask(frame: pd.DataFrame, where: str) -> pd.Series:
    """The small part of ArcGIS SQL that a downloader needs: 1=1, FIELD = 'v', FIELD LIKE 'p%', FIELD IN (...)."""
    w = where.strip()
    if w in ("", "1=1", "1 = 1"):
        return pd.Series(True, index=frame.index)
    cols = {c.upper(): c for c in frame.columns}

    def column(name: str) -> pd.Series:
        if name.upper() not in cols:
            raise ArcgisError("Unable to complete operation.", [f"'Invalid field: {name}' parameter is invalid"])
        return frame[cols[name.upper()]].astype(str)

    m = re.fullmatch(r"(\w+)\s+LIKE\s+'([^']*)'", w, flags=re.I)
    if m:
        pattern = "^" + re.escape(m.group(2)).replace("%", ".*").replace("_", ".") + "$"
        return column(m.group(1)).str.match(pattern)
    m = re.fullmatch(r"(\w+)\s*=\s*'([^']*)'", w)
    if m:
        return column(m.group(1)) == m.group(2)
    m = re.fullmatch(r"(\w+)\s+IN\s*\((.*)\)", w, flags=re.I)
    if m:
        values = re.findall(r"'([^']*)'", m.group(2))
        return column(m.group(1)).isin(values)
    raise ArcgisError("Unable to complete operation.", [f"'where' parameter is invalid: {where}"])


def _json_value(v):
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def arcgis_query(layer: ArcgisLayer, query: str) -> bytes:
    """Answer a FeatureServer ``/query`` request (raises ArcgisError for a bad one)."""
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    fmt = params.get("f", "html").lower()
    if fmt != "geojson":
        raise ArcgisError("Invalid or missing input parameters.", [f"'f' parameter is invalid: {fmt!r}; "
                                                                   "this mirror serves f=geojson only"])
    out_sr = params.get("outSR", "4326").strip()
    if out_sr not in ("4326", '{"wkid":4326}', '{"wkid": 4326}', ""):
        raise ArcgisError("Invalid or missing input parameters.", [f"'outSR' parameter is invalid: {out_sr}"])
    frame = layer.frame
    mask = _where_mask(frame, params.get("where", "1=1"))
    idx = [i for i, keep in enumerate(mask.to_numpy()) if keep]
    if params.get("returnCountOnly", "false").lower() == "true":
        return json.dumps({"count": len(idx)}).encode()
    out_fields = params.get("outFields", "*").strip()
    if out_fields in ("", "*"):
        fields = list(frame.columns)
    else:
        cols = {c.upper(): c for c in frame.columns}
        fields = []
        for name in (f.strip() for f in out_fields.split(",")):
            if name.upper() not in cols:
                raise ArcgisError("Unable to complete operation.", [f"'Invalid field: {name}' parameter is invalid"])
            fields.append(cols[name.upper()])
    try:
        offset = int(params.get("resultOffset", "0") or 0)
        requested = int(params.get("resultRecordCount", str(layer.max_record_count)) or layer.max_record_count)
    except ValueError as exc:
        raise ArcgisError("Invalid or missing input parameters.", [str(exc)]) from exc
    if offset < 0 or requested < 0:
        raise ArcgisError("Invalid or missing input parameters.", ["negative resultOffset or resultRecordCount"])
    count = min(requested, layer.max_record_count)
    page = idx[offset:offset + count]
    with_geometry = params.get("returnGeometry", "true").lower() != "false"
    parts = []
    sub = frame[fields]
    records = sub.to_numpy(dtype=object)
    for i in page:
        props = {name: _json_value(v) for name, v in zip(fields, records[i])}
        geom = layer.geometry[i] if with_geometry else None
        parts.append('{"type":"Feature","id":%d,"geometry":%s,"properties":%s}'
                     % (i + 1, geom or "null", json.dumps(props, ensure_ascii=False)))
    head = '{"type":"FeatureCollection"'
    if offset + len(page) < len(idx):
        if layer.transfer_limit in ("properties", "both"):
            head += ',"properties":{"exceededTransferLimit":true}'
        if layer.transfer_limit in ("top", "both"):
            head += ',"exceededTransferLimit":true'
    return (head + ',"features":[' + ",".join(parts) + "]}").encode()


def _layer_from(features, max_record_count: int, transfer_limit: str) -> ArcgisLayer:
    import geopandas as gpd
    import shapely

    if isinstance(features, gpd.GeoDataFrame):
        gdf = features
        if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
            gdf = gdf.to_crs(4326)
        geoms = gdf.geometry.to_numpy()
        texts = shapely.to_geojson(geoms)
        geometry = [None if (g is None or shapely.is_empty(g)) else t for g, t in zip(geoms, texts)]
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    else:
        frame = pd.DataFrame(features)
        geometry = [None] * len(frame)
    return ArcgisLayer(frame.reset_index(drop=True), geometry, max_record_count, transfer_limit)


class Mirror:
    """A threaded HTTP server on 127.0.0.1 (free port) imitating the official hosts; a context manager.

    ``url`` is the base URL (``http://127.0.0.1:PORT``). ``requests`` records ``(method, path, range)``
    for each request (path without the query string; range is the Range header or None), and
    ``queries`` the full request targets, in arrival order.
    """

    def __init__(self) -> None:
        self._routes: dict[str, _Route] = {}
        self._faults = _Faults()
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, str | None]] = []
        self.queries: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Mirror:
        if self._server is not None:
            return self
        handler = _make_handler(self)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.block_on_close = False  # a stalled handler must not hold up close()
        self._server = server
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"mirror-{self.port}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Mirror:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- content -----------------------------------------------------------------------------
    def add_file(self, path: str, data: bytes, content_type: str | None = None) -> str:
        """Serve ``data`` at URL ``path``; returns the full URL."""
        path = _norm(path)
        if content_type is None:
            content_type = "text/csv; charset=utf-8" if path.lower().endswith(".csv") else "application/octet-stream"
        with self._lock:
            self._routes[path] = _Route("file", data=bytes(data), content_type=content_type)
        return self.url + path

    def add_arcgis(self, path: str, features, max_record_count: int = 2000,
                   transfer_limit: str = "properties") -> str:
        """Serve a FeatureServer layer at ``path`` (the ``.../FeatureServer/0/query`` path); returns the URL.

        ``features``: a GeoDataFrame (geometry reprojected to EPSG:4326) or a plain DataFrame (a
        table: ``"geometry": null``). ``transfer_limit`` says where a page that leaves features
        behind carries ``exceededTransferLimit: true``: ``"properties"`` (``{"properties":
        {"exceededTransferLimit": true}}`` on the collection, as ArcGIS Online's f=geojson does),
        ``"top"`` (a top-level member, as in f=json) or ``"both"``.
        """
        if transfer_limit not in ("properties", "top", "both"):
            raise ValueError(f"transfer_limit must be properties, top or both, not {transfer_limit!r}")
        path = _norm(path)
        layer = _layer_from(features, max_record_count, transfer_limit)
        with self._lock:
            self._routes[path] = _Route("arcgis", layer=layer, content_type="application/geo+json; charset=utf-8")
        return self.url + path

    def layer(self, path: str) -> ArcgisLayer:
        return self._routes[_norm(path)].layer

    # -- faults ------------------------------------------------------------------------------
    def cut_once(self, path: str, after_bytes: int) -> None:
        """The next GET of ``path`` sends headers for the full length, then closes after ``after_bytes`` body bytes."""
        with self._lock:
            self._faults.cut[_norm(path)] = int(after_bytes)

    def corrupt(self, path: str) -> None:
        """From now on serve ``path`` with a few bytes flipped (same length), so checksums and schema checks fail."""
        with self._lock:
            self._faults.corrupt.add(_norm(path))

    def stall_once(self, path: str, seconds: float) -> None:
        """The next GET of ``path`` sleeps ``seconds`` before sending anything."""
        with self._lock:
            self._faults.stall[_norm(path)] = float(seconds)

    def fail(self, path: str, status: int) -> None:
        """Always answer ``path`` with HTTP ``status`` (until ``heal``)."""
        with self._lock:
            self._faults.fail[_norm(path)] = int(status)

    def heal(self, path: str | None = None) -> None:
        """Clear the faults of ``path`` (or of every path)."""
        with self._lock:
            if path is None:
                self._faults = _Faults()
                return
            p = _norm(path)
            self._faults.cut.pop(p, None)
            self._faults.stall.pop(p, None)
            self._faults.fail.pop(p, None)
            self._faults.corrupt.discard(p)

    def gets(self, path: str) -> list[tuple[str, str, str | None]]:
        """The recorded GET requests of ``path``."""
        p = _norm(path)
        with self._lock:
            return [r for r in self.requests if r[0] == "GET" and r[1] == p]

    # -- used by the handler -----------------------------------------------------------------
    def _take(self, method: str, path: str, target: str, rng: str | None):
        with self._lock:
            self.requests.append((method, path, rng))
            self.queries.append(target)
            route = self._routes.get(path)
            status = self._faults.fail.get(path)
            corrupt = path in self._faults.corrupt
            cut = stall = None
            if method == "GET":
                cut = self._faults.cut.pop(path, None)
                stall = self._faults.stall.pop(path, None)
        return route, status, corrupt, cut, stall


def _norm(path: str) -> str:
    p = urlsplit(path).path if "://" in path else path.split("?", 1)[0]
    return p if p.startswith("/") else "/" + p


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _make_handler(mirror: Mirror):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AtlasMirror/1.0"
        sys_version = ""

        def log_message(self, format, *args):  # quiet
            pass

        def do_HEAD(self):
            self._serve(head=True)

        def do_GET(self):
            self._serve(head=False)

        def _serve(self, head: bool):
            split = urlsplit(self.path)
            path = split.path
            rng = self.headers.get("Range")
            route, fail_status, corrupt, cut, stall = mirror._take(self.command, path, self.path, rng)
            if stall:
                time.sleep(stall)
            if fail_status is not None:
                body = json.dumps({"error": {"code": fail_status, "message": _phrase(fail_status)}}).encode()
                return self._send(fail_status, body, "application/json", head=head, cut=cut)
            if route is None:
                return self._send(404, b"Not Found\n", "text/plain; charset=utf-8", head=head)
            if route.kind == "arcgis":
                try:
                    body = arcgis_query(route.layer, split.query)
                except ArcgisError as err:
                    return self._send(err.status, err.body(), "application/json; charset=utf-8", head=head)
                if corrupt:
                    body = corrupt_bytes(body)
                return self._send(200, body, route.content_type, head=head, cut=cut)
            data = corrupt_bytes(route.data) if corrupt else route.data
            self._send_file(data, route.content_type, rng, head=head, cut=cut)

        def _send_file(self, data: bytes, ctype: str, rng: str | None, head: bool, cut: int | None):
            n = len(data)
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            extra = {"Accept-Ranges": "bytes", "ETag": etag}
            if rng:
                m = _RANGE.match(rng)
                if m and (m.group(1) or m.group(2)):
                    if m.group(1):
                        start = int(m.group(1))
                        end = min(int(m.group(2)), n - 1) if m.group(2) else n - 1
                    else:  # suffix range: the last N bytes
                        start, end = max(0, n - int(m.group(2))), n - 1
                    if start >= n or end < start:
                        extra["Content-Range"] = f"bytes */{n}"
                        return self._send(416, b"", ctype, head=head, extra=extra)
                    extra["Content-Range"] = f"bytes {start}-{end}/{n}"
                    return self._send(206, data[start:end + 1], ctype, head=head, cut=cut, extra=extra)
            return self._send(200, data, ctype, head=head, cut=cut, extra=extra)

        def _send(self, status: int, body: bytes, ctype: str, head: bool, cut: int | None = None,
                  extra: dict[str, str] | None = None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            if cut is not None and not head:
                self.send_header("Connection", "close")
            self.end_headers()
            if head:
                return
            try:
                if cut is not None and cut < len(body):
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler
