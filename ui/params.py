"""Draw any view's parameters as sidebar widgets, seeded once from the page address (ui/permalink.py).

Each `geo.views.Param` says its widget (by kind, or `widget`), label, key, choices and help; a few
parameters have a control of their own (a rule with its what-if thresholds, a target with its
amount), registered in `CUSTOM` by the view's ui module.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from geo.present import numbers
from geo.views import Param, View, ViewData
from ui import permalink

OWN_ARGS = ("group", "money")  # widget_args read here, not passed to the widget

# (view id, parameter name) → a function drawing that parameter's own control, returning its value,
# and the function writing such a value into the page address.
CUSTOM: dict[tuple[str, str], Callable[[ViewData, dict], object]] = {}
ENCODE: dict[tuple[str, str], Callable[[object], str]] = {}


def custom(view_id: str, name: str, encode: Callable[[object], str] | None = None):
    """Register a control of its own for one parameter of one view (and how its value goes into a link)."""
    def register(draw):
        CUSTOM[(view_id, name)] = draw
        if encode is not None:
            ENCODE[(view_id, name)] = encode
        return draw
    return register


def draw_params(view: View, data: ViewData, exclude: tuple[str, ...] = ()) -> dict:
    """Every parameter of `view`, drawn in order (later choices may depend on earlier values); returns the values."""
    values: dict = {}
    groups: dict[str, object] = {}
    for p in view.params(data):
        if p.name in exclude or not p.applies(data, values):
            continue
        draw = CUSTOM.get((view.id, p.name))
        group = (p.widget_args or {}).get("group")
        if group and group not in groups:
            groups[group] = st.sidebar.expander(group)
        values[p.name] = draw(data, values) if draw else draw_param(p, data, values, groups.get(group, st.sidebar))
    return values


def _seed(p: Param, key: str, data: ViewData, values: dict) -> None:
    """Set the widget from the address on a session's first run (checked; a notice when not available)."""
    if p.kind in ("choice", "choices"):
        labels = p.display(data, values)
        permalink.seed(key, p.name, p.options(data, values), {v: k for k, v in labels.items()} if p.kind == "choice"
                       else None, many=p.kind == "choices")
    else:
        permalink.seed_value(key, p.name, lambda raw: p.parse(raw, data, values))


def draw_param(p: Param, data: ViewData, values: dict, side=None):
    """One parameter's widget (in the sidebar, or the expander of its group); returns its value."""
    key = p.widget_key(data, values)
    _seed(p, key, data, values)
    side = side if side is not None else st.sidebar
    args = p.widget_args or {}
    extra = {k: v for k, v in args.items() if k not in OWN_ARGS}
    if p.help:
        extra.setdefault("help", p.help)
    if p.kind == "choice":
        options = p.options(data, values)
        labels = p.display(data, values)
        fmt = (lambda o: labels.get(o, str(o))) if labels else str
        index = {}
        if key not in st.session_state:
            default = p.default_for(data, values)
            index = {"index": options.index(default)} if default in options else {}
        if p.widget == "radio":
            return side.radio(p.label, options, format_func=fmt, key=key, **index, **extra)
        return side.selectbox(p.label, options, format_func=fmt, key=key, **index, **extra)
    if p.kind == "choices":
        labels = p.display(data, values)
        fmt = (lambda o: labels.get(o, str(o))) if labels else str
        default = {} if key in st.session_state else {"default": [o for o in p.default_for(data, values) or []
                                                                   if o in p.options(data, values)]}
        return side.multiselect(p.label, p.options(data, values), format_func=fmt, key=key, **default, **extra)
    if p.kind == "bool":
        value = {} if key in st.session_state else {"value": bool(p.default_for(data, values))}
        return side.toggle(p.label, key=key, **value, **extra)
    if p.kind == "int" and p.widget == "slider":
        value = {} if key in st.session_state else {"value": int(p.default_for(data, values))}
        return side.slider(p.label, int(p.lo), int(p.hi), key=key, **value, **extra)
    if p.kind in ("int", "float"):
        cast = int if p.kind == "int" else float
        value = {} if key in st.session_state else {"value": cast(p.default_for(data, values))}
        bounds = {k: cast(v) for k, v in (("min_value", p.lo), ("max_value", p.hi), ("step", p.step)) if v is not None}
        number = side.number_input(p.label, key=key, **bounds, **value, **extra)
        if args.get("money"):  # the box takes a plain number; beside it, the amount as the atlas writes money
            side.caption(f"{p.label.split(' (')[0]}: {numbers.money(number)}")
        return number
    value = {} if key in st.session_state else {"value": str(p.default_for(data, values) or "")}
    text = side.text_input(p.label, key=key, **value, **extra)
    if problem := p.problem(text):
        side.error(problem)
    return text


def link_values(view: View, data: ViewData, values: dict) -> dict[str, str | None]:
    """The parameters of `view` as page-address text (those not in the link are left out)."""
    out: dict[str, str | None] = {}
    for p in view.params(data):
        if p.in_link and p.name in values:
            encode = ENCODE.get((view.id, p.name))
            value = values[p.name]
            out[p.name] = encode(value) if encode and not isinstance(value, str) else p.to_link(value)
    return out
