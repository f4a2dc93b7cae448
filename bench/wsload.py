"""Load generator at Streamlit's websocket protocol: it measures the server, not browsers.

Each simulated session does what Streamlit's frontend does on connect, without a browser: GET `/`,
`/_stcore/health` and `/_stcore/host-config` with a cookie jar of its own (so a reverse proxy's sticky-session
cookie is kept, and sent on the websocket upgrade), then opens `ws://HOST/_stcore/stream` with the subprotocols
["streamlit", <the _streamlit_xsrf cookie, or the frontend's placeholder>], sends BackMsg.rerun_script with the
page's query string and reads ForwardMsgs until `script_finished`. It keeps the messages' hashes as the
frontend's cache does (sent back as `cached_message_hashes`, so the server sends references for unchanged large
elements, as it would to a browser), reads the widgets from the deltas, picks one that changes the map (by
label: --widget, default the measure, else the classification scheme), then every --think seconds (±30 %,
seeded) sends a rerun with all current widget values, the chosen one changed, and times send → script_finished.

Reported: sessions, reruns, first-load and rerun latency (p50/p95/max), reruns whose deltas changed, errors
(timeouts, disconnects, failed connects, an exception element, or the app's "Something went wrong" box; other
error boxes of the app are counted apart, as `error_boxes`), and the resident memory (VmRSS, read from /proc)
of the server processes (--pids, else those listening on the URLs' ports): baseline before the sessions (after
--warmup sessions have loaded the page once, so the imports and caches every session shares are in it),
peak, once every session has had its first page, and per-session increment. Also the server's CPU seconds
and this generator's own, to show the generator is light. Not a test: nothing asserts a time.

    .venv/bin/python bench/wsload.py --url http://127.0.0.1:8501 --sessions 50 --duration 60 --ramp 10
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.cookiejar
import json
import os
import random
import re
import resource
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED_EARLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
APP_ERROR_TEXT = "Something went wrong"  # app.py's last-resort box
XSRF_COOKIE = "_streamlit_xsrf"
PLACEHOLDER_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends when it has no XSRF cookie
DEFAULT_WIDGET = r"^(Measure|Classification)"  # a widget that changes the map on the default view
MAX_ERRORS_KEPT = 100


# ------------------------------------------------------------------ reading ForwardMsgs

@dataclass
class Widget:
    """A widget as its element proto declares it: kind, label, options (as the wire labels) and current value."""

    id: str
    kind: str
    label: str
    options: tuple[str, ...] = ()
    value: object = None  # str (selectbox/radio), bool (checkbox/toggle), tuple[str] (multiselect)


@dataclass
class DeltaInfo:
    """What a session keeps of one delta: where it goes, a fingerprint of its content, its widget, its errors."""

    path: tuple[int, ...]
    fingerprint: str
    widget: Widget | None = None
    error: str | None = None  # an exception element or the app's "Something went wrong" box
    error_box: str | None = None  # any other st.error the app showed (a view's problem, by design)


def _widget(kind: str, el) -> Widget | None:
    """The widget of an element whose value this generator can send back (others keep their server-side value)."""
    if kind in ("selectbox", "radio"):
        options = tuple(el.options)
        if el.set_value and el.HasField("raw_value"):
            value = el.raw_value
        elif el.HasField("default") and 0 <= el.default < len(options):
            value = options[el.default]
        else:
            value = None
        return Widget(el.id, kind, el.label, options, value)
    if kind == "checkbox":
        return Widget(el.id, kind, el.label, (), bool(el.value if el.set_value else el.default))
    if kind == "multiselect":
        options = tuple(el.options)
        value = tuple(el.raw_values) if el.set_value else tuple(options[i] for i in el.default if i < len(options))
        return Widget(el.id, kind, el.label, options, value)
    return None


def read_delta(msg: ForwardMsg, cache: dict[str, DeltaInfo]) -> DeltaInfo | None:
    """One ForwardMsg's delta as a DeltaInfo (a reference resolved from `cache`, a cacheable one stored in it);
    None for messages that are not deltas. A reference to a hash the session never had is an error."""
    path = tuple(msg.metadata.delta_path)
    if msg.WhichOneof("type") == "ref_hash":
        known = cache.get(msg.ref_hash)
        if known is None:
            return DeltaInfo(path, msg.ref_hash, error=f"reference to an unknown message {msg.ref_hash}")
        return DeltaInfo(path, known.fingerprint, known.widget, known.error, known.error_box)
    if msg.WhichOneof("type") != "delta":
        return None
    fingerprint = msg.hash or hashlib.blake2b(msg.delta.SerializeToString(deterministic=True),
                                              digest_size=12).hexdigest()
    info = DeltaInfo(path, fingerprint)
    if msg.delta.WhichOneof("type") == "new_element":
        el = msg.delta.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            info.error = f"exception shown: {el.exception.type}: {el.exception.message}"[:300]
        elif kind == "alert" and el.alert.format == Alert.Format.ERROR:
            if APP_ERROR_TEXT in el.alert.body:
                info.error = f"error box: {el.alert.body}"[:300]
            else:
                info.error_box = el.alert.body[:300]
        elif kind:
            info.widget = _widget(kind, getattr(el, kind))
    if msg.metadata.cacheable and msg.hash:
        cache[msg.hash] = info
    return info


@dataclass
class RunResult:
    """One script run as the session saw it, from its rerun request to its script_finished."""

    status: int | None = None
    deltas: dict[tuple[int, ...], DeltaInfo] = field(default_factory=dict)
    messages: int = 0
    bytes: int = 0

    def widgets(self) -> list[Widget]:
        return [d.widget for _, d in sorted(self.deltas.items()) if d.widget is not None]

    def errors(self) -> list[str]:
        return [d.error for d in self.deltas.values() if d.error]

    def error_boxes(self) -> list[str]:
        return [d.error_box for d in self.deltas.values() if d.error_box]

    def fingerprint(self) -> tuple:
        return tuple(sorted((p, d.fingerprint) for p, d in self.deltas.items()))


def absorb(run: RunResult, msg: ForwardMsg, cache: dict[str, DeltaInfo], size: int = 0) -> bool:
    """Add one ForwardMsg to a run; True once the run has finished (an early finish for a rerun goes on)."""
    run.messages += 1
    run.bytes += size
    kind = msg.WhichOneof("type")
    if kind == "new_session":
        run.deltas.clear()  # a new script run: its deltas replace the last one's
        return False
    info = read_delta(msg, cache)
    if info is not None:
        run.deltas[info.path] = info
        return False
    if kind == "script_finished":
        run.status = msg.script_finished
        return msg.script_finished != FINISHED_EARLY
    return False


def widget_state(w: Widget, value: object) -> WidgetState | None:
    """The WidgetState the frontend would send for `w` holding `value`."""
    if value is None:
        return None
    s = WidgetState(id=w.id)
    if w.kind in ("selectbox", "radio"):
        s.string_value = value
    elif w.kind == "checkbox":
        s.bool_value = bool(value)
    elif w.kind == "multiselect":
        s.string_array_value.data.extend(value)
    else:
        return None
    return s


def rerun_msg(query: str, widgets: list[Widget], changed: dict[str, object], cached: list[str]) -> BackMsg:
    """BackMsg.rerun_script with the page's query string, every known widget's value (`changed` overriding) and
    the hashes of the messages this session has cached."""
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = query
    state.cached_message_hashes.extend(cached)
    for w in widgets:
        s = widget_state(w, changed.get(w.id, w.value))
        if s is not None:
            state.widget_states.widgets.append(s)
    return msg


def choose_widget(widgets: list[Widget], pattern: str) -> Widget | None:
    """The first selectbox or radio with at least two options whose label matches `pattern` (regexes in order of
    preference, separated by '|' inside a group: the first widget matching the whole pattern, earliest first)."""
    rx = re.compile(pattern, re.IGNORECASE)
    for w in widgets:
        if w.kind in ("selectbox", "radio") and len(w.options) >= 2 and rx.search(w.label):
            return w
    return None


# ------------------------------------------------------------------ one session

@dataclass
class Stats:
    first_loads: list[float] = field(default_factory=list)
    reruns: list[float] = field(default_factory=list)
    changed: int = 0  # reruns whose deltas differ from the run before
    sessions_started: int = 0
    sessions_loaded: int = 0
    widget: str | None = None
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    error_boxes: int = 0
    bytes: int = 0
    messages: int = 0

    def error(self, kind: str, text: str) -> None:
        self.error_count += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(f"{kind}: {text}"[:400])


class SessionError(Exception):
    def __init__(self, kind: str, text: str):
        super().__init__(text)
        self.kind = kind


class Session:
    """One simulated browser tab on one server (or proxy) base URL."""

    def __init__(self, base: str, index: int, args, stats: Stats, rng: random.Random):
        self.base, self.index, self.args, self.stats, self.rng = base.rstrip("/"), index, args, stats, rng
        self.jar = http.cookiejar.CookieJar()
        self.cache: dict[str, DeltaInfo] = {}
        self.incoming: asyncio.Queue = asyncio.Queue()

    def _prelude(self) -> None:
        """What the page load does over HTTP before the websocket: the page, the health check, the host config."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPCookieProcessor(self.jar))
        query = f"?{self.args.query}" if self.args.query else ""
        for path in ("/" + query, "/_stcore/health", "/_stcore/host-config"):
            with opener.open(self.base + path, timeout=self.args.timeout) as resp:
                resp.read()

    def _ws_headers(self) -> tuple[str, dict[str, str]]:
        """The websocket URL and its upgrade headers: this session's cookies and the page's Origin."""
        parts = urlsplit(self.base)
        ws_url = ("wss" if parts.scheme == "https" else "ws") + "://" + parts.netloc + parts.path + "/_stcore/stream"
        probe = urllib.request.Request(self.base + "/_stcore/stream")
        self.jar.add_cookie_header(probe)
        headers = {"Origin": f"{parts.scheme}://{parts.netloc}"}
        if probe.get_header("Cookie"):
            headers["Cookie"] = probe.get_header("Cookie")
        return ws_url, headers

    def token(self) -> str:
        for c in self.jar:
            if c.name == XSRF_COOKIE:
                return c.value
        return PLACEHOLDER_TOKEN

    async def _reader(self, ws) -> None:
        try:
            async for data in ws:
                await self.incoming.put(data)
        except websockets.ConnectionClosed as exc:
            await self.incoming.put(exc)
        except Exception as exc:  # noqa: BLE001 — handed to the waiting run
            await self.incoming.put(exc)
        else:
            await self.incoming.put(ConnectionError("server closed the websocket"))

    async def _run(self, ws, widgets: list[Widget], changed: dict[str, object]) -> tuple[RunResult, float]:
        """Send one rerun and read until its script_finished; (run, seconds)."""
        run = RunResult()
        msg = rerun_msg(self.args.query, widgets, changed, list(self.cache))
        start = time.perf_counter()
        await ws.send(msg.SerializeToString())
        deadline = start + self.args.timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise SessionError("timeout", f"no script_finished within {self.args.timeout:.0f} s")
            try:
                data = await asyncio.wait_for(self.incoming.get(), remaining)
            except asyncio.TimeoutError:
                continue
            if isinstance(data, Exception):
                raise SessionError("disconnect", f"{type(data).__name__}: {data}")
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            if absorb(run, fwd, self.cache, len(data)):
                elapsed = time.perf_counter() - start
                self.stats.bytes += run.bytes
                self.stats.messages += run.messages
                return run, elapsed

    def _check(self, run: RunResult) -> None:
        for text in run.errors():
            self.stats.error("app error", text)
        self.stats.error_boxes += len(run.error_boxes())

    async def run(self, stop_at: float, loaded: asyncio.Event | None = None) -> None:
        self.stats.sessions_started += 1
        reader = None
        try:
            try:
                await asyncio.to_thread(self._prelude)
                ws_url, headers = self._ws_headers()
                ws = await websockets.connect(ws_url, subprotocols=["streamlit", self.token()],
                                              additional_headers=headers, max_size=None, proxy=None,
                                              open_timeout=self.args.timeout, ping_interval=None)
            except Exception as exc:  # noqa: BLE001
                raise SessionError("connect", f"{type(exc).__name__}: {exc}") from exc
            try:
                reader = asyncio.create_task(self._reader(ws))
                run, elapsed = await self._run(ws, [], {})
                self.stats.first_loads.append(elapsed)
                self.stats.sessions_loaded += 1
                self._check(run)
                if loaded is not None:
                    loaded.set()
                widgets = run.widgets()
                target = choose_widget(widgets, self.args.widget)
                if target is None:
                    raise SessionError("no widget", f"no selectbox/radio matching {self.args.widget!r} "
                                                    f"among {[w.label for w in widgets]}")
                self.stats.widget = self.stats.widget or f"{target.kind} {target.label!r}"
                label = target.label
                while True:
                    pause = self.args.think * self.rng.uniform(0.7, 1.3)
                    if time.monotonic() + pause >= stop_at:
                        break
                    await asyncio.sleep(pause)
                    target = next((w for w in widgets if w.label == label and w.kind == target.kind), None)
                    if target is None:
                        raise SessionError("no widget", f"the widget {label!r} went away")
                    new = self.rng.choice([o for o in target.options if o != target.value])
                    before = run.fingerprint()
                    run, elapsed = await self._run(ws, widgets, {target.id: new})
                    self.stats.reruns.append(elapsed)
                    self.stats.changed += run.fingerprint() != before
                    self._check(run)
                    widgets = run.widgets()
            finally:
                await ws.close()
        except SessionError as exc:
            self.stats.error(exc.kind, f"session {self.index}: {exc}")
        except Exception as exc:  # noqa: BLE001 — a generator bug or protocol surprise is an error of the run
            self.stats.error("exception", f"session {self.index}: {type(exc).__name__}: {exc}")
        finally:
            if reader is not None:
                reader.cancel()
            if loaded is not None:
                loaded.set()


# ------------------------------------------------------------------ server processes

def listening_pids(port: int) -> list[int]:
    """Processes with a socket listening on TCP `port` (from /proc/net/tcp{,6} and /proc/*/fd)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for line in fh:
                    cols = line.split()
                    if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(cols[9])
        except OSError:
            continue
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.append(int(entry))
                    break
        except OSError:
            continue
    return sorted(pids)


def rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (None once it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, s."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def total_rss(pids: list[int]) -> float:
    return sum(r for r in (rss_mb(p) for p in pids) if r is not None)


async def sample_rss(pids: list[int], samples: list, loads: list, t0: float, stop: asyncio.Event,
                     every: float = 1.0) -> None:
    """Summed VmRSS every `every` s, and the machine's 1-minute load average (the CPU is shared)."""
    while not stop.is_set():
        samples.append((round(time.monotonic() - t0, 1), round(total_rss(pids), 1)))
        loads.append(os.getloadavg()[0])
        try:
            await asyncio.wait_for(stop.wait(), every)
        except asyncio.TimeoutError:
            pass


# ------------------------------------------------------------------ a run

def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
            "max": max(values) if values else None, "mean": statistics.fmean(values) if values else None}


async def run_load(args) -> dict:
    """Run --sessions sessions against the URL(s) (round-robin) for --duration s; the report as a dict."""
    urls = args.url if isinstance(args.url, list) else [args.url]
    pids = list(args.pids or [])
    if not pids:
        for u in urls:
            pids += listening_pids(urlsplit(u).port or 80)
    for i in range(args.warmup * len(urls)):  # a server's first run imports and caches what all sessions share
        warm = Stats()
        await Session(urls[i % len(urls)], -1 - i, args, warm, random.Random(0)).run(0.0)
        if warm.error_count:
            raise SystemExit(f"the warm-up session failed: {warm.errors}")
    stats = Stats()
    samples: list = []
    loads: list = []
    t0 = time.monotonic()
    cpu0 = {p: cpu_seconds(p) for p in pids}
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    baseline = round(total_rss(pids), 1)
    baseline_by_pid = {p: rss_mb(p) for p in pids}
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pids, samples, loads, t0, stop_sampling))
    stop_at = t0 + args.duration
    loaded = [asyncio.Event() for _ in range(args.sessions)]
    tasks = []
    for i in range(args.sessions):
        delay = args.ramp * i / max(1, args.sessions - 1) if args.sessions > 1 else 0.0
        session = Session(urls[i % len(urls)], i, args, stats, random.Random(args.seed * 1000 + i))

        async def start(s=session, d=delay, ev=loaded[i]):
            await asyncio.sleep(d)
            await s.run(stop_at, ev)
        tasks.append(asyncio.create_task(start()))

    async def all_loaded() -> float:
        for ev in loaded:
            await ev.wait()
        by_pid.update({p: rss_mb(p) for p in pids})
        return round(total_rss(pids), 1)
    by_pid: dict[int, float | None] = {}
    loaded_task = asyncio.create_task(all_loaded())
    await asyncio.gather(*tasks)
    rss_loaded = await loaded_task
    await asyncio.sleep(2)  # sessions closed: what the server gives back
    rss_after = round(total_rss(pids), 1)
    stop_sampling.set()
    await sampler
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = {p: (c1 - c0) for p in pids if (c0 := cpu0[p]) is not None and (c1 := cpu_seconds(p)) is not None}
    wall = time.monotonic() - t0
    peak = max([r for _, r in samples] + [baseline]) if samples else baseline
    n = max(1, args.sessions)
    return {
        "urls": urls, "query": args.query, "sessions": args.sessions, "duration_s": args.duration,
        "think_s": args.think, "ramp_s": args.ramp, "wall_s": round(wall, 1), "widget": stats.widget,
        "sessions_loaded": stats.sessions_loaded, "reruns": len(stats.reruns), "changed_reruns": stats.changed,
        "first_load_s": summary(stats.first_loads), "rerun_s": summary(stats.reruns),
        "errors": stats.error_count, "error_kinds": stats.error_kinds, "error_samples": stats.errors[:20],
        "error_boxes": stats.error_boxes, "messages": stats.messages, "mb_received": round(stats.bytes / 1e6, 1),
        "server_pids": pids,
        "rss_mb": {"baseline": baseline, "peak": round(peak, 1), "all_loaded": rss_loaded, "after_close": rss_after,
                   "per_session_loaded": round((rss_loaded - baseline) / n, 2),
                   "per_session_peak": round((peak - baseline) / n, 2),
                   "by_pid": {p: {"baseline": baseline_by_pid[p], "all_loaded": by_pid.get(p)} for p in pids},
                   "samples": samples},
        "server_cpu_s": round(sum(cpu.values()), 1), "server_cpu_by_pid": {p: round(c, 1) for p, c in cpu.items()},
        "generator_cpu_s": round(own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime, 1),
        "generator_rss_mb": round(own1.ru_maxrss / 1024, 1),
        "load_average": {"mean": round(statistics.fmean(loads), 1) if loads else None,
                         "max": round(max(loads), 1) if loads else None, "cpus": os.cpu_count()},
    }


def fmt(x, unit: str = "") -> str:
    return "–" if x is None else f"{x:.2f}{unit}" if isinstance(x, float) else f"{x}{unit}"


def print_report(r: dict) -> None:
    f, s, m = r["first_load_s"], r["rerun_s"], r["rss_mb"]
    print(f"{', '.join(r['urls'])}  query={r['query']!r}  widget={r['widget']}")
    print(f"  sessions {r['sessions_loaded']}/{r['sessions']} loaded · reruns {r['reruns']} "
          f"({r['changed_reruns']} changed the page) · {r['messages']} messages, {r['mb_received']} MB")
    print(f"  first load  p50 {fmt(f['p50'], ' s')}  p95 {fmt(f['p95'], ' s')}  max {fmt(f['max'], ' s')}")
    print(f"  rerun       p50 {fmt(s['p50'], ' s')}  p95 {fmt(s['p95'], ' s')}  max {fmt(s['max'], ' s')}")
    print(f"  errors {r['errors']} {r['error_kinds'] or ''} · other error boxes shown {r['error_boxes']}")
    for e in r["error_samples"][:5]:
        print(f"    {e}")
    print(f"  server RSS (pids {r['server_pids']}): baseline {m['baseline']} MB, peak {m['peak']} MB, all loaded "
          f"{m['all_loaded']} MB, after close {m['after_close']} MB; per session {m['per_session_loaded']} MB "
          f"(loaded), {m['per_session_peak']} MB (peak)")
    print(f"  CPU: server {r['server_cpu_s']} s, generator {r['generator_cpu_s']} s "
          f"(generator RSS {r['generator_rss_mb']} MB) in {r['wall_s']} s; machine load average "
          f"{r['load_average']['mean']} (max {r['load_average']['max']}) on {r['load_average']['cpus']} CPUs")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", action="append", required=True,
                   help="server or proxy base URL; repeat to spread sessions round-robin over several")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--duration", type=float, default=180.0, help="seconds from the first start")
    p.add_argument("--think", type=float, default=5.0, help="seconds between a session's changes (±30 %%)")
    p.add_argument("--ramp", type=float, default=0.0, help="seconds over which session starts are staggered")
    p.add_argument("--query", default="", help="the page's query string, e.g. view=lsoas")
    p.add_argument("--widget", default=DEFAULT_WIDGET, help="regex of the label of the widget to change")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds a run may take before it is an error")
    p.add_argument("--pids", type=lambda s: [int(x) for x in s.split(",") if x], default=None,
                   help="comma-separated server pids to sample (default: whoever listens on the URLs' ports)")
    p.add_argument("--warmup", type=int, default=1,
                   help="sessions that load the page once per URL before the baseline is read (not counted)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="write the report here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    report = asyncio.run(run_load(args))
    print_report(report)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
