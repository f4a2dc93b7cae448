"""Benchmark: `python -m geo` as whole processes — `--help`, and `map` of all 32,844 LSOAs with a cold and a warm
geometry cache — against a baseline checkout timed in the same run (interleaved), as ratios.

Each case is a fresh process: wall time, CPU time (user + system) and peak memory (max RSS) of the child, and the
size of the page written. "cold" starts from an empty cache folder (ATLAS_GEOMETRY_CACHE), "warm" runs again on
the folder the cold run filled. The baseline runs its own code with its own interpreter (`cd BASE &&
BASE/.venv/bin/python -m geo …`), writing only to a temporary folder; bytecode goes to a temporary
PYTHONPYCACHEPREFIX for both, so neither checkout is written to. Not a test: nothing here asserts a time.
Skips (exit 0) without the shared data. Results go to bench/results/cli.json.

    .venv/bin/python bench/cli.py [--baseline ../main] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
LSOA = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"
TABLE = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"


def run(repo: Path, args: list[str], env: dict[str, str]) -> dict:
    """One whole `python -m geo …` process at `repo`: wall s, CPU s (user + system), max RSS MB, exit code."""
    python = repo / ".venv" / "bin" / "python"
    start = time.perf_counter()
    proc = subprocess.Popen([str(python), "-m", "geo", *args], cwd=repo, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{repo}: geo {' '.join(args[:1])} failed ({proc.returncode}):\n{err[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def environment(work: Path, name: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "ATLAS_GEOMETRY_CACHE": str(cache), "XDG_CACHE_HOME": str(work / f"xdg-{name}"),
            "PYTHONPYCACHEPREFIX": str(work / f"pycache-{name}"), "PYTHONPATH": ""}


def median_of(samples: list[dict]) -> dict:
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=str(ROOT.parent / "main"),
                        help="a checkout to time in the same run (default: ../main); 'none' for none")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each case (cold: each on an empty cache)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "cli.json"))
    args = parser.parse_args()
    if not (LSOA.is_file() and TABLE.is_file()):
        print(f"skipped: the shared data is not here ({LSOA.parent.parent}; set ATLAS_SHARED_DATA)")
        return
    repos = {"this": ROOT}
    base = Path(args.baseline).resolve() if args.baseline != "none" else None
    if base is not None and (base / ".venv" / "bin" / "python").exists() and (base / "geo").is_dir():
        repos["baseline"] = base
    elif base is not None:
        print(f"no baseline: {base} is not a checkout with .venv (give --baseline)")
    work = Path(tempfile.mkdtemp(prefix="atlas-bench-cli-"))
    try:
        results: dict[str, dict[str, list[dict]]] = {name: {} for name in repos}
        sizes: dict[str, int] = {}
        for name, repo in repos.items():  # compile each checkout's bytecode once, outside the timings
            run(repo, ["--help"], environment(work, name, work / f"warmup-{name}"))
        for i in range(args.repeats):
            for name, repo in repos.items():  # interleaved, so a busy machine slows both alike
                cache = work / f"cache-{name}-{i}"
                env = environment(work, name, cache)
                out = work / f"{name}.html"
                mapping = ["map", str(LSOA), str(TABLE), "--column", "imd_score", "--out", str(out)]
                results[name].setdefault("--help", []).append(run(repo, ["--help"], env))
                results[name].setdefault("map, cold cache", []).append(run(repo, mapping, env))
                sizes[name] = out.stat().st_size
                results[name].setdefault("map, warm cache", []).append(run(repo, mapping, env))
                sizes[name + " warm"] = out.stat().st_size
                shutil.rmtree(work / f"xdg-{name}", ignore_errors=True)  # the next cold run reads afresh too
                shutil.rmtree(cache, ignore_errors=True)
        summary = {name: {case: median_of(samples) for case, samples in cases.items()}
                   for name, cases in results.items()}
        head = f"{'case':18s} {'wall':>8s} {'cpu':>8s} {'rss':>8s}"
        if "baseline" in summary:
            head += f" | {'base wall':>9s} {'base cpu':>8s} {'base rss':>8s} | {'wall ×':>6s} {'cpu ×':>6s}"
        print(f"python -m geo, median of {args.repeats} whole processes (this: {ROOT}; baseline: "
              f"{repos.get('baseline', 'none')})")
        print(head)
        for case, this in summary["this"].items():
            line = f"{case:18s} {this['wall']:7.2f}s {this['cpu']:7.2f}s {this['rss_mb']:6.0f}MB"
            if "baseline" in summary:
                b = summary["baseline"][case]
                line += (f" | {b['wall']:8.2f}s {b['cpu']:7.2f}s {b['rss_mb']:6.0f}MB | "
                         f"{this['wall'] / b['wall']:5.2f}× {this['cpu'] / b['cpu']:5.2f}×")
            print(line)
        print("map page: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"median": summary, "runs": results, "bytes": sizes,
                                              "repos": {k: str(v) for k, v in repos.items()}}, indent=2),
                                  encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
