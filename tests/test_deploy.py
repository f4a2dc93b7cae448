"""The team deployment (deploy/): two replicas behind Caddy, started by deploy/launch.py, in headless Chromium.

One launch for the module: the front end comes back compressed through the proxy (bytes of a first load, direct
and through the proxy, are written to tests/artifacts/deploy_bytes.json); a session sticks to one replica by
cookie and, when that replica is killed mid-session, reconnects through the proxy to the other, where (the page
sees the proxy's new cookie and reloads itself: Streamlit does not rerun on a reconnect) the session is rebuilt
from the address, with its map;
geometry is answered by the proxy from the shared folder with the immutable header; SIGTERM stops it all.
Skips when caddy is not installed (CI installs it: .ci/run). $ATLAS_TEST_DEPLOY_PORTS=proxy,replica,replica
pins the ports (default: free ones).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.cases import free_port, squares
from tests.test_browser import (  # noqa: F401 — fixtures used by name
    ARTIFACTS,
    CHROMIUM,
    LOCAL_PREFIXES,
    VIEWPORT,
    _eval,
    browser,
    map_frame,
    wait_for,
    wait_idle,
)
from tests.test_browser_state import TITLE, _checked

ROOT = Path(__file__).resolve().parent.parent
CADDY = shutil.which("caddy") or "/usr/bin/caddy"
VIEW = "?view=lsoas&show=rank&palette=cividis"  # what the app writes to the address (ui/permalink.py)
IMMUTABLE = "public, max-age=31536000, immutable"
LAUNCH_TIMEOUT = 120.0
LB_SECRET = secrets.token_hex(16)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not found at {CHROMIUM}"),
    pytest.mark.skipif(not Path(CADDY).is_file(),
                       reason="caddy is not installed (apt-get install caddy); CI installs it in .ci/run"),
]


def _ports() -> list[int]:
    given = os.environ.get("ATLAS_TEST_DEPLOY_PORTS")
    return [int(p) for p in given.split(",")] if given else [free_port() for _ in range(3)]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """deploy/launch.py with two replicas on the demo (an empty packs folder); yields its launch.json plus `proc`."""
    base = tmp_path_factory.mktemp("deploy")
    # The geometry folder is the replicas' own store (the app's static/geometry/, the launcher's default): the
    # live map's base and the canvas geometry that they write are what the proxy answers.
    run_dir, packs = base / "run", base / "packs"
    packs.mkdir()
    proxy_port, *replicas = _ports()
    log_path = ARTIFACTS / "deploy_launch.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "ATLAS_COOKIE_SECRET"}  # the launcher makes one
    env["ATLAS_LB_SECRET"] = LB_SECRET  # known here, so a cookie can be told to name a replica
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "deploy/launch.py", "--port", str(proxy_port), "--replicas", ",".join(map(str, replicas)),
             "--run-dir", str(run_dir), "--packs-dir", str(packs)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        state_file = run_dir / "launch.json"
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while not state_file.is_file():
            if proc.poll() is not None:
                pytest.fail(f"deploy/launch.py exited with code {proc.returncode}; log: {log_path}")
            if time.monotonic() > deadline:
                pytest.fail(f"deploy/launch.py not ready after {LAUNCH_TIMEOUT:.0f} s; log: {log_path}")
            time.sleep(0.25)
        state = json.loads(state_file.read_text())
        yield {**state, "proc": proc, "log": log_path}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
        for path in run_dir.glob("*.log"):  # kept for a failing run
            shutil.copyfile(path, ARTIFACTS / f"deploy_{path.name}")


def _replica_url(state, index: int) -> str:
    return f"http://127.0.0.1:{state['replicas'][index]['port']}/"


def _live_replica_url(state) -> str:
    """A replica still listening (the failover test kills one)."""
    return next(f"http://127.0.0.1:{r['port']}/" for r in state["replicas"] if _listening(r["port"]))


class Network:
    """One page's traffic: bytes of every HTTP response (CDP Network events), its websockets and their script runs."""

    def __init__(self, context, page, cache: bool = False):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._forward = ForwardMsg
        self.responses: dict[str, dict] = {}
        self.sockets: dict[str, dict] = {}
        self.external: list[str] = []
        self._last, self._since = (0, 0), time.monotonic()
        cdp = context.new_cdp_session(page)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": not cache})  # the tests count every byte
        page.on("websocket", self._socket)
        page.on("request", lambda r: None if r.url.startswith(LOCAL_PREFIXES) else self.external.append(r.url))

    def _response(self, e):
        headers = {k.lower(): v for k, v in e["response"]["headers"].items()}
        self.responses[e["requestId"]] = {"url": e["response"]["url"], "headers": headers, "bytes": 0}

    def _finished(self, e):
        if e["requestId"] in self.responses:
            self.responses[e["requestId"]]["bytes"] = e["encodedDataLength"]

    def _socket(self, ws):
        sock = {"url": ws.url, "frames": 0, "runs_finished": 0, "closed": False}
        self.sockets[str(len(self.sockets))] = sock
        ws.on("close", lambda _ws: sock.update(closed=True))
        ws.on("framereceived", lambda payload: self._frame(sock, payload))

    def _frame(self, sock, payload):
        sock["frames"] += 1
        if isinstance(payload, bytes) and len(payload) < 512:  # a ForwardMsg; script_finished ones are a few bytes
            msg = self._forward()
            try:
                msg.ParseFromString(payload)
            except Exception:  # noqa: BLE001 — not a ForwardMsg
                return
            if msg.WhichOneof("type") == "script_finished":
                sock["runs_finished"] += 1

    def total_bytes(self) -> int:
        return sum(r["bytes"] for r in self.responses.values())

    def frontend_js(self) -> list[dict]:
        """Streamlit's own front end (/static/js/*.js; components are served, and gzipped, elsewhere)."""
        return [r for r in self.responses.values() if urlsplit(r["url"]).path.startswith("/static/js/")]

    def settled(self, quiet: float = 1.5) -> bool:
        """No response started or finished for `quiet` seconds (networkidle never comes with a live websocket)."""
        seen = (len(self.responses), self.total_bytes())
        if seen != self._last:
            self._last, self._since = seen, time.monotonic()
        return time.monotonic() - self._since >= quiet


def pumped(page, predicate):
    """`predicate` for wait_for, letting Playwright deliver its events (the CDP ones) between polls."""
    def check():
        page.wait_for_timeout(50)
        return predicate()
    return check


def _sticky_cookie(port: str) -> str:
    """The value Caddy's `lb_policy cookie` gives a session held by the replica on `port`: HMAC-SHA256 of its address."""
    return hmac.new(LB_SECRET.encode(), f"127.0.0.1:{port}".encode(), hashlib.sha256).hexdigest()


def _load(browser, url: str):  # noqa: F811
    """A fresh context and page (empty cache) on `url`, with its Network recorder; returns (context, page, net)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    net = Network(context, page)
    page.set_default_timeout(30_000)
    page.goto(url, wait_until="domcontentloaded")
    wait_idle(page)
    return context, page, net


def test_front_end_is_gzipped_through_the_proxy(browser, deployment):  # noqa: F811
    figures = {}
    for name, base in (("direct", _replica_url(deployment, 0)), ("proxy", deployment["url"])):
        context, page, net = _load(browser, base + VIEW)
        try:
            frame = map_frame(page, min_paths=401)
            wait_for(lambda f=frame: "rank" in _eval(f, TITLE, "").lower(), 30, "the rank map")
            wait_for(pumped(page, net.settled), 30, "the page load to finish", interval=0.25)
            js = net.frontend_js()
            assert js, f"no front-end JS seen loading {base}"
            figures[name] = {"total_bytes": net.total_bytes(), "responses": len(net.responses),
                             "frontend_js_files": len(js), "frontend_js_bytes": sum(r["bytes"] for r in js),
                             "js_encodings": sorted({r["headers"].get("content-encoding", "identity") for r in js}),
                             "uncompressed_js_over_512_bytes": sum("content-encoding" not in r["headers"]
                                                                   and int(r["headers"].get("content-length", 0)) >= 512
                                                                   for r in js)}
            # Through the proxy Streamlit's front end comes from the launcher's compressed copy on disk, not from a
            # replica (a proxied response names its replica in X-Atlas-Replica), with a year's immutable caching.
            figures[name]["js_from_a_replica"] = sum("x-atlas-replica" in r["headers"] for r in js)
            figures[name]["js_immutable"] = sum("immutable" in r["headers"].get("cache-control", "") for r in js)
            assert net.external == [], net.external
            urls = [r["url"] for r in js]
            # Streamlit's icon font: through the proxy the cut one (deploy/launch.py), and every icon on the page
            # is drawn as its glyph, about 1 em wide (an icon missing from the cut would show its name as text).
            fonts = [r for r in net.responses.values() if "/MaterialSymbols-Rounded." in r["url"]]
            icons = page.evaluate("""() => [...document.querySelectorAll('[data-testid=stIconMaterial]')]
                .filter(e => e.getBoundingClientRect().width > 0)
                .map(e => [e.textContent, e.getBoundingClientRect().width / parseFloat(getComputedStyle(e).fontSize)])""")
            figures[name]["icon_font_bytes"] = sum(r["bytes"] for r in fonts)
            figures[name]["icons"] = len(icons)
            assert len(fonts) == 1 and len(icons) >= 3, (fonts, icons)
            assert all(width <= 1.2 for _, width in icons), icons
        finally:
            context.close()
    # A client that offers only gzip (Chromium also offers zstd, which Caddy prefers) gets gzip for the same files;
    # Caddy leaves bodies under 512 bytes (its minimum_length) as they are.
    gzipped = [_get(url, {"Accept-Encoding": "gzip"}) for url in urls]
    plain = [(url, len(body)) for url, (status, headers, body) in zip(urls, gzipped)
             if status != 200 or headers.get("content-encoding") != "gzip"]
    assert all(size < 512 for _, size in plain), plain
    figures["proxy_gzip_only"] = {"frontend_js_files": len(gzipped), "gzip_js_files": len(gzipped) - len(plain),
                                  "frontend_js_bytes": sum(len(body) for _, _, body in gzipped)}
    (ARTIFACTS / "deploy_bytes.json").write_text(json.dumps(figures, indent=2))
    print("\nfirst load (bytes on the wire):", json.dumps(figures))
    # Streamlit sends its front end uncompressed; through the proxy every JS file comes compressed, and the
    # whole first load (page, JS, CSS, fonts, the map's component, Leaflet) is far smaller.
    assert figures["direct"]["js_encodings"] == ["identity"], figures
    assert set(figures["proxy"]["js_encodings"]) & {"gzip", "zstd", "br"}, figures
    # The check can see plain files: most of the front end's files come uncompressed from the replica (95 of 123
    # since #18 stopped the code highlighter and the data grid loading on a first view; 130-odd of 150 before).
    direct = figures["direct"]
    assert direct["uncompressed_js_over_512_bytes"] > direct["frontend_js_files"] // 2 > 40, figures
    assert figures["proxy"]["uncompressed_js_over_512_bytes"] == 0, figures
    assert figures["proxy"]["js_from_a_replica"] == 0 < figures["proxy"]["js_immutable"] == len(urls), figures
    assert figures["proxy_gzip_only"]["frontend_js_bytes"] * 2 < figures["direct"]["frontend_js_bytes"], figures
    assert figures["proxy"]["frontend_js_bytes"] * 2 < figures["direct"]["frontend_js_bytes"], figures
    assert figures["proxy"]["total_bytes"] * 2 < figures["direct"]["total_bytes"], figures
    assert figures["direct"]["icon_font_bytes"] > 300_000 > 30_000 > figures["proxy"]["icon_font_bytes"], figures


def test_session_sticks_to_its_replica_and_fails_over_with_its_view(browser, deployment):  # noqa: F811
    ports = {str(r["port"]): r["pid"] for r in deployment["replicas"]}
    context, page, net = _load(browser, deployment["url"] + VIEW)
    try:
        frame = map_frame(page, min_paths=401)
        wait_for(lambda: "rank" in _eval(frame, TITLE, "").lower(), 30, "the rank map")
        assert _checked(page, "Map") == "Neighbourhoods (LSOAs)"
        assert len(net.sockets) == 1 and "/_stcore/stream" in next(iter(net.sockets.values()))["url"], net.sockets
        first = next(iter(net.sockets.values()))
        # The cookie names the replica (HMAC of its address), and every request carrying it reaches that one.
        cookie = {c["name"]: c for c in context.cookies()}.get("atlas_replica")
        assert cookie and not cookie["httpOnly"], context.cookies()  # the page reads it to notice a failover
        serving = next((p for p in ports if _sticky_cookie(p) == cookie["value"]), None)
        assert serving, f"the cookie {cookie['value']!r} names none of the replicas {sorted(ports)}"
        for _ in range(5):
            assert context.request.get(deployment["url"] + "_stcore/health").headers["x-atlas-replica"] == serving

        # That replica dies mid-session: the page's websocket was on it (it closes), and the page reconnects.
        assert not first["closed"]
        page.evaluate("window.__beforeFailover = true")  # gone once the page has reloaded itself
        os.kill(ports[serving], signal.SIGKILL)
        other = next(p for p in ports if p != serving)
        wait_for(pumped(page, lambda: first["closed"]), 30, "the websocket on the killed replica to close")
        wait_for(pumped(page, lambda: len(net.sockets) > 1), 90, "the page to open a new websocket through the proxy")
        assert not list(net.sockets.values())[-1]["closed"]
        # The proxy moved the session to the live replica with a new cookie naming it.
        new_cookie = {c["name"]: c for c in context.cookies()}["atlas_replica"]
        assert new_cookie["value"] == _sticky_cookie(other), new_cookie
        assert context.request.get(deployment["url"] + "_stcore/health").headers["x-atlas-replica"] == other
        # Streamlit's front end does not rerun after a reconnect that finds its old page intact (it expects the same
        # server to still hold the session); the page sees the new cookie and reloads itself (ui/layout.py). The
        # cookie may arrive with the reconnect's health check, before any new websocket: then the reloaded page's
        # socket is the second, not the third, so the reload is told by the marker set before the kill.
        wait_for(pumped(page, lambda: _eval(page, "window.__beforeFailover === undefined", False)
                        and list(net.sockets.values())[-1]["runs_finished"] >= 1),
                 180, "the page to reload itself and run on the live replica")
        wait_idle(page)
        # The session there was built from the address: the same view (not the districts default) and a map.
        frame = map_frame(page, min_paths=401)
        wait_for(lambda: "rank" in _eval(frame, TITLE, "").lower(), 30, "the rank map after the failover")
        assert _checked(page, "Map") == "Neighbourhoods (LSOAs)"
        assert all(p in page.url for p in VIEW[1:].split("&")), page.url
        assert frame.locator("path.leaflet-interactive").count() > 400
        assert {c["name"]: c for c in context.cookies()}["atlas_replica"]["value"] == _sticky_cookie(other)
        assert net.external == [], net.external
    finally:
        context.close()


def _get(url: str, headers: dict[str, str] | None = None):
    """(status, headers, body) of a GET, HTTP errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def test_geometry_is_served_by_the_proxy_from_the_shared_folder(deployment):
    from geo.present.coverage import prepare_geometry

    prepared = prepare_geometry(squares(60, codes=[f"E01{i:06d}" for i in range(60)]), "code", "name",
                                Path(deployment["geometry_dir"]))
    name = prepared.details[0].file
    url = deployment["url"] + f"app/static/geometry/{name}"
    # The file goes as it is stored, gzipped once when it was prepared (atlas-coverage.js inflates it): the
    # proxy neither compresses it again nor announces a Content-Encoding that would have the browser inflate it.
    for accept in (None, {"Accept-Encoding": "gzip, zstd"}):
        status, headers, body = _get(url, accept)
        assert status == 200 and body == prepared.read(prepared.details[0]) and body[:2] == b"\x1f\x8b"
        assert "content-encoding" not in headers, headers
        assert headers["cache-control"] == IMMUTABLE and headers["content-type"] == "application/octet-stream"
        assert "x-atlas-replica" not in headers  # answered by the proxy from the folder, not proxied to a replica
    # A missing file is a plain 404, not cached for a year; hidden files and the folder itself are not listed.
    status, headers, _ = _get(deployment["url"] + "app/static/geometry/0123456789abcdef01234567-0.bin")
    assert status == 404 and "cache-control" not in headers
    (Path(deployment["geometry_dir"]) / ".partial.json").write_text("{}")
    assert _get(deployment["url"] + "app/static/geometry/.partial.json")[0] == 404
    assert _get(deployment["url"] + "app/static/geometry/")[0] == 404
    # Leaflet and the atlas' scripts also come from disk, revalidated rather than kept a year.
    status, headers, _ = _get(deployment["url"] + "app/static/vendor/leaflet/leaflet.js")
    assert status == 200 and headers["cache-control"] == "no-cache" and "x-atlas-replica" not in headers


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_stops_the_proxy_and_every_replica(deployment):
    proc = deployment["proc"]
    assert proc.poll() is None, "the launcher stopped by itself (a replica's death must not stop it)"
    log = deployment["log"].read_text()
    for replica in deployment["replicas"]:  # one was killed by the failover test: the launcher said so
        if not _listening(replica["port"]):
            assert f"replica on port {replica['port']} exited" in log, log
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
    for pid in [deployment["proxy"]["pid"]] + [r["pid"] for r in deployment["replicas"]]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not _listening(deployment["proxy"]["port"])
    assert not any(_listening(r["port"]) for r in deployment["replicas"])
