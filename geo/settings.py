"""Limits and defaults as data: each setting has a name, a default and a line of help."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | float | str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("max_file_mb", 200, "Largest boundary or indicator file accepted, in MB."),
    Setting("max_unzipped_mb", 1000, "Largest total size of a zip archive's members once unpacked, in MB."),
    Setting("max_zip_members", 64, "Most members a zipped Shapefile may contain."),
    Setting("max_zip_ratio", 200, "Highest unpacked/packed size ratio for a zip member (zip-bomb guard)."),
    Setting("max_features", 300_000, "Most features read from one boundary layer."),
    Setting("max_vertices", 20_000_000, "Most vertices read from one boundary layer."),
    Setting("max_table_rows", 2_000_000, "Most rows read from one indicator table."),
    Setting("map_precision", 5, "Decimal places of longitude/latitude sent to the browser (5 is about 1 m)."),
    Setting("canvas_min_features", 2000, "Layers with at least this many areas are drawn on a canvas from cached geometry."),
    Setting("fisher_jenks_sample", 600, "Values sampled for Fisher-Jenks breaks (exact Jenks on 33k values takes seconds)."),
    Setting("default_k", 5, "Number of classes for schemes that take k."),
    Setting("map_frame", "live", "How the app draws its map: 'live' keeps one map frame and restyles it on a change "
            "of measure, scheme or palette (ui/atlas_map); 'folium' re-renders the whole map each run (the old "
            "path, streamlit-folium). $ATLAS_MAP_FRAME overrides it."),
    Setting("max_session_mb", 450, "Largest saved-session file accepted (it holds up to three uploaded files), in MB."),
    Setting("geometry_cache", "", "Where the command line keeps prepared map geometry and read boundaries "
            "($ATLAS_GEOMETRY_CACHE; empty: the app's static/geometry in a checkout, else ~/.cache/atlas/geometry; "
            "'off': none)."),
)

DEFAULTS: dict[str, int | float | str] = {s.name: s.default for s in SETTINGS}


def setting(name: str) -> int | float | str:
    """Return a setting's default value by name."""
    return DEFAULTS[name]


REPO = Path(__file__).resolve().parent.parent


def app_geometry_store() -> Path:
    """The app's store of prepared geometry: static/geometry/ of the checkout (Streamlit serves it)."""
    return REPO / "static" / "geometry"


def geometry_cache() -> Path | None:
    """Where the command line finds and keeps prepared geometry (None: off, prepared in memory every run).

    $ATLAS_GEOMETRY_CACHE, else the `geometry_cache` setting, else the app's store when run from a checkout
    (so the app, pack builds and the command line prepare each layer once between them), else the user's
    cache folder ($XDG_CACHE_HOME or ~/.cache, then atlas/geometry).
    """
    chosen = os.environ.get("ATLAS_GEOMETRY_CACHE", "").strip() or str(setting("geometry_cache")).strip()
    if chosen.lower() in ("off", "none", "0"):
        return None
    if chosen:
        return Path(chosen).expanduser()
    app = app_geometry_store()
    if (REPO / "app.py").is_file() and os.access(app.parent if app.parent.is_dir() else REPO, os.W_OK):
        return app
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "atlas" / "geometry"


def read_cache() -> Path | None:
    """Where the command line keeps boundary files it has read (geo.load.readcache), None when caching is off.

    reads/ inside the geometry cache, except when that is the app's static store (the app serves it: the
    reads go to the user's cache folder instead)."""
    store = geometry_cache()
    if store is None:
        return None
    if store.resolve() != app_geometry_store().resolve():
        return store / "reads"
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "atlas" / "reads"
