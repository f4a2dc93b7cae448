"""bench/wsload.py speaks Streamlit's websocket protocol: sessions load the page, change a widget, see it rerun.

One app replica on the embedded demo data (an empty packs folder) and three simulated sessions for ~15 s;
and the parsing that decides what counts as an error, on ForwardMsgs as the server sends them. Nothing
here asserts a time (timings belong in bench/). Set $WSLOAD_TEST_PORT to pin the replica's port.
"""

from __future__ import annotations

import asyncio
import http.server
import itertools
import os
import random
import threading

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench import wsload
from bench.serverload import replicas
from tests.cases import free_port

APP_ERROR = ("Something went wrong drawing this view (KeyError). The details are in the server log. "
             "Try another view or measure, or reload the page.")


def wire(msg: ForwardMsg) -> ForwardMsg:
    """The message as the generator receives it: serialized and parsed again."""
    out = ForwardMsg()
    out.ParseFromString(msg.SerializeToString())
    return out


def alert_msg(body: str, fmt=Alert.Format.ERROR, path=(0, 3), cacheable: bool = False, hash_: str = "") -> ForwardMsg:
    """A delta with an st.error/st.warning box, as Streamlit marshals one."""
    msg = ForwardMsg()
    msg.hash = hash_
    msg.metadata.delta_path.extend(path)
    msg.metadata.cacheable = cacheable
    msg.delta.new_element.alert.body = body
    msg.delta.new_element.alert.format = fmt
    return wire(msg)


def finished() -> ForwardMsg:
    msg = ForwardMsg()
    msg.script_finished = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
    return wire(msg)


def test_the_apps_error_box_and_an_exception_count_as_errors_and_other_boxes_do_not():
    cache: dict = {}
    run = wsload.RunResult()
    assert not wsload.absorb(run, alert_msg(APP_ERROR), cache)
    exc = ForwardMsg()
    exc.metadata.delta_path.extend((1, 0))
    exc.delta.new_element.exception.type = "ValueError"
    exc.delta.new_element.exception.message = "bad value"
    assert not wsload.absorb(run, wire(exc), cache)
    assert not wsload.absorb(run, alert_msg("**No district chosen**\n\nPick one.", path=(0, 4)), cache)
    assert not wsload.absorb(run, alert_msg(APP_ERROR, fmt=Alert.Format.WARNING, path=(0, 5)), cache)
    assert wsload.absorb(run, finished(), cache)
    assert run.errors() == [f"error box: {APP_ERROR}", "exception shown: ValueError: bad value"]
    assert run.error_boxes() == ["**No district chosen**\n\nPick one."]

    stats = wsload.Stats()
    session = wsload.Session("http://127.0.0.1:1", 0, wsload.parser().parse_args(["--url", "x"]), stats,
                             random.Random(0))
    session._check(run)
    assert (stats.error_count, stats.error_kinds, stats.error_boxes) == (2, {"app error": 2}, 1)


def test_an_error_box_sent_again_by_reference_is_still_an_error():
    """The server sends a cached element as a reference to its hash; the session resolves it from its cache."""
    cache: dict = {}
    first = wsload.RunResult()
    wsload.absorb(first, alert_msg(APP_ERROR, cacheable=True, hash_="h1"), cache)
    assert list(cache) == ["h1"]
    ref = ForwardMsg()
    ref.ref_hash = "h1"
    ref.metadata.delta_path.extend((0, 3))
    again = wsload.RunResult()
    wsload.absorb(again, wire(ref), cache)
    assert again.errors() == [f"error box: {APP_ERROR}"]
    unknown = ForwardMsg()
    unknown.ref_hash = "never-sent"
    assert wsload.read_delta(wire(unknown), cache).error.startswith("reference to an unknown message")


def test_widget_values_are_sent_back_with_the_changed_one():
    box = ForwardMsg()
    box.metadata.delta_path.extend((1, 2))
    sel = box.delta.new_element.selectbox
    sel.id, sel.label, sel.default = "$$ID-m-measure", "Measure", 0
    sel.options.extend(["Index of Multiple Deprivation", "Income"])
    tick = ForwardMsg()
    tick.metadata.delta_path.extend((1, 3))
    tick.delta.new_element.checkbox.id, tick.delta.new_element.checkbox.label = "$$ID-b-basemap", "Basemap"
    run = wsload.RunResult()
    for m in (box, tick):
        wsload.absorb(run, wire(m), {})
    widgets = run.widgets()
    assert wsload.choose_widget(widgets, wsload.DEFAULT_WIDGET).id == "$$ID-m-measure"
    msg = wsload.rerun_msg("view=lsoas", widgets, {"$$ID-m-measure": "Income"}, ["h1"])
    states = {s.id: s for s in msg.rerun_script.widget_states.widgets}
    assert states["$$ID-m-measure"].string_value == "Income"
    assert states["$$ID-b-basemap"].WhichOneof("value") == "bool_value" and not states["$$ID-b-basemap"].bool_value
    assert msg.rerun_script.query_string == "view=lsoas"
    assert list(msg.rerun_script.cached_message_hashes) == ["h1"]


def test_each_session_keeps_its_own_cookies_and_sends_them_on_the_websocket_upgrade():
    """A sticky proxy's cookie (set on the page or the health check) and the XSRF cookie go on the upgrade."""
    counter = itertools.count(1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            if self.path.startswith("/?") or self.path == "/":
                self.send_header("Set-Cookie", f"atlas_replica=r{next(counter)}; Path=/; HttpOnly")
            if self.path == "/_stcore/health":
                self.send_header("Set-Cookie", "_streamlit_xsrf=2|aa|bb|1; Path=/")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    port = int(os.environ.get("WSLOAD_TEST_PORT") or free_port())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        args = wsload.parser().parse_args(["--url", f"http://127.0.0.1:{port}", "--query", "view=lsoas"])
        sessions = [wsload.Session(args.url[0], i, args, wsload.Stats(), random.Random(i)) for i in range(2)]
        upgrades = []
        for s in sessions:
            s._prelude()
            upgrades.append(s._ws_headers())
    finally:
        server.shutdown()
        server.server_close()
    (url1, h1), (_, h2) = upgrades
    assert url1 == f"ws://127.0.0.1:{port}/_stcore/stream"
    assert sorted(h1["Cookie"].split("; ")) == ["_streamlit_xsrf=2|aa|bb|1", "atlas_replica=r1"]
    assert "atlas_replica=r2" in h2["Cookie"] and "atlas_replica=r1" not in h2["Cookie"]
    assert h1["Origin"] == f"http://127.0.0.1:{port}"
    assert sessions[0].token() == "2|aa|bb|1"


def test_three_sessions_load_change_a_widget_and_see_the_page_change(tmp_path):
    port = int(os.environ.get("WSLOAD_TEST_PORT") or free_port())
    empty = tmp_path / "packs"
    empty.mkdir()
    with replicas(1, port, empty, tmp_path) as (urls, pids):
        args = wsload.parser().parse_args(["--url", urls[0], "--sessions", "3", "--duration", "15", "--think", "2",
                                           "--ramp", "1", "--timeout", "90"])
        report = asyncio.run(wsload.run_load(args))
    assert report["errors"] == 0, report["error_samples"]
    assert report["sessions_loaded"] == 3 and report["first_load_s"]["n"] == 3  # each got its script_finished
    assert report["widget"] == "selectbox 'Measure'"
    assert report["reruns"] >= 1 and report["changed_reruns"] >= 1
    assert report["server_pids"] == pids and report["rss_mb"]["baseline"] > 0
