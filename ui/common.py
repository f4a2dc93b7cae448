"""Small pieces the app's views share: the View record, markdown escaping and error display."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import pandas as pd
import streamlit as st

from geo.present.classify import Classification, load_classifiers
from geo.errors import AtlasError
from geo.present.mapping import MapSpec


class View(NamedTuple):
    """What one map shows: the rows, how to draw them, and the join report behind them (if its own)."""

    layer: object
    spec: MapSpec
    higher_is_worse: bool
    deciles: pd.Series | None = None
    report: object = None
    classification: Classification | None = None  # a categorical map brings its own classes
    panel: Callable[[], None] | None = None  # drawn beside the map instead of the join report
    illustrative: bool | None = None  # None: as the chosen data source; a view may know better


def md(text: object) -> str:
    """Escape a string (file names, headers) for Streamlit markdown, so it shows literally."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", str(text))


def show_error(exc: AtlasError) -> None:
    st.error(f"**{md(exc.message)}**\n\n{md(exc.hint)}")


@st.cache_resource
def warm_classifiers(delay_s: float = 3.0) -> threading.Thread:
    """Once per server process, a few seconds after its first page: import the classifiers in the background, so
    a presenter's first change to natural breaks (k-means) repaints in 0.3 s rather than 1.9 s (the import was
    1.2 s of it). The delay keeps the import off the first page's own run."""
    def run() -> None:
        time.sleep(delay_s)
        load_classifiers()
    thread = threading.Thread(target=run, name="atlas-warm-classifiers", daemon=True)
    thread.start()
    return thread
