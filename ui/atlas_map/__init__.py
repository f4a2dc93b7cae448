"""The live map: a Streamlit component (no build step: index.html + atlas_map.js in this folder) that keeps
one map frame across reruns. The frame builds the map once from its base (a content-named file in the
geometry store) and restyles it on each run from the small style args (geo.present.mapping.map_parts)."""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components

_component = components.declare_component("atlas_map", path=str(Path(__file__).resolve().parent))


def atlas_map(base_url: str, style: dict, height: int = 640, key: str = "atlas_map") -> None:
    """Draw (or restyle) the live map; a stable `key` keeps the frame across reruns. Returns nothing."""
    _component(base=base_url, style=style, height=height, key=key, default=None)
