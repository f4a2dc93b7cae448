"""Server load: bench/wsload.py's websocket sessions against 1, then 2 replicas of the app (or a proxy before them).

Without --proxy-url it starts the replicas itself (`streamlit run app.py --server.headless true --server.port P`
on P = --port, --port+1, …; ATLAS_PACKS_DIR from --packs, --demo or --iod2019, else as the caller has it, else
the app's own `packs/`), spreads the sessions over them round-robin (what a sticky balancer does at best), and
samples their memory; each (replicas, sessions) run gets fresh replicas unless --keep. With --proxy-url it starts
nothing: the sessions go through the proxy (each with its own cookie jar, so a sticky-session cookie set on
the page or health check is sent on the websocket upgrade) and the memory is that of --replica-pids.
Prints a table and writes JSON. Not a test: nothing asserts a time.

    .venv/bin/python bench/serverload.py --demo --replicas 1,2 --sessions 20,50 --duration 60
    .venv/bin/python bench/serverload.py --proxy-url http://127.0.0.1:8080 --replica-pids 4101,4102 --sessions 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import wsload  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "serverload.json"
STARTUP_TIMEOUT = 90.0


def _die_with_parent() -> None:
    """A replica ends with the benchmark that started it, even if that is killed (Linux: PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)
    except OSError:
        pass


def healthy(url: str) -> bool:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except OSError:
        return False


def start_replica(port: int, packs_dir: Path | None, log_path: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on 127.0.0.1:`port` (the file watcher off: a load run measures the app, not edits);
    (process, URL) once /_stcore/health says ok. `packs_dir` None keeps the caller's ATLAS_PACKS_DIR."""
    env = dict(os.environ)
    if packs_dir is not None:
        env["ATLAS_PACKS_DIR"] = str(packs_dir)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "wb")
    venv = ROOT / ".venv" / "bin" / "streamlit"
    streamlit = [str(venv)] if venv.exists() else [sys.executable, "-m", "streamlit"]
    proc = subprocess.Popen(
        [*streamlit, "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    proc.log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_replica(proc)
            raise RuntimeError(f"streamlit on port {port} did not become healthy; log: {log_path}")
        time.sleep(0.2)
    return proc, url


def stop_replica(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    proc.log.close()  # type: ignore[attr-defined]


@contextmanager
def replicas(n: int, first_port: int, packs_dir: Path | None, log_dir: Path):
    """n replicas on consecutive ports; yields (urls, pids) and stops them all."""
    procs = []
    try:
        for i in range(n):
            procs.append(start_replica(first_port + i, packs_dir, log_dir / f"replica_{first_port + i}.log"))
        yield [u for _, u in procs], [p.pid for p, _ in procs]
    finally:
        for p, _ in procs:
            stop_replica(p)


def build_iod2019_pack(dest: Path) -> Path:
    """An IoD2019 pack built from /work/shared's real files through the tests' loopback mirror (as bench/national.py)."""
    from geo.load.packs import fetch_release
    from tests.iod2025_fixture import serve_iod2019, shared_data_available
    from tests.mirror import Mirror

    if not shared_data_available():
        raise SystemExit("the real IoD2019 files are not here (set $ATLAS_SHARED_DATA); use --demo or --packs")
    with Mirror() as mirror:
        serve_iod2019(mirror)
        fetch_release("iod2019", dest, mirror=mirror.url)
    return dest


def load_args(args, urls: list[str], pids: list[int], sessions: int) -> argparse.Namespace:
    """wsload's options for one run."""
    argv = ["--sessions", str(sessions), "--duration", str(args.duration), "--think", str(args.think),
            "--ramp", str(args.ramp), "--query", args.query, "--timeout", str(args.timeout),
            "--widget", args.widget, "--pids", ",".join(map(str, pids))]
    for u in urls:
        argv += ["--url", u]
    return wsload.parser().parse_args(argv)


def row(target: str, replicas_n: int | str, r: dict) -> dict:
    s, m = r["rerun_s"], r["rss_mb"]
    return {"target": target, "replicas": replicas_n, "sessions": r["sessions"], "loaded": r["sessions_loaded"],
            "reruns": r["reruns"], "p50": s["p50"], "p95": s["p95"], "max": s["max"],
            "first_p50": r["first_load_s"]["p50"], "errors": r["errors"], "rss_base": m["baseline"],
            "rss_peak": m["peak"], "per_session": m["per_session_loaded"], "server_cpu": r["server_cpu_s"],
            "gen_cpu": r["generator_cpu_s"], "load": r["load_average"]["mean"]}


def print_table(rows: list[dict]) -> None:
    cols = [("target", 10), ("replicas", 8), ("sessions", 8), ("loaded", 6), ("reruns", 6), ("p50", 7), ("p95", 7),
            ("max", 7), ("first_p50", 9), ("errors", 6), ("rss_base", 8), ("rss_peak", 8), ("per_session", 11),
            ("server_cpu", 10), ("gen_cpu", 7), ("load", 5)]
    print("  ".join(f"{name:>{w}}" for name, w in cols))
    for r in rows:
        print("  ".join(f"{wsload.fmt(r[name]):>{w}}" for name, w in cols))
    print("(latencies in s from the widget change sent to script_finished; RSS in MB, summed over the replicas; "
          "per_session = (RSS once all sessions loaded − baseline) / sessions; CPU in s over the run; load = the machine's "
          "mean 1-minute load average, other work included)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--proxy-url", help="a proxy started by someone else: send every session through it")
    p.add_argument("--replica-pids", type=lambda s: [int(x) for x in s.split(",") if x], default=[],
                   help="with --proxy-url: the replicas' pids, for memory and CPU")
    p.add_argument("--replicas", default="1,2", help="replica counts to start in turn (without --proxy-url)")
    p.add_argument("--port", type=int, default=8501, help="first replica's port; the next ones follow")
    data = p.add_mutually_exclusive_group()
    data.add_argument("--packs", type=Path, help="ATLAS_PACKS_DIR for the replicas")
    data.add_argument("--demo", action="store_true", help="the embedded demo data (an empty packs folder)")
    data.add_argument("--iod2019", action="store_true", help="a real IoD2019 pack built from /work/shared")
    p.add_argument("--sessions", default="20,50", help="session counts, comma-separated")
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--think", type=float, default=5.0)
    p.add_argument("--ramp", type=float, default=10.0)
    p.add_argument("--query", default="")
    p.add_argument("--widget", default=wsload.DEFAULT_WIDGET)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--keep", action="store_true", help="reuse the replicas across session counts")
    p.add_argument("--json", default=str(RESULTS))
    args = p.parse_args()
    counts = [int(x) for x in args.sessions.split(",") if x]
    rows, reports = [], []

    def record(target, n, report):
        wsload.print_report(report)
        rows.append(row(target, n, report))
        reports.append({"target": target, "replicas": n, **report})

    if args.proxy_url:
        if not args.replica_pids:
            print("no --replica-pids: the memory and CPU columns are the proxy's own (found by its port)")
        for sessions in counts:
            record("proxy", len(args.replica_pids) or "?",
                   asyncio.run(wsload.run_load(load_args(args, [args.proxy_url], args.replica_pids, sessions))))
    else:
        tmp = Path(tempfile.mkdtemp(prefix="atlas-serverload-"))
        packs = (tmp / "empty" if args.demo else build_iod2019_pack(tmp / "packs") if args.iod2019 else args.packs)
        if packs is not None:
            packs.mkdir(parents=True, exist_ok=True)
        for n in [int(x) for x in args.replicas.split(",") if x]:
            if args.keep:
                with replicas(n, args.port, packs, tmp) as (urls, pids):
                    for sessions in counts:
                        record("direct", n, asyncio.run(wsload.run_load(load_args(args, urls, pids, sessions))))
            else:
                for sessions in counts:
                    with replicas(n, args.port, packs, tmp) as (urls, pids):
                        record("direct", n, asyncio.run(wsload.run_load(load_args(args, urls, pids, sessions))))
    print()
    print_table(rows)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(reports, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
