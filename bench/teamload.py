"""The team deployment under load (#18 item 6): deploy/launch.py's Caddy before 1, then 2 replicas, and
bench/serverload.py's websocket sessions through it (50 by default, a widget change every 5 s for 3 minutes),
on the IoD2019 pack's national LSOA map. Prints p50/p95 rerun latency, errors and replica memory per run,
with the direct one-replica run (no proxy) measured in the same run as the baseline.

    .venv/bin/python bench/teamload.py [--sessions 50] [--duration 180] [--packs DIR]

Without --packs it builds an IoD2019 pack from the shared open data through the tests' loopback mirror; it
skips (exit 0, with a line saying why) where neither exists or caddy is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def packs_folder(given: str | None, tmp: Path) -> Path | None:
    if given:
        return Path(given)
    from tests.iod2025_fixture import serve_iod2019, shared_data_available
    from tests.mirror import Mirror

    if not shared_data_available():
        return None
    from geo.load.packs import fetch_release

    with Mirror() as mirror:
        serve_iod2019(mirror)
        fetch_release("iod2019", tmp, mirror=mirror.url)
    return tmp


def load(args, extra: list[str], out: Path, env: dict) -> dict:
    cmd = [PY, str(ROOT / "bench" / "serverload.py"), "--sessions", str(args.sessions), "--duration",
           str(args.duration), "--think", str(args.think), "--ramp", str(args.ramp), "--query", args.query,
           "--json", str(out)] + extra
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    return json.loads(out.read_text())


@contextmanager
def deployment(n: int, packs: Path, run: Path, env: dict, root: Path = ROOT):
    """deploy/launch.py with Caddy before `n` replicas on free ports: yields (proxy port, launch.json), stops it after.
    `root`: the checkout whose launcher and app run (another one is a baseline, with its own .venv)."""
    proxy, *replicas = free_ports(n + 1)
    python = str(root / ".venv" / "bin" / "python") if root != ROOT else PY
    launcher = subprocess.Popen([python, str(root / "deploy" / "launch.py"), "--port", str(proxy), "--replicas",
                                 ",".join(map(str, replicas)), "--packs-dir", str(packs), "--run-dir", str(run)],
                                cwd=root, env=env)
    try:
        deadline = time.monotonic() + 180
        while not (run / "launch.json").exists():
            if launcher.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"deploy/launch.py did not start ({n} replicas); see {run}")
            time.sleep(0.5)
        yield proxy, json.loads((run / "launch.json").read_text())
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=60)


def through_proxy(args, n: int, packs: Path, tmp: Path, env: dict) -> dict:
    with deployment(n, packs, tmp / f"run{n}", env) as (proxy, state):
        pids = ",".join(str(r["pid"]) for r in state["replicas"])
        return load(args, ["--proxy-url", f"http://127.0.0.1:{proxy}", "--replica-pids", pids],
                    tmp / f"proxy{n}.json", env)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--duration", type=float, default=180)
    ap.add_argument("--think", type=float, default=5)
    ap.add_argument("--ramp", type=float, default=20)
    ap.add_argument("--query", default="view=lsoas")
    ap.add_argument("--packs")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "teamload.json")
    args = ap.parse_args(argv)
    if not shutil.which("caddy"):
        print("teamload: skipped — caddy is not installed (apt-get install caddy)")
        return 0
    with tempfile.TemporaryDirectory(prefix="atlas-teamload-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "packs").mkdir()
        packs = packs_folder(args.packs, tmp / "packs")
        if packs is None:
            print("teamload: skipped — no packs folder given and no shared open data to build one")
            return 0
        env = {**os.environ, "ATLAS_PACKS_DIR": str(packs)}
        rows = {"direct, 1 replica (baseline)": load(args, ["--replicas", "1", "--packs", str(packs)],
                                                      tmp / "direct.json", env)}
        for n in (1, 2):
            rows[f"proxy, {n} replica{'s' if n > 1 else ''}"] = through_proxy(args, n, packs, tmp, env)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    print(f"\nteamload: {args.sessions} sessions, {args.duration:.0f} s, think {args.think:.0f} s, ?{args.query}")
    print(f"{'run':30} {'reruns':>7} {'p50 s':>7} {'p95 s':>7} {'errors':>7} {'MB/session':>10} {'p95 ratio':>10}")
    base = None
    for name, result in rows.items():
        run = result[-1] if isinstance(result, list) else result
        stats, rss = run.get("rerun_s", {}), run.get("rss_mb", {})
        p50, p95 = stats.get("p50"), stats.get("p95")
        base = base or p95
        ratio = f"{p95 / base:.2f}×" if p95 and base else "–"
        per = rss.get("per_session_loaded")
        print(f"{name:30} {run.get('reruns', 0):>7} {p50 or 0:>7.2f} {p95 or 0:>7.2f} {run.get('errors', 0):>7} "
              f"{per if per is not None else float('nan'):>10.1f} {ratio:>10}")
    print(f"(full figures, memory included: {args.json})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
