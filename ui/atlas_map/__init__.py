"""The live map: a Streamlit component (no build step: index.html + atlas_map.js in this folder) that keeps
one map frame across reruns. The frame builds the map once from its base (a content-named file in the
geometry store) and restyles it on each run from the small style args (geo.present.mapping.map_parts).

The class of each area (one character per area in the style, '-' for no data) travels as bytes, two areas to a
byte (0: no data, k + 1: class k), when every class is under 15: 16 KB instead of 33 KB for England's LSOAs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit.components.v1 as components

_component = components.declare_component("atlas_map", path=str(Path(__file__).resolve().parent))


def pack_classes(classes: str) -> bytes | None:
    """'-0 3…' as nibbles, two areas to a byte (first area in the high nibble); None if a class is 15 or more."""
    codes = np.frombuffer(classes.encode("ascii"), dtype=np.uint8).astype(np.int16)
    nibbles = np.where(codes == ord("-"), 0, codes - 47)
    if len(nibbles) and (nibbles.min() < 0 or nibbles.max() > 15):
        return None
    if len(nibbles) % 2:
        nibbles = np.append(nibbles, 0)
    return ((nibbles[0::2] << 4) | nibbles[1::2]).astype(np.uint8).tobytes()


def atlas_map(base_url: str, style: dict, height: int = 640, key: str = "atlas_map",
              prefetch: tuple[str, ...] = ()) -> None:
    """Draw (or restyle) the live map; a stable `key` keeps the frame across reruns. Returns nothing.
    `prefetch`: geometry URLs the frame fetches as soon as it has its args (the base's coarse level)."""
    packed = pack_classes(style["classes"])
    if packed is None:  # a class of 15 or more: the string as it is
        _component(base=base_url, style=style, height=height, key=key, prefetch=list(prefetch), default=None)
        return
    rest = {k: v for k, v in style.items() if k != "classes"}
    _component(base=base_url, style=rest, classes=packed, areas=len(style["classes"]), height=height, key=key,
               prefetch=list(prefetch), default=None)
