"""Small pieces the app's views share: the View record, markdown escaping and error display."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

import pandas as pd
import streamlit as st

from geo.present.classify import Classification
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
