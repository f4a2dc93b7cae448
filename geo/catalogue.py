"""The indicator catalogue (indicators/catalogue.toml) and recognition of official IoD headers."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "indicators" / "catalogue.toml"
KINDS = ("score", "rank", "decile")


@dataclass(frozen=True)
class Column:
    """What a table column holds: a measure id, a kind (score/rank/decile) and its direction."""

    name: str
    measure: str
    kind: str
    label: str
    higher_is_worse: bool = True  # scores: higher is more deprived; ranks and deciles: 1 is

    @property
    def is_decile(self) -> bool:
        return self.kind == "decile"


@lru_cache(maxsize=1)
def load_catalogue(path: Path = CATALOGUE_PATH) -> dict:
    """Read the catalogue TOML once."""
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def measures() -> list[dict]:
    """Catalogue entries of the IMD and its domains, in catalogue order."""
    return list(load_catalogue()["measure"])


def summaries() -> list[dict]:
    """Catalogue entries of the district summary measures."""
    return list(load_catalogue()["summary"])


def summaries_for(measure: str) -> list[dict]:
    """The district summary measures published for one IoD measure (scale: Income and Employment only)."""
    return [s for s in summaries() if measure in s.get("domains", [measure])]


def measure_entry(measure: str) -> dict:
    """The catalogue entry of one IoD measure (KeyError naming the known ones if unknown)."""
    for entry in measures():
        if entry["id"] == measure:
            return entry
    raise KeyError(f"unknown measure {measure!r}; known: {', '.join(m['id'] for m in measures())}")


def _clean_header(header: str) -> str:
    h = header.replace("\ufeff", "").strip().lower()
    # Only the official clauses: "(where 1 is most deprived 10% of LSOAs in the district)" is a local decile.
    h = re.sub(r"\(where 1 is most deprived( 10% of lsoas)?\)", "", h)
    h = h.replace("(rate)", "")
    return re.sub(r"\s+", " ", h).strip()


def recognise_columns(headers: list[str]) -> dict[str, Column]:
    """Map official IoD headers (File 1/2/7 or snake_case) to catalogue measures."""
    found: dict[str, Column] = {}
    for entry in measures():
        stem = entry["header"].lower()
        for kind in KINDS:
            wanted = {f"{stem} {kind}", f"{entry['snake']}_{kind}"}
            for header in headers:
                if _clean_header(header) in wanted and header not in found:
                    found[header] = Column(header, entry["id"], kind, f"{entry['label']} {kind}", kind == "score")
    return found


def find_population_column(headers: list[str], population: str = "pop_total") -> str | None:
    """A denominator column (total population by default, or e.g. "pop_working_age"), if the table has one.

    Exact headers first, then a header starting with one of the entry's prefixes (IoD2025's wording).
    """
    lowered = {h.replace("\ufeff", "").strip().lower(): h for h in headers}
    entries = [e for e in load_catalogue()["population"] if e["id"] == population]
    if not entries:
        raise KeyError(f"unknown population {population!r}")
    for entry in entries:
        for candidate in entry["headers"]:
            if candidate.lower() in lowered:
                return lowered[candidate.lower()]
        for prefix in entry.get("prefixes", []):
            hits = [h for low, h in lowered.items() if low.startswith(prefix.lower())]
            if hits:
                return hits[0]
    return None


NATIONAL_LSOAS = {"2011": 32844, "2021": 33755}
_FILE7_LSOA = re.compile(r"^lsoa code \((\d{4})\)$")
_FILE7_DISTRICT = re.compile(r"^local authority district code \((\d{4})\)$")
_FILE7_DISTRICT_NAME = re.compile(r"^local authority district name \((\d{4})\)$")


@dataclass(frozen=True)
class ReleaseLayout:
    """Where an IoD LSOA table keeps what district summaries need, recognised from its own headers."""

    release: str                 # "IoD2019 File 7", "IoD2025 File 7", "IoD2019 all-scores (snake_case)" …
    lsoa_column: str
    district_column: str
    district_name_column: str | None
    populations: dict[str, str]  # "pop_total" / "pop_working_age" → header
    scores: dict[str, str]       # measure id → score header
    ranks: dict[str, str]        # measure id → rank header
    n_national: int              # how many LSOAs the ranks are out of


def recognise_release(headers: list[str]) -> ReleaseLayout | None:
    """Recognise an IoD File 7 (2019, 2025 or any year's pattern) or the snake_case all-scores table; None if neither."""
    clean = {h.replace("\ufeff", "").strip().lower(): h for h in map(str, headers)}
    lsoa = district = name = None
    lsoa_year = district_year = ""
    for low, h in clean.items():
        if (m := _FILE7_LSOA.match(low)) and lsoa is None:
            lsoa, lsoa_year = h, m.group(1)
        elif (m := _FILE7_DISTRICT.match(low)) and district is None:
            district, district_year = h, m.group(1)
        elif _FILE7_DISTRICT_NAME.match(low) and name is None:
            name = h
    if lsoa and district:
        release = {("2011", "2019"): "IoD2019 File 7", ("2021", "2024"): "IoD2025 File 7"}.get(
            (lsoa_year, district_year), f"IoD File 7 (LSOA {lsoa_year}, districts {district_year})")
    elif "lsoa11cd" in clean and "lad19cd" in clean:
        lsoa, district, name, lsoa_year = clean["lsoa11cd"], clean["lad19cd"], clean.get("lad19nm"), "2011"
        release = "IoD2019 all-scores (snake_case)"
    elif "lsoa21cd" in clean and "lad24cd" in clean:
        lsoa, district, name, lsoa_year = clean["lsoa21cd"], clean["lad24cd"], clean.get("lad24nm"), "2021"
        release = "IoD2025 all-scores (snake_case)"
    else:
        return None
    recognised = recognise_columns(list(map(str, headers)))
    scores = {c.measure: c.name for c in recognised.values() if c.kind == "score"}
    ranks = {c.measure: c.name for c in recognised.values() if c.kind == "rank"}
    populations = {p: col for p in ("pop_total", "pop_working_age")
                   if (col := find_population_column(list(map(str, headers)), p))}
    n = NATIONAL_LSOAS.get(lsoa_year, 0)
    return ReleaseLayout(release, lsoa, district, name, populations, scores, ranks, n)


def describe_column(header: str, recognised: dict[str, Column]) -> Column:
    """A Column for any header: recognised IoD measures by the catalogue, others as 'higher is worse' values."""
    if header in recognised:
        return recognised[header]
    for entry in summaries():
        if header == entry["id"]:
            worse_high = entry["direction"] == "higher_is_worse"
            return Column(header, header, "summary", entry["label"], worse_high)
    return Column(header, header, "value", header, True)
