"""Write nrf_2001.csv from the NRF 2001 authorities list and a 2019 district name/code list (authoring aid only).

Usage: python geo/reference/make_nrf_2001.py NRF_AUTHORITIES.csv LAD19_NAMES_CODES.csv [OUT.csv]

NRF_AUTHORITIES.csv is the list of the 88 authorities read from Hansard (columns `nrf_name`,
`lad19cd`, `abolished_2009`, `alloc_2001_02_gbp_m`, `alloc_2002_03_gbp_m`, `alloc_2003_04_gbp_m`,
`source`); LAD19_NAMES_CODES.csv is any CSV of the 317 English districts of December 2019 with a name
and a code column (e.g. ONS "LAD (Dec 2019) Names and Codes": LAD19NM, LAD19CD). The output is
committed; nothing in `geo/` runs this script. Every row keeps its source, and `verification` says
how well it is verified (see `verification_of`).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

# Districts abolished on 1 April 2009 → the unitary authority of 2019 that took in their area.
ABOLISHED_2009 = {
    "Derwentside": "County Durham",
    "Easington": "County Durham",
    "Sedgefield": "County Durham",
    "Wear Valley": "County Durham",
    "Kerrier": "Cornwall",
    "Penwith": "Cornwall",
    "Wansbeck": "Northumberland",
}

ALLOCATIONS = ("alloc_2001_02_gbp_m", "alloc_2002_03_gbp_m", "alloc_2003_04_gbp_m")
COLUMNS = ("nrf_name", "lad19_code", "lad19_name", "abolished_2009", "note", *ALLOCATIONS, "verification", "source")
VERIFICATION = ("primary table", "primary text", "secondary", "unverified")


def verification_of(source: str, has_allocation: bool) -> str:
    """How a row was verified, from its source text.

    - "primary table": an allocation figure read from a primary document (Hansard, a council return);
    - "primary text": membership stated in a primary document, no allocation figure read;
    - "secondary": only news reports, press releases or council papers ("secondary only", "supporting only");
    - "unverified": carried over from an earlier list, no source read.
    """
    low = source.strip().lower()
    if low.startswith("unverified") or not low:
        return "unverified"
    if low.startswith(("secondary only", "supporting only")):
        return "secondary"
    return "primary table" if has_allocation else "primary text"


def _column(header: list[str], kind: str) -> int:
    """Index of the name ('nm'/'name') or code ('cd'/'code') column of a 2019 district list."""
    ends = ("nm", "name") if kind == "name" else ("cd", "code")
    hits = [i for i, h in enumerate(header) if h.strip().lower().endswith(ends)]
    if not hits:
        sys.exit(f"No {kind} column in {header}")
    return hits[0]


def read_districts(path: Path) -> dict[str, str]:
    """2019 district code → name from a CSV of names and codes."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    name, code = _column(rows[0], "name"), _column(rows[0], "code")
    return {r[code].strip(): r[name].strip() for r in rows[1:] if r and r[code].strip().startswith("E0")}


def read_authorities(path: Path) -> list[dict[str, str]]:
    """The authorities list as rows of strings."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def build(authorities: list[dict[str, str]], districts: dict[str, str]) -> list[dict[str, str]]:
    """One row per NRF authority of 2001, placed in the 2019 district set, with allocations and source."""
    names = [a["nrf_name"] for a in authorities]
    if len(names) != 88 or len(set(names)) != 88:
        sys.exit(f"expected 88 distinct authorities, got {len(names)} ({len(set(names))} distinct)")
    rows = []
    for a in sorted(authorities, key=lambda r: r["nrf_name"]):
        code = a["lad19cd"]
        if code not in districts:
            sys.exit(f"{a['nrf_name']!r}: {code} is not a 2019 district code")
        abolished = a["abolished_2009"].lower() == "true"
        if abolished != (a["nrf_name"] in ABOLISHED_2009):
            sys.exit(f"{a['nrf_name']!r}: abolished_2009 = {a['abolished_2009']} disagrees with the 2009 reorganisation")
        if abolished and districts[code] != ABOLISHED_2009[a["nrf_name"]]:
            sys.exit(f"{a['nrf_name']!r}: placed in {districts[code]}, not {ABOLISHED_2009[a['nrf_name']]}")
        allocations = {k: a.get(k, "") for k in ALLOCATIONS}
        for v in allocations.values():
            if v:
                float(v)  # a figure that is not a number stops the build
        note = f"abolished 2009; merged into {districts[code]} (2009)" if abolished else ""
        rows.append({"nrf_name": a["nrf_name"], "lad19_code": code, "lad19_name": districts[code],
                     "abolished_2009": "true" if abolished else "false", "note": note, **allocations,
                     "verification": verification_of(a["source"], any(allocations.values())),
                     "source": a["source"]})
    return rows


def main(argv: list[str]) -> None:
    """Read the two lists named on the command line and write the fact table."""
    if len(argv) not in (3, 4):
        sys.exit(__doc__)
    out = Path(argv[3]) if len(argv) == 4 else Path(__file__).with_name("nrf_2001.csv")
    rows = build(read_authorities(Path(argv[1])), read_districts(Path(argv[2])))
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main(sys.argv)
