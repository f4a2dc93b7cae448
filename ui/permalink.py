"""The view in the page address: widgets are seeded once from st.query_params, and the address follows them.

This is the one module that reads and writes `st.query_params`. Every value from a link is checked
against the options actually on offer; anything unknown or stale gives one notice (what was ignored,
and what is shown instead), never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlencode

import streamlit as st

from geo.errors import AtlasError
from geo.state.tokens import MAX_LINKED_TEXT, pack_text, unpack_text  # noqa: F401 — the tokens links carry

_SEEDED = "_permalink_seeded"
_NOTICES = "_permalink_notices"
_RUNS = "_permalink_runs"
_KEYS = "_permalink_keys"
_WRITTEN = "_permalink_written"


def start_run() -> None:
    """Call at the top of every script run: links are read on a session's first run only."""
    st.session_state[_RUNS] = st.session_state.get(_RUNS, 0) + 1


def _first_read(key: str, param: str) -> bool:
    """Whether widget `key` is to be set from link parameter `param` now: a session's first run, once per parameter."""
    st.session_state.setdefault(_KEYS, set()).add(key)
    seeded = st.session_state.setdefault(_SEEDED, set())
    if st.session_state.get(_RUNS, 1) != 1 or param in seeded or param not in st.query_params:
        return False
    seeded.add(param)
    return True


def seed(key: str, param: str, options: Iterable, to_option: dict | None = None, many: bool = False) -> None:
    """Before creating widget `key`: on a session's first run, set it from URL parameter `param` if valid."""
    if not _first_read(key, param):
        return
    options = list(options)
    raw = st.query_params[param]
    values = [v for v in raw.split(",") if v] if many else [raw]
    chosen = [to_option.get(v, v) if to_option else v for v in values]
    valid = [v for v in chosen if v in options]
    if len(valid) != len(chosen):
        bad = [v for v, c in zip(values, chosen) if c not in options]
        st.session_state.setdefault(_NOTICES, []).append(f"{param} = {', '.join(bad)}")
    if valid:
        st.session_state[key] = valid if many else valid[0]


def seed_value(key: str, param: str, parse: Callable[[str], object]) -> None:
    """Before creating widget `key` (a number, a toggle, a text): on a session's first run, set it from the link."""
    if not _first_read(key, param):
        return
    try:
        st.session_state[key] = parse(st.query_params[param])
    except AtlasError:
        st.session_state.setdefault(_NOTICES, []).append(f"{param} = {st.query_params[param]}")


def linked(param: str) -> str | None:
    """The value the page address gives a parameter now, or None."""
    return st.query_params.get(param)


def address() -> dict[str, str]:
    """Every parameter of the page address."""
    return st.query_params.to_dict()


def set_params(**params: object) -> None:
    """Put parameters in the address as they are (None removes one); for stories, sessions, presenter mode."""
    for name, value in params.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)


def restart() -> None:
    """Read the address again on the next run, as on a session's first (after a saved session is restored)."""
    st.session_state[_RUNS] = 0
    st.session_state.pop(_SEEDED, None)


def notices() -> list[str]:
    """What a link asked for that is not available here (shown once)."""
    return st.session_state.pop(_NOTICES, [])


def written() -> set[str]:
    """The parameters this session has written into the address (a link's own stay until a view uses them)."""
    return set(st.session_state.get(_WRITTEN, set()))


def remember(**params: object) -> None:
    """Write the current view into the address (None removes a parameter)."""
    mine = st.session_state.setdefault(_WRITTEN, set())
    mine.update(name for name, value in params.items() if value not in (None, [], ""))
    for name, value in params.items():
        if value is None or value == [] or value == "":
            if name in st.query_params:
                del st.query_params[name]
        else:
            text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
            if st.query_params.get(name) != text:
                st.query_params[name] = text


def link_control() -> None:
    """'Link to this view' in the sidebar: the whole address as it now stands, with a copy button (st.code's).
    In a popover, not an expander: the code box's highlighter (515 KB compressed, a quarter of the page's front
    end) is fetched only when the popover is opened, not on every first load (#18)."""
    query = urlencode({name: st.query_params[name] for name in st.query_params})
    base = (st.context.url or "").split("?", 1)[0]
    with st.sidebar.popover("Link to this view", use_container_width=True):
        st.code(f"{base}?{query}" if query else (base or "(this page)"), language=None, wrap_lines=True)
        st.caption("Copy it with the button at the box's top right. Opening it restores exactly this view: data, "
                   "map, measure, classes, areas, comparison, rule and target.")


def apply(params: dict[str, str], keep: tuple[str, ...] = (), reset: tuple[str, ...] = ()) -> None:
    """Open another view in this session as if its link were opened: the address becomes `params` (plus the
    parameters named in `keep`), the widgets seeded from links go back to their defaults (and `reset` keys
    too), and the next run reads the address again. Call before any widget is drawn, or from a callback."""
    for name in list(st.query_params):
        if name not in keep and name not in params:
            del st.query_params[name]
    for name, value in params.items():
        st.query_params[name] = str(value)
    for key in set(st.session_state.get(_KEYS, set())) | set(reset):
        st.session_state.pop(key, None)
    st.session_state[_SEEDED] = set()
    st.session_state[_RUNS] = 0  # start_run() makes the next run a "first" run again
