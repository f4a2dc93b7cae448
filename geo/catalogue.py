"""The indicator catalogue: one schema and loader for indicators/*.toml, and recognition of official IoD headers.

Three files share the schema (FIELDS): catalogue.toml (IoD measures, district summaries, populations),
series.toml (indicators of known series) and demo_floor_targets.toml (the demo series' indicators).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo.errors import AtlasError

INDICATORS_DIR = Path(__file__).resolve().parent.parent / "indicators"
CATALOGUE_PATH = INDICATORS_DIR / "catalogue.toml"
SERIES_PATH = INDICATORS_DIR / "series.toml"
DEMO_SERIES_PATH = INDICATORS_DIR / "demo_floor_targets.toml"
DATA_FILES = (CATALOGUE_PATH, SERIES_PATH, DEMO_SERIES_PATH)  # every catalogue file the project ships
KINDS = ("score", "rank", "decile")  # the columns an IoD measure is published as
VALUE_KINDS = (*KINDS, "value", "numerator", "denominator", "lower", "upper")  # what an entry's `kinds` may list
INDICATOR_SECTIONS = ("measure", "summary", "indicator")  # [[measure]] IoD measures, [[summary]] district
# summaries, [[indicator]] indicators of series; one schema for all three. [[population]]: denominators.
POOL_VINTAGES = ("lsoa01", "lsoa11")


class CatalogueError(AtlasError):
    """A catalogue file breaks the schema: the message names the file and the entry."""


@dataclass(frozen=True)
class Field:
    """One key of a catalogue entry (cf. geopandas' Option): its doc, type, where it may appear, default, check."""

    key: str
    doc: str
    types: tuple[type, ...]
    sections: tuple[str, ...] = INDICATOR_SECTIONS
    required: tuple[str, ...] = ()  # sections in which the key must be given (after [defaults])
    default: Callable[[str], object] | None = None  # section → default value when not given
    check: Callable[[object], str] | None = None    # value → what is wrong with it ('' when nothing)


def _one_of(allowed: tuple[str, ...]) -> Callable[[object], str]:
    def check(value: object) -> str:
        items = value if isinstance(value, list) else [value]
        wrong = [v for v in items if v not in allowed]
        return f"{wrong[0]!r} is not one of {', '.join(allowed)}" if wrong else ""
    return check


def _strings(value: object) -> str:
    return "" if isinstance(value, list) and all(isinstance(v, str) for v in value) else "must be a list of strings"


def _pool_vintage(value: object) -> str:
    wrong = [v for v in dict(value).values() if v not in POOL_VINTAGES]  # type: ignore[call-overload]
    return f"{wrong[0]!r} is not one of {', '.join(POOL_VINTAGES)}" if wrong else ""


def _identifier(value: object) -> str:
    return "" if re.fullmatch(r"[a-z][a-z0-9_]*", str(value)) else "must be a snake_case identifier"


_DEFAULT_KINDS = {"measure": list(KINDS), "summary": ["value", "rank"], "indicator": ["value"]}
_EVERY = (*INDICATOR_SECTIONS, "population")

# The one schema of a catalogue entry. Direction is always `higher_is_worse` (of the entry's value or score;
# ranks and deciles count 1 as the most deprived).
FIELDS: tuple[Field, ...] = (
    Field("id", "Stable identifier, snake_case; what files and code refer to.", (str,), _EVERY, _EVERY,
          check=_identifier),
    Field("label", "Name shown in selectors, legends and charts.", (str,), _EVERY, _EVERY),
    Field("description", "What the indicator measures, in a sentence or two.", (str,), default=lambda _: ""),
    Field("unit", "Unit of the value or score as shown (\"%\", \"per 1,000\", \"score\"; '' for none).", (str,),
          default=lambda _: ""),
    Field("higher_is_worse", "Direction: true when a higher value (score) is worse (more deprived).", (bool,),
          required=INDICATOR_SECTIONS),
    Field("kinds", f"The columns the values come as: any of {', '.join(VALUE_KINDS)}.", (list,),
          default=lambda section: list(_DEFAULT_KINDS[section]), check=_one_of(VALUE_KINDS)),
    Field("source", "Publisher and publication the values come from.", (str,), default=lambda _: ""),
    Field("licence", "Licence of the values.", (str,), default=lambda _: ""),
    Field("vintage", "Which releases or periods the entry covers.", (str,), default=lambda _: ""),
    # IoD measures
    Field("header", "Stem of the official MHCLG column headers (\"<header> Score\", \"<header> Rank …\").", (str,),
          ("measure",), ("measure",)),
    Field("snake", "Stem of snake_case copies of the headers (\"imd\" for imd_score).", (str,), ("measure",),
          ("measure",)),
    Field("weight", "Population that weights district summaries of the measure.", (str,), ("measure",),
          default=lambda _: "pop_total", check=_one_of(("pop_total", "pop_working_age"))),
    Field("scale_denominator", "Population the rate is multiplied by for the scale summary.", (str,), ("measure",),
          check=_one_of(("pop_total", "pop_working_age"))),
    # district summaries
    Field("domains", "The IoD measures the summary is published for (all when not given).", (list,), ("summary",),
          check=_strings),
    # series indicators
    Field("scale", "Display multiplier (100 shows a share 0.36 as 36%).", (int, float), ("indicator",),
          default=lambda _: 1.0),
    Field("phrase", "Sentence form for headlines, with {value}.", (str,), ("indicator",), default=lambda _: ""),
    Field("relative_ranks", "True when the indicator is built from relative ranks (a caveat is shown).", (bool,),
          ("indicator",), default=lambda _: False),
    Field("caveat", "The sentence shown with relative_ranks = true.", (str,), ("indicator",), default=lambda _: ""),
    Field("pool_by", "\"lsoa_count\": pool a share of LSOAs by LSOA counts (geo.derive.progress.pool_counts).", (str,),
          ("indicator",), default=lambda _: "", check=_one_of(("", "lsoa_count"))),
    Field("pool_vintage", "Period → LSOA vintage (lsoa01, lsoa11) of the counts for pool_by.", (dict,),
          ("indicator",), default=lambda _: {}, check=_pool_vintage),
    Field("theme", "Floor-target theme of a demo indicator (worklessness, crime …).", (str,), ("indicator",)),
    # population denominators
    Field("headers", "Exact headers of the population column (case aside).", (list,), ("population",),
          ("population",), check=_strings),
    Field("prefixes", "Starts of headers that name the population column.", (list,), ("population",),
          default=lambda _: [], check=_strings),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
DEFAULTS_KEYS = ("source", "licence", "vintage", "attribution")  # what [defaults] may give every entry
# Old direction keys: read (converted) only in files users bring, never in the project's own.
LEGACY_DIRECTION = {"higher_is_better": lambda v: not v, "direction": lambda v: v == "higher_is_worse"}


def _entry_name(path: Path, section: str, index: int, entry: dict) -> str:
    ident = f" {entry['id']!r}" if isinstance(entry.get("id"), str) else ""
    return f"{Path(path).name}: [[{section}]]{ident} (entry {index})"


def _validate(entry: dict, section: str, where: str, defaults: dict, legacy: bool) -> dict:
    """One entry checked against FIELDS: unknown, missing or mistyped keys raise CatalogueError naming it."""
    entry = dict(entry)
    old = [k for k in LEGACY_DIRECTION if k in entry]
    if old and legacy and section != "population":
        for key in old:
            value = entry.pop(key)
            if key == "higher_is_better" and not isinstance(value, bool):
                raise CatalogueError(f"{where}: higher_is_better must be true or false.", "Write higher_is_worse.")
            converted = LEGACY_DIRECTION[key](value)
            if entry.setdefault("higher_is_worse", converted) != converted:
                raise CatalogueError(f"{where}: {key} contradicts higher_is_worse.", "Keep higher_is_worse only.")
    allowed = [f.key for f in FIELDS if section in f.sections]
    unknown = [k for k in entry if k not in allowed]
    if unknown:
        hint = ("Write the direction as higher_is_worse = true|false." if set(unknown) & set(LEGACY_DIRECTION)
                else f"Known keys of [[{section}]]: {', '.join(allowed)}.")
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(unknown)}.", hint)
    for key in DEFAULTS_KEYS:
        if key in allowed and key not in entry and key in defaults:
            entry[key] = defaults[key]
    missing = [f.key for f in FIELDS if section in f.required and f.key not in entry]
    if missing:
        raise CatalogueError(f"{where}: missing required key(s) {', '.join(missing)}.",
                             "; ".join(f"{k}: {FIELD_BY_KEY[k].doc}" for k in missing))
    for key in allowed:
        f = FIELD_BY_KEY[key]
        if key not in entry:
            if f.default is not None:
                entry[key] = f.default(section)
            continue
        value = entry[key]
        if not isinstance(value, f.types) or (bool not in f.types and isinstance(value, bool)):
            raise CatalogueError(f"{where}: {key} = {value!r} is not a {' or '.join(t.__name__ for t in f.types)}.",
                                 f"{key}: {f.doc}")
        problem = f.check(value) if f.check else ""
        if problem:
            raise CatalogueError(f"{where}: {key} {problem}.", f"{key}: {f.doc}")
    if section == "summary":
        # Derived, for readers of the old string form (geo/views.py, ui/compare.py): not a key of the files.
        entry["direction"] = "higher_is_worse" if entry["higher_is_worse"] else "lower_is_worse"
    return entry


def read_catalogue(path: Path | str, legacy: bool = False) -> dict:
    """Read and validate one catalogue file: {"defaults": {...}, section: [entries …]}, every key filled in.

    Sections are [[measure]], [[summary]], [[indicator]] (one schema, FIELDS) and [[population]]; a [defaults]
    table gives source, licence, vintage (and the attribution) to entries that do not say. `legacy=True`
    (files users bring) converts the old direction keys higher_is_better / direction to higher_is_worse.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path.name} is not valid TOML: {exc}.", "Compare it with indicators/series.toml.") \
            from exc
    unknown = [k for k in doc if k not in ("defaults", *_EVERY)]
    if unknown:
        raise CatalogueError(f"{path.name}: unknown table(s) {', '.join(unknown)}.",
                             f"Use [defaults] and [[{']], [['.join(_EVERY)}]].")
    defaults = dict(doc.get("defaults", {}))
    wrong = [k for k in defaults if k not in DEFAULTS_KEYS]
    if wrong:
        raise CatalogueError(f"{path.name}: [defaults] has unknown key(s) {', '.join(wrong)}.",
                             f"[defaults] may give {', '.join(DEFAULTS_KEYS)}.")
    out: dict = {"defaults": defaults}
    for section in _EVERY:
        entries = doc.get(section, [])
        if not isinstance(entries, list):
            raise CatalogueError(f"{path.name}: {section} must be an array of tables.", f"Write [[{section}]].")
        out[section] = [_validate(e, section, _entry_name(path, section, i, e), defaults, legacy)
                        for i, e in enumerate(entries, 1)]
        ids = [e["id"] for e in out[section]]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise CatalogueError(f"{path.name}: [[{section}]] {dup[0]!r} is given twice.", "Keep one entry per id.")
    return out


@lru_cache(maxsize=8)
def _read_cached(path: Path, mtime_ns: int, legacy: bool) -> dict:
    return read_catalogue(path, legacy)


def read_catalogue_cached(path: Path | str, legacy: bool = False) -> dict:
    """read_catalogue keyed by the file's path and modification time."""
    path = Path(path).resolve()
    return _read_cached(path, path.stat().st_mtime_ns, legacy)


def load_catalogue(path: Path = CATALOGUE_PATH) -> dict:
    """The validated IoD catalogue (indicators/catalogue.toml): defaults, measures, summaries, populations."""
    return read_catalogue_cached(path)


def series_indicators(extra: tuple[Path | str, ...] = ()) -> list[dict]:
    """Indicator entries of indicators/series.toml, then of `extra` files (users' own; old direction keys read)."""
    found = list(read_catalogue_cached(SERIES_PATH)["indicator"])
    for path in extra:
        if Path(path).is_file():
            found += read_catalogue_cached(path, legacy=True)["indicator"]
    return found


def measures() -> list[dict]:
    """Catalogue entries of the IMD and its domains, in catalogue order."""
    return list(load_catalogue()["measure"])


def summaries() -> list[dict]:
    """Catalogue entries of the district summary measures."""
    return list(load_catalogue()["summary"])


def summaries_for(measure: str) -> list[dict]:
    """The district summary measures published for one IoD measure (scale: Income and Employment only)."""
    return [s for s in summaries() if measure in (s.get("domains") or [measure])]


def measure_entry(measure: str) -> dict:
    """The catalogue entry of one IoD measure (KeyError naming the known ones if unknown)."""
    for entry in measures():
        if entry["id"] == measure:
            return entry
    raise KeyError(f"unknown measure {measure!r}; known: {', '.join(m['id'] for m in measures())}")


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
        for kind in (k for k in entry["kinds"] if k in KINDS):
            wanted = {f"{stem} {kind}", f"{entry['snake']}_{kind}"}
            for header in headers:
                if _clean_header(header) in wanted and header not in found:
                    found[header] = Column(header, entry["id"], kind, f"{entry['label']} {kind}",
                                          entry["higher_is_worse"] if kind == "score" else False)
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
        for prefix in entry["prefixes"]:
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
            return Column(header, header, "summary", entry["label"], entry["higher_is_worse"])
    return Column(header, header, "value", header, True)
