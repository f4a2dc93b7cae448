"""Benchmark: every map view's server-side rerun in the real app script, and `python -m geo render` as a whole process.

For each view of the demo pack (and each view the command line can draw on the real IoD2019 files),
the median of N timed runs. `--repo DIR` times another checkout (e.g. a worktree of an earlier
commit) in the same run, so the figures come as ratios against that baseline. Not a test: nothing
here asserts a time. Results go to bench/results/views.json.

    .venv/bin/python bench/views.py [--repeats 5] [--repo ../baseline-checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
VIEWS = ("Districts (England)", "Neighbourhoods (LSOAs)", "Fund eligibility", "Target progress")
APP_SNIPPET = r"""
import json, statistics, sys, time
from streamlit.testing.v1 import AppTest
repo, repeats = sys.argv[1], int(sys.argv[2])
out = {}
at = AppTest.from_file(repo + "/app.py", default_timeout=300).run()
for view in %r:
    at.sidebar.radio(key="view").set_value(view).run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    assert not at.exception, (view, at.exception)
    out[view] = statistics.median(times)
print(json.dumps(out))
""" % (VIEWS,)


def app_reruns(repo: Path, repeats: int) -> dict[str, float]:
    """Median rerun time of each view in the app script at `repo` (AppTest, demo pack, warm caches)."""
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", APP_SNIPPET, str(repo), str(repeats)],
                         cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    if run.returncode:
        raise SystemExit(run.stderr[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def cli_renders(repo: Path, repeats: int, out_dir: Path) -> dict[str, float]:
    """Median wall time of whole `python -m geo render` processes at `repo` on the real IoD2019 files."""
    lsoa = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"
    table = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
    lad = SHARED / "boundaries" / "lad19_england_buc.gpkg"
    if not (lsoa.is_file() and table.is_file() and lad.is_file()):
        return {}
    files = ["--lsoa", str(lsoa), "--table", str(table), "--districts", str(lad)]
    cases = {"districts slide": "?view=districts&measure=imd&summary=average_score",
             "Hartlepool LSOAs slide": "?view=lsoas&measure=imd&districts=E06000001"}
    out = {}
    for name, link in cases.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "geo", "render", *files, "--view", link,
                                  "--out", str(out_dir / "bench.png")], cwd=repo, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if run.returncode:
                raise SystemExit(run.stderr[-2000:])
        out[name] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--repo", help="a baseline checkout timed in the same run (ratios are this one / it)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "views.json"))
    args = parser.parse_args()
    out_dir = Path(args.out).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    repos = {"this": ROOT} | ({"baseline": Path(args.repo).resolve()} if args.repo else {})
    results = {name: {"app rerun": app_reruns(repo, args.repeats), "cli": cli_renders(repo, 3, out_dir)}
               for name, repo in repos.items()}
    print(f"{'case':40s} {'this':>9s}" + (f" {'baseline':>9s} {'ratio':>7s}" if args.repo else ""))
    for part in ("app rerun", "cli"):
        for case, value in results["this"][part].items():
            line = f"{part + ': ' + case:40s} {value:8.3f}s"
            if args.repo:
                base = results["baseline"][part].get(case)
                line += f" {base:8.3f}s {value / base:6.2f}×" if base else "        –       –"
            print(line)
    Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
