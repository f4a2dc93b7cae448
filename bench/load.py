"""Load test: many concurrent browser sessions exploring the atlas on loopback (`make load`).

Starts `streamlit run app.py` on a free 127.0.0.1 port on the embedded demo pack (an empty $ATLAS_PACKS_DIR
and no $ATLAS_DATA_DIRS, so nothing else is offered), then runs --waves waves of --sessions concurrent
sessions, each in a fresh context of one headless Chromium. A session opens the app, waits for the map, then
repeatedly does a random action (switch the sidebar "Map" radio between the views, or change the "Measure",
"Classification" or "Colours" selectbox) and times it: from the click until the server has finished the
script run it caused (its "script finished" message, read off the page's websocket; also reported on its own
as the server's part), the page has been handed that message and is idle (no run in progress, nothing
stale), and the one map frame reports window.atlasReady with the map at rest. Each session explores for
--seconds once its first map is open (an action under way then is finished, within --cap), and for at most
--max-actions actions; when every session of a wave has stopped,
their pages are closed and the next wave opens new ones, so sessions come and go.

Recorded: rerun latencies (p50/p95/max, overall and by action), errors (console errors, uncaught page
errors, failed or non-loopback requests, which are blocked, exceptions shown by the app, tracebacks in
the server log, and actions that did not finish within --cap seconds), and the server process's memory
(VmRSS sampled every second, VmHWM, and VmRSS after each wave once its pages are closed). Results are
printed and written to bench/results/load.json. Not a test: nothing asserts a time; the exit status is
non-zero only if the app failed to start.

Needs Debian's chromium ($CHROMIUM, default /usr/bin/chromium) and Playwright's Python package.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cases import app_healthy as healthy  # noqa: E402  (the same loopback helpers the browser tests use)
from tests.cases import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load.json"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 900}
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")
VIEWS = ["Districts (England)", "Neighbourhoods (LSOAs)", "Target progress", "Fund eligibility"]
SELECTS = {"measure": "Measure", "classification": "Classification", "colours": "Colours (colour-blind safe)"}
STARTUP_TIMEOUT = 90.0
MAX_ERRORS_KEPT = 200
REOPEN_AFTER = 20  # s before a selectbox click that opened no list is tried again

# Counts the websocket messages the page has delivered to Streamlit (installed before the page's own scripts).
# Playwright counts the same messages as they arrive, and decodes the small ones to find the server's
# "script finished" message, so the page can be asked whether it has at least been handed that message.
# (Streamlit's data-test-script-state is no signal of a run under load: when the browser is busy, the
# "running" and "finished" messages are handled in one batch and the attribute never shows "running".)
COUNT_MESSAGES = """(() => {
    const Native = window.WebSocket;
    if (!Native || Native.__ltCounted) { return; }
    window.__ltDelivered = 0;
    class Counted extends Native {
        constructor(...args) {
            super(...args);
            this.addEventListener('message', () => { window.__ltDelivered += 1; });
        }
    }
    Counted.__ltCounted = true;
    window.WebSocket = Counted;
})();"""

# The page has been handed the first `n` websocket messages, Streamlit is idle on two polls in a row (no run
# in progress, nothing stale), and there is exactly one map frame, whose map script has run (atlasReady) and
# whose map is not animating.
READY = """n => {
    const app = document.querySelector('[data-test-script-state]');
    if ((window.__ltDelivered || 0) < n || !app || app.getAttribute('data-test-script-state') === 'running'
        || document.querySelector('[data-stale="true"]')) {
        window.__ltIdle = 0; return false;
    }
    window.__ltIdle = (window.__ltIdle || 0) + 1;
    if (window.__ltIdle < 2) { return false; }
    const frames = document.querySelectorAll('.st-key-atlas_map_box iframe, iframe[title="streamlit_folium.st_folium"]');
    if (frames.length !== 1) { return false; }
    let w = null;
    try { w = frames[0].contentWindow; } catch (e) { return false; }
    if (!w || w.atlasReady !== true || !w.atlasLayer || !w.atlasLayer._map) { return false; }
    const map = w.atlasLayer._map;
    return !map._animatingZoom && !(map._panAnim && map._panAnim._inProgress);
}"""

RESET = "() => { window.__ltIdle = 0; }"

# The sidebar's "Map" radio (views), as [[label, checked], ...]; the target-progress view has a second "Map"
# radio (status/value/change), told apart by its options.
VIEW_RADIO = """views => {
    const sb = document.querySelector('[data-testid="stSidebar"]');
    if (!sb) { return []; }
    for (const g of sb.querySelectorAll('[data-testid="stRadio"]')) {
        const labels = [...g.querySelectorAll('label')].filter(l => l.querySelector('input'));
        const opts = labels.map(l => [l.innerText.trim(), l.querySelector('input').checked]);
        if (opts.some(([t]) => views.includes(t))) { return opts; }
    }
    return [];
}"""

# What the page looked like when an action timed out.
DIAGNOSE = """label => {
    const app = document.querySelector('[data-test-script-state]');
    const frames = [...document.querySelectorAll(
        '.st-key-atlas_map_box iframe, iframe[title="streamlit_folium.st_folium"]')].map(f => {
        try { const w = f.contentWindow; return {ready: w && w.atlasReady === true, layer: !!(w && w.atlasLayer)}; }
        catch (e) { return {error: String(e)}; }
    });
    return {state: app && app.getAttribute('data-test-script-state'), delivered: window.__ltDelivered,
            stale: document.querySelectorAll('[data-stale="true"]').length, mapFrames: frames,
            exceptions: document.querySelectorAll('[data-testid="stException"]').length,
            listOpen: !!document.querySelector('[role="listbox"]'),
            widget: label ? ([...document.querySelectorAll('[data-testid="stSidebar"] input[role="combobox"]')]
                .filter(i => i.getAttribute('aria-label') === label).map(i => i.value)[0] ?? null)
                : [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stRadio"] input:checked')]
                .map(i => i.closest('label').innerText.trim()),
            alerts: [...document.querySelectorAll('[data-testid="stAlert"]')].map(a => a.innerText.slice(0, 120))};
}"""

APP_EXCEPTION = """() => [...document.querySelectorAll('[data-testid="stException"]')]
    .map(e => e.innerText.slice(0, 300))"""


# ------------------------------------------------------------------ the app and its memory

def _die_with_parent() -> None:
    """In the child, before exec: have Linux send it SIGTERM if this script dies without stopping it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: stop_app still stops it on any ordinary exit
        pass


def start_app(log_path: Path, packs_dir: Path, watch_files: bool) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free loopback port, on the demo pack only; (process, URL) once healthy.

    Streamlit's file watcher is off unless asked for: when a source file changes it evicts the project's
    modules from sys.modules at the start of each session's next run, which can pull a module out from under
    another session's script thread mid-import (seen as an "Uncaught app execution" traceback when the code
    was edited during a run), and a load test should measure the app, not edits made to it meanwhile."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "ATLAS_DATA_DIRS"}
    env["ATLAS_PACKS_DIR"] = str(packs_dir)
    log = open(log_path, "wb")  # closed by stop_app
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "auto" if watch_files else "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    proc.log = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not healthy(url):
        if proc.poll() is not None:
            raise AppDidNotStart(f"streamlit exited with code {proc.returncode}; log: {log_path}")
        if time.monotonic() > deadline:
            stop_app(proc)
            raise AppDidNotStart(f"streamlit not healthy after {STARTUP_TIMEOUT:.0f} s; log: {log_path}")
        time.sleep(0.2)
    return proc, url


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    proc.log.close()  # type: ignore[attr-defined]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, s."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB; {} once it has gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(rest.split()[0]) / 1024  # kB
    except OSError:
        pass
    return out


async def sample_memory(pid: int, samples: list, loads: list, t0: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        m = memory_mb(pid)
        if m:
            samples.append((round(time.monotonic() - t0, 1), round(m["VmRSS"], 1)))
        loads.append(os.getloadavg()[0])
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except asyncio.TimeoutError:
            pass


# ------------------------------------------------------------------ the sessions

@dataclass
class Run:
    latencies: list[dict] = field(default_factory=list)  # {wave, session, kind, seconds, server_seconds}
    opens: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    aborted_in_replaced_frames: int = 0
    reopened: int = 0  # selectbox clicks tried again because the list had not opened (see select_options)

    def error(self, kind: str, text: str) -> None:
        self.error_count += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(f"{kind}: {text[:1500]}")


class Timeout(Exception):
    def __init__(self, message: str, what: str = "", label: str | None = None) -> None:
        super().__init__(message)
        self.what = what
        self.label = label


class AppDidNotStart(Exception):
    pass


class Socket:
    """The websocket traffic of one page: messages received, and where the server's script runs finished."""

    def __init__(self) -> None:
        self.opened = self.closed = self.sent = self.received = 0
        self.finished: list[tuple[int, float]] = []  # (message number, time) of each completed run
        self.changed = asyncio.Event()

    def attach(self, sock) -> None:
        self.opened += 1
        sock.on("close", self._on_close)
        sock.on("framesent", self._on_sent)
        sock.on("framereceived", self._on_received)

    def _on_close(self, _) -> None:
        self.closed += 1

    def _on_sent(self, _) -> None:
        self.sent += 1

    def _on_received(self, payload) -> None:
        self.received += 1
        if isinstance(payload, bytes) and len(payload) < 512:  # a script_finished message is a few bytes
            msg = ForwardMsg()
            try:
                msg.ParseFromString(payload)
            except Exception:  # not a ForwardMsg: not ours to judge
                return
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished != EARLY_FOR_RERUN:
                self.finished.append((self.received, time.monotonic()))
                self.changed.set()

    def counts(self) -> dict:
        return {"opened": self.opened, "closed": self.closed, "sent": self.sent, "received": self.received,
                "runs_finished": len(self.finished)}

    async def run_finished_after(self, mark: int, deadline: float) -> tuple[int, float]:
        """(message number, time) of the first completed run whose end arrived after message `mark`."""
        while True:
            self.changed.clear()
            for number, when in self.finished:
                if number > mark:
                    return number, when
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout("no script run finished on the server")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass


async def wait_ready(page, sock: Socket, mark: int, t0: float, cap: float) -> float:
    """Wait for a run that finished after message `mark`, then for the page to show it; the server's part, s."""
    deadline = t0 + cap
    number, when = await sock.run_finished_after(mark, deadline)
    try:
        await page.wait_for_function(READY, arg=number, polling=200,
                                     timeout=max(1.0, deadline - time.monotonic()) * 1000)
    except Exception as exc:  # playwright's TimeoutError, or the page went away
        raise Timeout(str(exc).splitlines()[0]) from exc
    return when - t0


async def select_options(page, box, run: Run | None = None) -> tuple[list[str], str]:
    """Open a selectbox; return (its options, the current value) with the list left open.

    A click that does not open the list within REOPEN_AFTER seconds (seen only with the machine saturated by
    twenty browsers: the click lands while the page is re-rendering) is tried again, as a person would, up to
    three times; each retry is counted and reported, not hidden. A list that never opens is an error.
    """
    current = await box.input_value()
    options = page.get_by_role("option")
    for attempt in range(3):
        await box.click()
        try:
            await options.first.wait_for(state="visible", timeout=REOPEN_AFTER * 1000)
            break
        except Exception:  # playwright's TimeoutError
            if attempt == 2:
                raise
            if run is not None:
                run.reopened += 1
            await page.keyboard.press("Escape")
    return [t.strip() for t in await options.all_inner_texts()], current


async def one_action(page, sock: Socket, rng: random.Random, cap: float,
                     run: Run | None = None) -> tuple[str, float, float] | None:
    """Do one random action that changes something: (kind, seconds until the map is ready, seconds until the
    server finished the run), or None if there is nothing to change."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    kinds = ["view", *SELECTS]
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "view":
            opts = await page.evaluate(VIEW_RADIO, VIEWS)
            choices = [t for t, checked in opts if t in VIEWS and not checked]
            if not choices:
                continue
            choice = rng.choice(choices)
            what, label = f"view -> {choice}", None
            target = sidebar.locator('[data-testid="stRadio"] label').filter(has_text=choice).first
            await page.evaluate(RESET)
            mark, t0 = sock.received, time.monotonic()
            await target.click()
        else:
            box = sidebar.get_by_role("combobox", name=SELECTS[kind], exact=True)
            if not await box.count():
                continue
            options, current = await select_options(page, box, run)
            choices = [o for o in options if o != current]
            if not choices:
                await page.keyboard.press("Escape")
                continue
            choice = rng.choice(choices)
            what, label = f"{kind} {current} -> {choice}", SELECTS[kind]
            option = page.get_by_role("option", name=choice, exact=True)
            await page.evaluate(RESET)
            mark, t0 = sock.received, time.monotonic()
            await option.click()
        try:
            server = await wait_ready(page, sock, mark, t0, cap)
        except Timeout as exc:
            exc.what, exc.label = what, label
            raise
        return kind, time.monotonic() - t0, server
    return None


async def session(browser, shared, url: str, wave: int, index: int, args, run: Run, rng: random.Random) -> None:
    """Open the app in a fresh context (or a new page of the wave's `shared` context), then explore for
    args.seconds (at most args.max_actions actions); close it."""
    context = shared or await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(args.cap * 1000)
    closing = [False]
    where = f"wave {wave} session {index}"

    async def route(r):
        if r.request.url.startswith(LOCAL_PREFIXES):
            await r.continue_()
        else:
            run.error("external request (blocked)", f"{where}: {r.request.url}")
            await r.abort()

    def on_console(m):
        if m.type == "error" and not closing[0]:
            run.error("console error", f"{where}: {m.text}")

    def on_page_error(e):
        if not closing[0]:
            run.error("page error", f"{where}: {e}")

    def on_request_failed(r):
        if closing[0] or not r.url.startswith(LOCAL_PREFIXES):
            return
        if r.failure == "net::ERR_ABORTED":
            # Aborted because its frame was replaced (e.g. a map superseded while it loaded) is no failure;
            # the frame is known to be detached only a little later.
            asyncio.get_running_loop().call_later(2.0, check_aborted, r)
        else:
            run.error("request failed", f"{where}: {r.url} {r.failure}")

    def check_aborted(r):
        try:
            detached = r.frame.is_detached()
        except Exception:
            detached = True
        if detached:
            run.aborted_in_replaced_frames += 1
        elif not closing[0]:  # e.g. the page gave up waiting for the server
            run.error("request aborted by the page", f"{where}: {r.url} {r.failure}")

    sock = Socket()
    await page.add_init_script(COUNT_MESSAGES)
    await page.route("**/*", route)
    page.on("websocket", sock.attach)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("requestfailed", on_request_failed)
    try:
        t0 = time.monotonic()
        try:
            await page.goto(url, wait_until="domcontentloaded")
            await wait_ready(page, sock, 0, t0, args.open_cap)
        except Exception as exc:
            run.error("open timed out" if isinstance(exc, Timeout) else "open failed",
                      f"{where}: {exc}; websocket: {sock.counts()}")
            return
        run.opens.append(time.monotonic() - t0)
        deadline = time.monotonic() + args.seconds
        failures = 0
        for _ in range(args.max_actions):
            if time.monotonic() >= deadline or failures >= 3:
                break
            before = sock.counts()
            try:
                done = await one_action(page, sock, rng, args.cap, run)
            except Timeout as exc:
                try:
                    state = json.dumps(await page.evaluate(DIAGNOSE, exc.label))
                except Exception as e:  # the page has gone
                    state = f"(page state unavailable: {type(e).__name__})"
                run.error("rerun timed out", f"{where}: {exc.what}: not ready within {args.cap:.0f} s ({exc}); "
                          f"page: {state}; websocket before/after: {before} / {sock.counts()}")
                failures += 1
                continue
            except Exception as exc:
                run.error("action failed", f"{where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
                failures += 1
                try:
                    await page.keyboard.press("Escape")  # a selectbox list left open
                except Exception:  # the page has gone
                    break
                continue
            if done is None:
                break
            failures = 0
            kind, seconds, server = done
            run.latencies.append({"wave": wave, "session": index, "kind": kind, "seconds": round(seconds, 3),
                                  "server_seconds": round(server, 3)})
            for text in await page.evaluate(APP_EXCEPTION):
                run.error("app exception", f"{where}: {text}")
            await asyncio.sleep(rng.uniform(0.2, 1.0))  # a person's pause
    finally:
        closing[0] = True
        await (page.close() if shared else context.close())


# ------------------------------------------------------------------ reporting

def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "max": max(values) if values else None}


def fmt(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def server_log_errors(log_path: Path) -> list[str]:
    text = log_path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    return [" / ".join(lines[i:i + 3])[:300] for i, line in enumerate(lines) if line.startswith("Traceback")]


async def main_async(args) -> dict:
    from playwright.async_api import async_playwright

    rng = random.Random(args.seed)
    run = Run()
    tmp = Path(tempfile.mkdtemp(prefix="atlas_load_"))
    packs = tmp / "packs"
    packs.mkdir()
    log_path = tmp / "streamlit.log"
    proc, url = start_app(log_path, packs, args.watch_files)
    t_start = time.monotonic()
    samples: list[tuple[float, float]] = []
    loads: list[float] = []
    busy0, cpu0 = machine_busy(), cpu_seconds(proc.pid)
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_memory(proc.pid, samples, loads, t_start, stop))
    rss_start = memory_mb(proc.pid).get("VmRSS")
    rss_after: list[float | None] = []
    waves = []
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for wave in range(1, args.waves + 1):
                    w0 = time.monotonic()
                    before = len(run.latencies), run.error_count
                    tasks = []
                    shared = await browser.new_context(viewport=VIEWPORT) if args.shared_context else None
                    for i in range(args.sessions):
                        tasks.append(asyncio.create_task(
                            session(browser, shared, url, wave, i, args, run, random.Random(rng.random()))))
                        await asyncio.sleep(args.stagger)
                    await asyncio.gather(*tasks)
                    if shared:
                        await shared.close()
                    await asyncio.sleep(args.settle)  # the server notices the closed sockets and drops the sessions
                    rss = memory_mb(proc.pid).get("VmRSS")
                    rss_after.append(None if rss is None else round(rss, 1))
                    lat = [x["seconds"] for x in run.latencies[before[0]:]]
                    waves.append({"wave": wave, "seconds": round(time.monotonic() - w0, 1), "actions": len(lat),
                                  "errors": run.error_count - before[1], "rss_after_mb": rss_after[-1],
                                  **{k: summary(lat)[k] for k in ("p50", "p95", "max")}})
                    print(f"wave {wave}: {len(lat)} actions in {time.monotonic() - w0:.0f} s, "
                          f"p50 {fmt(waves[-1]['p50'])} s, p95 {fmt(waves[-1]['p95'])} s, "
                          f"errors {waves[-1]['errors']}, RSS after {fmt(rss_after[-1])} MB", flush=True)
            finally:
                await browser.close()
    finally:
        stop.set()
        await sampler
        hwm = memory_mb(proc.pid).get("VmHWM")
        cpu1, busy1 = cpu_seconds(proc.pid), machine_busy()
        stop_app(proc)
    for text in server_log_errors(log_path):
        run.error("server traceback", text)

    lat = [x["seconds"] for x in run.latencies]
    by_kind = {k: summary([x["seconds"] for x in run.latencies if x["kind"] == k]) for k in ["view", *SELECTS]}
    peak_sampled = max((r for _, r in samples), default=None)
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "settings": {"sessions": args.sessions, "waves": args.waves, "seconds_per_wave": args.seconds,
                     "max_actions": args.max_actions, "cap_s": args.cap, "open_cap_s": args.open_cap,
                     "seed": args.seed, "file_watcher": args.watch_files,
                     "shared_context": args.shared_context},
        "duration_s": round(time.monotonic() - t_start, 1),
        "actions": len(lat),
        "rerun_latency_s": summary(lat),
        "server_run_latency_s": summary([x["server_seconds"] for x in run.latencies]),
        "rerun_latency_by_action_s": by_kind,
        "open_latency_s": summary(run.opens),
        "errors": {"count": run.error_count, "by_kind": run.error_kinds, "first": run.errors[:20]},
        "not_errors": {"requests_aborted_in_replaced_frames": run.aborted_in_replaced_frames,
                       "selectbox_clicks_tried_again": run.reopened},
        "cpu": {"server_cpu_s": None if cpu0 is None or cpu1 is None else round(cpu1 - cpu0, 1),
                "machine_busy_fraction": round((busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]), 3),
                "loadavg_1min_max": max(loads, default=None), "loadavg_1min_mean":
                    round(statistics.mean(loads), 2) if loads else None},
        "memory_mb": {"rss_at_start": None if rss_start is None else round(rss_start, 1),
                      "peak_rss_sampled": peak_sampled, "peak_rss_vmhwm": None if hwm is None else round(hwm, 1),
                      "rss_after_each_wave": rss_after, "samples_t_s_rss": samples},
        "waves": waves,
        "server_log": str(log_path),
    }


def print_report(r: dict) -> None:
    lat, mem, err = r["rerun_latency_s"], r["memory_mb"], r["errors"]
    rows = [
        ("sessions (concurrent)", r["settings"]["sessions"]),
        ("waves", r["settings"]["waves"]),
        ("exploring time per session (s)", r["settings"]["seconds_per_wave"]),
        ("actions done", r["actions"]),
        ("rerun latency p50 (s)", fmt(lat["p50"])),
        ("rerun latency p95 (s)", fmt(lat["p95"])),
        ("rerun latency max (s)", fmt(lat["max"])),
        ("  of which server run p50 / p95 (s)",
         f"{fmt(r['server_run_latency_s']['p50'])} / {fmt(r['server_run_latency_s']['p95'])}"),
        ("open to map p50 / p95 (s)", f"{fmt(r['open_latency_s']['p50'])} / {fmt(r['open_latency_s']['p95'])}"),
        ("errors", err["count"]),
        ("selectbox clicks tried again (not errors)", r["not_errors"]["selectbox_clicks_tried_again"]),
        ("server RSS at start (MB)", fmt(mem["rss_at_start"])),
        ("peak RSS (MB, VmHWM)", fmt(mem["peak_rss_vmhwm"])),
        ("peak RSS (MB, sampled 1/s)", fmt(mem["peak_rss_sampled"])),
        ("RSS after each wave (MB)", ", ".join(fmt(x) for x in mem["rss_after_each_wave"])),
        ("server CPU time (s)", fmt(r["cpu"]["server_cpu_s"])),
        ("machine CPU busy (all cores)", f"{r['cpu']['machine_busy_fraction']:.0%}"),
        ("load average (1 min) max", fmt(r["cpu"]["loadavg_1min_max"])),
        ("total time (s)", r["duration_s"]),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print("\nby action       n     p50     p95     max")
    for kind, s in r["rerun_latency_by_action_s"].items():
        print(f"{kind:<14}{s['n']:>4}  {fmt(s['p50']):>6}  {fmt(s['p95']):>6}  {fmt(s['max']):>6}")
    if err["count"]:
        print("\nerrors by kind:", ", ".join(f"{k} {v}" for k, v in err["by_kind"].items()))
        for e in err["first"][:5]:
            print("  ", e)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions per wave (default 20)")
    ap.add_argument("--waves", type=int, default=3, help="waves of sessions that come and go (default 3)")
    # 20 pages opening at once take a minute or more on a 2-core machine, so 30 s of exploring keeps three
    # waves within about 8 minutes there.
    ap.add_argument("--seconds", type=float, default=30,
                    help="how long each session of a wave explores once its map is open, s (default 30)")
    ap.add_argument("--max-actions", type=int, default=40, help="most actions per session (default 40)")
    ap.add_argument("--cap", type=float, default=60, help="an action not done in this many s is an error (60)")
    ap.add_argument("--open-cap", type=float, default=120, help="opening the app and its first map, s (120)")
    ap.add_argument("--stagger", type=float, default=0.25, help="s between session starts in a wave (0.25)")
    ap.add_argument("--settle", type=float, default=5, help="s after a wave's pages close before RSS is read (5)")
    ap.add_argument("--shared-context", action="store_true",
                    help="one fresh browser context per wave for all its pages (a shared HTTP cache) instead of one each")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--watch-files", action="store_true", help="leave Streamlit's file watcher on (off by default)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if args.sessions < 1 or args.waves < 1 or args.seconds <= 0 or args.max_actions < 1:
        ap.error("sessions, waves, seconds and max-actions must be positive")
    def on_term(signum, frame):  # stop like on Ctrl-C: the browser and the app are closed on the way out
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        result = asyncio.run(main_async(args))
    except KeyboardInterrupt:
        print("load: interrupted", file=sys.stderr)
        return 130
    except AppDidNotStart as exc:
        print(f"load: {exc}", file=sys.stderr)
        return 1
    print_report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
