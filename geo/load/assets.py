"""Leaflet's JS/CSS, taken from an installed package so the map never needs a CDN.

The files come from the PyPI package `django-js-lib-leaflet` (Leaflet 1.9.4, BSD-2-Clause),
which ships them as plain static files; nothing here imports Django.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

LEAFLET_VERSION = "1.9.4"
_FILES = ("leaflet.js", "leaflet.css")
_ATLAS_JS = Path(__file__).resolve().parent.parent / "present" / "js"
_ATLAS_FILES = ("atlas-map.js", "atlas-coverage.js", "atlas-map.css")  # the map's own JS and CSS


def leaflet_dir() -> Path:
    """Folder of the packaged Leaflet files."""
    root = resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    path = Path(str(root))
    if not (path / "leaflet.js").is_file():
        raise FileNotFoundError("Leaflet files not found: run `pip install -r requirements.txt`.")
    return path


def leaflet_text(name: str) -> str:
    """Contents of leaflet.js or leaflet.css."""
    if name not in _FILES:
        raise ValueError(name)
    return (leaflet_dir() / name).read_text(encoding="utf-8")


def atlas_text(name: str) -> str:
    """Contents of one of the atlas' own scripts or styles (geo/present/js/): the map module, the canvas layer, CSS."""
    if name not in _ATLAS_FILES:
        raise ValueError(name)
    return (_ATLAS_JS / name).read_text(encoding="utf-8")


def install_static(static_dir: Path) -> Path:
    """Copy Leaflet into `static_dir/vendor/leaflet/` and our scripts into `static_dir/atlas/`; idempotent."""
    target = Path(static_dir) / "vendor" / "leaflet"
    target.mkdir(parents=True, exist_ok=True)
    own = Path(static_dir) / "atlas"
    own.mkdir(parents=True, exist_ok=True)
    pairs = [(leaflet_dir() / name, target / name) for name in _FILES]
    pairs += [(_ATLAS_JS / name, own / name) for name in _ATLAS_FILES]
    for src, dst in pairs:
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    return target
