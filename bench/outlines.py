"""District outlines of the national LSOA layer (geo/present/outlines.py): time cold and warm, and wire bytes.

Reads the real LSOA 2011 boundaries and the LSOA → district (2019) lookup from $ATLAS_SHARED_DATA (default
../shared/data), dissolves the 32,844 LSOAs into their districts' border lines `--repeat` times from a cold
memo, and times a warm call (the memo's key) after each. Prints JSON; not a test (nothing asserts a time).
Run: `python bench/outlines.py`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.present import outlines  # noqa: E402
from tests.cases import SHARED  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import geopandas as gpd
    import pandas as pd

    gpkg, lookup = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg", SHARED / "lookups" / "lookup_lsoa11_ltla19.csv"
    if not (gpkg.is_file() and lookup.is_file()):
        print(f"real data not found under {SHARED} (set ATLAS_SHARED_DATA)", file=sys.stderr)
        return 1
    gdf = gpd.read_file(gpkg).merge(pd.read_csv(lookup, dtype=str)[["lsoa11_code", "ltla19_code", "ltla19_name"]],
                                    on="lsoa11_code", how="left")
    cold, warm, found = [], [], None
    for _ in range(args.repeat):
        outlines.clear_memo()
        t = time.perf_counter()
        found = outlines.district_outlines(gdf, "lsoa11_code", "ltla19_code", "ltla19_name")
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        outlines.district_outlines(gdf, "lsoa11_code", "ltla19_code", "ltla19_name")
        warm.append(time.perf_counter() - t)
    wire = json.dumps({"q": outlines.QUANTUM, "lines": [list(line) for line in found.lines]}, separators=(",", ":"))
    labels = json.dumps([list(label) for label in found.labels], separators=(",", ":"), ensure_ascii=False)
    print(json.dumps({"lsoas": len(gdf), "districts": len(found.labels), "lines": len(found.lines),
                      "vertices": found.vertices, "tolerance_m": found.tolerance_m, "outline_bytes": len(wire),
                      "label_bytes": len(labels), "cold_s_median": round(statistics.median(cold), 3),
                      "warm_ms_median": round(1000 * statistics.median(warm), 1)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
