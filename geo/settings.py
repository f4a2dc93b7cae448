"""Limits and defaults as data: each setting has a name, a default and a line of help."""

from __future__ import annotations

from dataclasses import dataclass


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
)

DEFAULTS: dict[str, int | float | str] = {s.name: s.default for s in SETTINGS}


def setting(name: str) -> int | float | str:
    """Return a setting's default value by name."""
    return DEFAULTS[name]
