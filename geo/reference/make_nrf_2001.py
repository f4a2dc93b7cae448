"""Write nrf_2001.csv from the 88 NRF names of 2001 and a 2019 district name/code list (authoring aid only).

Usage: python geo/reference/make_nrf_2001.py LAD19_NAMES_CODES.csv [OUT.csv]

The input is any CSV of the 317 English districts of December 2019 with a name and a code column
(e.g. ONS "LAD (Dec 2019) Names and Codes": LAD19NM, LAD19CD). The output is committed; nothing
in `geo/` runs this script.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

# The 88 authorities eligible for the Neighbourhood Renewal Fund in 2001, by their 2001 names.
NRF_2001 = (
    "Allerdale", "Ashfield", "Barking and Dagenham", "Barnsley", "Barrow-in-Furness", "Birmingham",
    "Blackburn with Darwen", "Blackpool", "Bolsover", "Bolton", "Bradford", "Brent", "Brighton & Hove",
    "Bristol", "Burnley", "Camden", "Coventry", "Croydon", "Derby", "Derwentside", "Doncaster", "Dudley",
    "Ealing", "Easington", "Enfield", "Gateshead", "Great Yarmouth", "Greenwich", "Hackney", "Halton",
    "Hammersmith and Fulham", "Haringey", "Hartlepool", "Hastings", "Hyndburn", "Islington",
    "Kensington and Chelsea", "Kerrier", "Kingston upon Hull", "Kirklees", "Knowsley", "Lambeth", "Leeds",
    "Leicester", "Lewisham", "Lincoln", "Liverpool", "Manchester", "Mansfield", "Middlesbrough",
    "Newcastle upon Tyne", "Newham", "North East Lincolnshire", "North Tyneside", "Norwich", "Nottingham",
    "Oldham", "Pendle", "Penwith", "Plymouth", "Portsmouth", "Preston", "Redcar and Cleveland", "Rochdale",
    "Rotherham", "Salford", "Sandwell", "Sedgefield", "Sheffield", "South Tyneside", "Southampton",
    "Southwark", "St. Helens", "Stockton-on-Tees", "Stoke-on-Trent", "Sunderland", "Tameside",
    "Tower Hamlets", "Wakefield", "Walsall", "Waltham Forest", "Wansbeck", "Wandsworth", "Wear Valley",
    "Westminster", "Wigan", "Wirral", "Wolverhampton",
)

# 2001 name → official 2019 district name, where they differ.
RENAMED = {
    "Brighton & Hove": "Brighton and Hove",
    "Bristol": "Bristol, City of",
    "Kingston upon Hull": "Kingston upon Hull, City of",
}

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

COLUMNS = ("nrf_name", "lad19_code", "lad19_name", "abolished_2009", "note")


def _column(header: list[str], kind: str) -> int:
    """Index of the name ('nm'/'name') or code ('cd'/'code') column of a 2019 district list."""
    ends = ("nm", "name") if kind == "name" else ("cd", "code")
    hits = [i for i, h in enumerate(header) if h.strip().lower().endswith(ends)]
    if not hits:
        sys.exit(f"No {kind} column in {header}")
    return hits[0]


def read_districts(path: Path) -> dict[str, str]:
    """2019 district name → code from a CSV of names and codes."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    name, code = _column(rows[0], "name"), _column(rows[0], "code")
    return {r[name].strip(): r[code].strip() for r in rows[1:] if r and r[code].strip().startswith("E0")}


def build(districts: dict[str, str]) -> list[dict[str, str]]:
    """One row per NRF authority of 2001, placed in the 2019 district set."""
    assert len(NRF_2001) == len(set(NRF_2001)) == 88, len(NRF_2001)
    rows = []
    for nrf in NRF_2001:
        lad19 = ABOLISHED_2009.get(nrf) or RENAMED.get(nrf, nrf)
        if lad19 not in districts:
            sys.exit(f"{nrf!r}: no 2019 district named {lad19!r}")
        note = f"abolished 2009; now part of {lad19}" if nrf in ABOLISHED_2009 else ""
        rows.append({"nrf_name": nrf, "lad19_code": districts[lad19], "lad19_name": lad19,
                     "abolished_2009": "true" if nrf in ABOLISHED_2009 else "false", "note": note})
    return rows


def main(argv: list[str]) -> None:
    """Read the district list named on the command line and write the fact table."""
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    out = Path(argv[2]) if len(argv) == 3 else Path(__file__).with_name("nrf_2001.csv")
    rows = build(read_districts(Path(argv[1])))
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main(sys.argv)
