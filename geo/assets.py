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


def install_static(static_dir: Path) -> Path:
    """Copy Leaflet into `static_dir/vendor/leaflet/` (for Streamlit's static serving); idempotent."""
    target = Path(static_dir) / "vendor" / "leaflet"
    target.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        src, dst = leaflet_dir() / name, target / name
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dst)
    return target
