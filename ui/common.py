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


# Widgets inside lazy panels (below): while a panel is closed they are not drawn, and Streamlit forgets the value
# of a widget a run does not draw. keep_lazy_values writes each back at the start of a run, so a callout typed
# before its panel was closed is still there when it opens again.
LAZY_WIDGETS = ("slide_callout", "slide_theme", "story_title", "step_title", "step_callout", "fetch_release",
                "fetch_mirror", "import_folder")
LAZY_PANELS = ("panel_downloads", "panel_legend", "panel_data", "panel_transitions", "panel_session", "panel_story",
               "panel_fetch")  # every lazy panel's key (the tests open them all)


def lazy_expander(label: str, key: str, *, expanded: bool = False, where=None):
    """An expander whose contents are drawn only while it is open: (the expander, whether it is open).

    A first page draws what is under its map before the map's frame is made, so every closed panel drawn
    anyway (download buttons, uploaders, a legend table: each a chunk of Streamlit's front end to fetch and run)
    delayed the first map; leaving them out took about 0.4 s off it (#18). Opening one reruns the script, which
    then draws its contents. The state is kept by `key`, so the label should not change while the panel is in
    use (a new label is a new panel, closed or `expanded` again)."""
    if key not in LAZY_PANELS:
        raise ValueError(f"lazy panel {key!r} is not in ui.common.LAZY_PANELS")
    box = (where or st).expander(label, expanded=expanded, key=key, on_change="rerun")
    return box, bool(box.open)


def keep_lazy_values() -> None:
    """At the start of a run: keep the values of the widgets in closed lazy panels (LAZY_WIDGETS)."""
    for key in LAZY_WIDGETS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


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
