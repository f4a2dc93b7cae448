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


def find_population_column(headers: list[str]) -> str | None:
    """The total-population denominator column, if the table has one."""
    lowered = {h.replace("\ufeff", "").strip().lower(): h for h in headers}
    for entry in load_catalogue()["population"]:
        for candidate in entry["headers"]:
            if candidate.lower() in lowered:
                return lowered[candidate.lower()]
    return None


def describe_column(header: str, recognised: dict[str, Column]) -> Column:
    """A Column for any header: recognised IoD measures by the catalogue, others as 'higher is worse' values."""
    if header in recognised:
        return recognised[header]
    for entry in summaries():
        if header == entry["id"]:
            worse_high = entry["direction"] == "higher_is_worse"
            return Column(header, header, "summary", entry["label"], worse_high)
    return Column(header, header, "value", header, True)
