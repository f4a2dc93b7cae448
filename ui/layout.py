"""The map-first page (#17): a slim header, the map filling the viewport's width and height below it, and
everything else — the view's panel, the legend as a table, "Data and how it joined", downloads — below the map.

The map's frame is sized in the page: a small script sets its height to what is left of the viewport below
its top edge (never under MIN_MAP_PX), again whenever the window or the page above the map changes, so at
1366×768 the whole map, its legend included, is above the fold, whatever notes sit above it. CSS alone gives
the same height when the script has not run (a fixed estimate of the header).
"""

from __future__ import annotations

import html

import streamlit as st

from geo.link.layers import DEMO_NOTE
from geo.present.numbers import share

MIN_MAP_PX = 420
MAP_BOX = "atlas_map_box"  # the container the main map is drawn in (its element carries st-key-<key>)

PAGE_CSS = """<style>
[data-testid="stMainBlockContainer"], .block-container { padding: 0.6rem 1rem 1rem !important; max-width: 100% !important; }
[data-testid="stHeader"] { height: 2.4rem !important; background: transparent !important; pointer-events: none; }
[data-testid="stHeader"] * { pointer-events: auto; }
.atlas-head { display: flex; align-items: baseline; gap: .8rem; flex-wrap: wrap; margin: 0 0 .2rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; padding-right: 5rem; }
.atlas-head .atlas-brand { font-weight: 700; font-size: 1.05rem; color: #111; }
.atlas-head .atlas-data { font-size: .95rem; color: #333; }
.atlas-head .atlas-demo { font-size: .9rem; color: #5c3c00; background: #fff3cd; border: 1px solid #e0c266;
  border-radius: .25rem; padding: 0 .4rem; }
.st-key-atlas_fit { display: none !important; }
/* A rerun does not grey the page out (Streamlit marks elements stale): the map restyles in place (#18). */
[data-stale="true"] { opacity: 1 !important; transition: none !important; }
.st-key-atlas_map_box iframe { height: var(--atlas-map-h, calc(100vh - 4.5rem)) !important; }
</style>"""

FIT_SCRIPT = """<script>
(function () {
  var w = window.parent && window.parent.document ? window.parent : window, d = w.document;
  if (w.__atlasFit) { w.__atlasFit(); return; }
  function running() {
    var app = d.querySelector("[data-test-script-state]");
    return !!app && app.getAttribute("data-test-script-state") === "running";
  }
  function fit() {
    if (d.querySelector(".atlas-present")) { return; }  // presenter mode fits its step itself (ui/present.py)
    var el = d.querySelector(%(selector)s);
    if (!el) { return; }
    // While the script runs, elements above the map come and go (Streamlit re-renders them): fitting then made
    // the frame grow 46 px and shrink back on every other change of measure, and each resize repainted the
    // national map (8 paints instead of 1, 0.6 s more to repaint). The map keeps its size until the run ends;
    // a map not yet fitted (the first run) is fitted at once.
    if (running() && el.__atlasFitted) { return; }
    el.__atlasFitted = true;
    if (!el.__atlasFitOnLoad) { el.__atlasFitOnLoad = true; el.addEventListener("load", function () { w.setTimeout(fit, 50); }); }
    var top = el.getBoundingClientRect().top + w.scrollY;
    var h = Math.max(%(min)d, Math.floor(w.innerHeight - top - 8));
    var want = h + "px";
    if (d.documentElement.style.getPropertyValue("--atlas-map-h") !== want) {
      d.documentElement.style.setProperty("--atlas-map-h", want);
    }
    try {  // the map inside follows its frame (same origin); never 100vh inside the frame: its height comes from it
      var inner = el.contentDocument && el.contentDocument.getElementById("map_div");
      if (inner && inner.style.height !== want) { inner.style.height = want; }
    } catch (e) { /* not loaded yet: the next mutation fits it */ }
  }
  w.__atlasFit = fit;
  // Behind the team proxy (deploy/): its cookie names the replica holding this session. When the replica dies
  // the proxy moves the page to another with a new cookie, but Streamlit does not rerun after a reconnect, so
  // the page reloads itself: the live replica builds the view from the address (every view is in the URL).
  function replica() { var m = d.cookie.match(/(?:^|; )atlas_replica=([0-9a-f]+)/); return m ? m[1] : null; }
  var first = replica();
  if (first !== null) {
    w.setInterval(function () { var now = replica(); if (now && now !== first) { first = now; w.location.reload(); } }, 1000);
  }
  w.addEventListener("resize", fit);
  new w.MutationObserver(function () { w.requestAnimationFrame(fit); })
    .observe(d.body, {childList: true, subtree: true, attributes: true, attributeFilter: ["data-test-script-state"]});
  fit();
})();
</script>"""


def page_style() -> None:
    """The map-first page's CSS and the script that fits the map to the viewport (every run: cheap)."""
    selector = f".st-key-{MAP_BOX} iframe"
    with st.container(key="atlas_fit"):  # hidden by its own CSS: takes no room above the map
        st.markdown(PAGE_CSS, unsafe_allow_html=True)
        st.html(FIT_SCRIPT % {"selector": repr(selector), "min": MIN_MAP_PX}, unsafe_allow_javascript=True)


def header(data_label: str, demo: bool) -> None:
    """One line: the atlas' name, the data on screen and, on the demo, that it is illustrative."""
    st.html('<div class="atlas-head"><span class="atlas-brand">Neighbourhood Renewal Atlas</span>'
            f'<span class="atlas-data">{html.escape(data_label)}</span>'
            + (f'<span class="atlas-demo" role="note">{html.escape(DEMO_NOTE)}</span>' if demo else "")
            + "</div>")


def join_needs_user(report) -> bool:
    """Whether the join needs the user's attention: not every area matched, codes that conflict, or a refusal.
    Repairs alone (codes cleaned up, exact duplicates folded, a vintage converted) do not."""
    if report is None:
        return False
    conflicting = any(d.get("kind") == "conflicting" for d in report.duplicates)
    unmatched = report.boundary_rows > 0 and report.matched < report.boundary_rows
    return bool(unmatched or conflicting or report.blocked or report.boundary_duplicates
                or report.data_without_boundary)


def join_summary(reports) -> str:
    """The panel's label: "Data and how it joined — 32,844 of 32,844 areas matched (100.0%)"."""
    parts = [f"{r.matched:,} of {r.boundary_rows:,} {'areas' if r.level != 'district' else 'districts'} matched "
             f"({share(r.share_matched)})" for r in reports if r is not None]
    return "Data and how it joined" + (" — " + "; ".join(parts) if parts else "")
