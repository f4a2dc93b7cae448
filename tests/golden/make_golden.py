"""Write the golden district summaries that tests/test_golden.py compares: `python tests/golden/make_golden.py`.

Both files are exactly what `python -m geo summarise <table> --out <csv>` writes (the CLI is run
in-process through `geo.__main__.main`, so the files and the tests go the same way as a user):

- ``demo_district_summaries.csv``: every district of the embedded demo pack
  (``indicators/demo_iod_file7.csv``, fictional, always present);
- ``district_summaries_10.csv``: ten real IoD2019 districts chosen to cover the spread, from the
  shared all-scores table (skipped, with a message, when the shared data is absent). Ranks are
  among all 317 districts: the CLI summarises every district and only the ten rows are kept.

A change in either file must be explained in the commit that makes it (see README.md here).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.cases import SHARED  # noqa: E402

GOLDEN = Path(__file__).resolve().parent
DEMO_TABLE = ROOT / "indicators" / "demo_iod_file7.csv"
ALL_SCORES = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
DEMO_GOLDEN = GOLDEN / "demo_district_summaries.csv"
REAL_GOLDEN = GOLDEN / "district_summaries_10.csv"

# Ten IoD2019 districts over the spread: the most deprived (Blackpool, rank 1 on average score), big
# cities (Liverpool, Birmingham: most people income- and employment-deprived), inner London (Tower
# Hamlets), a small deprived unitary (Hartlepool), large mixed counties (County Durham, Cornwall),
# the least deprived (Hart), and the two tiny ones (City of London: 6 LSOAs; Isles of Scilly: 1).
TEN = {
    "E06000009": "Blackpool", "E06000001": "Hartlepool", "E08000012": "Liverpool",
    "E09000030": "Tower Hamlets", "E08000025": "Birmingham", "E06000047": "County Durham",
    "E06000052": "Cornwall", "E09000001": "City of London", "E06000053": "Isles of Scilly",
    "E07000089": "Hart",
}


def summarise(table: Path, keep: set[str] | None = None) -> str:
    """The CSV text `python -m geo summarise table --out …` writes; only the rows of `keep` if given."""
    from geo.__main__ import main

    with tempfile.TemporaryDirectory(prefix="atlas-golden-") as tmp:
        out = Path(tmp) / "summaries.csv"
        status = main(["summarise", str(table), "--out", str(out)])
        if status != 0:
            raise RuntimeError(f"python -m geo summarise {table} exited {status}")
        text = out.read_text(encoding="utf-8")
    if keep is None:
        return text
    header, *rows = text.splitlines(keepends=True)
    kept = [r for r in rows if r.split(",", 1)[0] in keep]  # district codes hold no comma
    found = {r.split(",", 1)[0] for r in kept}
    if found != set(keep):
        raise RuntimeError(f"districts not in {table}: {sorted(set(keep) - found)}")
    return header + "".join(kept)


def main() -> int:
    DEMO_GOLDEN.write_text(summarise(DEMO_TABLE), encoding="utf-8")
    print(f"wrote {DEMO_GOLDEN.relative_to(ROOT)}")
    if ALL_SCORES.is_file():
        REAL_GOLDEN.write_text(summarise(ALL_SCORES, set(TEN)), encoding="utf-8")
        print(f"wrote {REAL_GOLDEN.relative_to(ROOT)}")
    else:
        print(f"skipped {REAL_GOLDEN.relative_to(ROOT)}: {ALL_SCORES} not found (set ATLAS_SHARED_DATA)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
