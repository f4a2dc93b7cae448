"""Benchmark: the test doubles' own timings (`make bench` runs it after bench/run.py).

Two figures that used to be asserted inside tests (tests/test_mirror.py), each beside a baseline
measured in the same run:

* the loopback mirror's ``stall_once``: how long a client with a 0.3 s timeout takes to give up on a
  GET stalled for 2.0 s (it should be about its own timeout, not the stall), against an unstalled GET
  of the same 100 KB file, and how long the next (unstalled) GET takes;
* the synthetic IoD2025 fixture (tests/iod2025_fixture.py): building it cold in a fresh process,
  against only reading the real files it is built from (fresh process too), and a warm (cached) call.

Medians of --repeats. Nothing here asserts a time: it prints the figures and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.mirror import Mirror  # noqa: E402

SHARED = Path(os.environ.get("ATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
PATH = "/media/bench/File_7.csv"
PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes, as in tests/test_mirror.py
STALL_S, CLIENT_TIMEOUT_S = 2.0, 0.3  # as in tests/test_mirror.py::test_stall_once
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never via a proxy


def _get(url: str, timeout: float) -> tuple[float, str]:
    """(seconds, outcome) of one GET: 'ok', 'timeout' or the error's name."""
    start = time.perf_counter()
    try:
        with _OPENER.open(url, timeout=timeout) as resp:
            outcome = "ok" if resp.read() == PAYLOAD else "wrong body"
    except (TimeoutError, urllib.error.URLError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        outcome = "timeout" if isinstance(reason, TimeoutError) else type(reason).__name__
    return time.perf_counter() - start, outcome


def stall_figures(repeats: int) -> dict:
    plain, stalled, after, outcomes = [], [], [], set()
    with Mirror() as mirror:
        url = mirror.add_file(PATH, PAYLOAD)
        _get(url, 5)  # warm the server and the connection machinery
        for _ in range(repeats):
            seconds, outcome = _get(url, 5)
            plain.append(seconds)
            outcomes.add(("unstalled", outcome))
            mirror.stall_once(PATH, STALL_S)
            seconds, outcome = _get(url, CLIENT_TIMEOUT_S)
            stalled.append(seconds)
            outcomes.add(("stalled", outcome))
            seconds, outcome = _get(url, 5)
            after.append(seconds)
            outcomes.add(("next", outcome))
    give_up = statistics.median(stalled)
    return {"stall_s": STALL_S, "client_timeout_s": CLIENT_TIMEOUT_S,
            "unstalled_get_ms": round(statistics.median(plain) * 1000, 1),
            "stalled_get_gives_up_ms": round(give_up * 1000, 1),
            "next_get_ms": round(statistics.median(after) * 1000, 1),
            "give_up_over_client_timeout": round(give_up / CLIENT_TIMEOUT_S, 2),
            "give_up_over_stall": round(give_up / STALL_S, 2),
            "outcomes": ", ".join(f"{what} {how}" for what, how in sorted(outcomes))}


_FIXTURE_COLD = """
import json, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
from tests import iod2025_fixture as fx
fx.iod2025_fixture()
cold = time.perf_counter() - start
start = time.perf_counter()
f = fx.iod2025_fixture()
warm = time.perf_counter() - start
print(json.dumps({{"cold": cold, "warm": warm, "lsoa21": len(f["lsoa21"]), "lad24": len(f["lad24"])}}))
"""

_INPUTS_ONLY = """
import json, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
import geopandas as gpd, pandas as pd
from tests import iod2025_fixture as fx
pd.read_csv(fx.ALL_SCORES); pd.read_csv(fx.LOOKUP_11_21, dtype=str)
gpd.read_file(fx.LSOA11_GPKG, engine="pyogrio"); gpd.read_file(fx.LAD21_GPKG, engine="pyogrio")
print(json.dumps({{"read": time.perf_counter() - start}}))
"""


def _fresh(code: str) -> dict:
    run = subprocess.run([sys.executable, "-c", code.format(root=str(ROOT))], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def fixture_figures(repeats: int) -> dict | None:
    from tests.iod2025_fixture import shared_data_available

    if not shared_data_available():
        return None
    builds = [_fresh(_FIXTURE_COLD) for _ in range(repeats)]
    reads = [_fresh(_INPUTS_ONLY)["read"] for _ in range(repeats)]
    cold = statistics.median(b["cold"] for b in builds)
    read = statistics.median(reads)
    return {"lsoa21": builds[0]["lsoa21"], "lad24": builds[0]["lad24"],
            "inputs_read_only_s": round(read, 2), "fixture_cold_s": round(cold, 2),
            "fixture_warm_ms": round(statistics.median(b["warm"] for b in builds) * 1000, 1),
            "ratio_cold_over_read": round(cold / read, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "mirror.json"))
    args = parser.parse_args()
    stall = stall_figures(max(args.repeats, 5))
    fixture = fixture_figures(args.repeats)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"stall_once": stall, "iod2025_fixture": fixture}, indent=2))
    print(f"Mirror stall_once (stall {STALL_S} s, client timeout {CLIENT_TIMEOUT_S} s; baseline = the same GET "
          "unstalled):")
    for key, value in stall.items():
        print(f"  {key:30} {value}")
    if fixture is None:
        print(f"\nIoD2025 fixture: skipped, real open data not at {SHARED} (set ATLAS_SHARED_DATA)")
    else:
        print("\nSynthetic IoD2025 fixture (fresh process each time; baseline = only reading its input files):")
        for key, value in fixture.items():
            print(f"  {key:30} {value}")
    print(f"\n(medians of {args.repeats} or more; written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
