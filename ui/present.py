"""Presenter mode: a projector theme and a story of saved views, stepped through with the keyboard.

The story lives in the session (and in the link as ?story=<packed JSON>&present=1&step=N). Showing a
step opens its saved link in this session (ui.permalink.apply), so a step looks exactly like opening
its permalink. Keys: ArrowRight / PageDown / Space = next, ArrowLeft / PageUp = previous (a clicker
sends PageDown / PageUp); a small script in the page clicks the Next / Previous buttons.

A step fits the screen (1920×1080 and 1366×768) with no text under 20 px. What the page does:
- THEME floors every text of the main area at MIN_TEXT_PX (22 px); headings and the header are larger.
- The header is one slim bar (the story's title, 'Step n of N', the three buttons), the step's title and callout.
- SCRIPT's fit gives the maps (every streamlit_folium frame of the main area, one or a row of them) the height
  the rest of the step leaves, so the step's content ends at the bottom of the screen; never less than 30% of
  the screen's height (then the page scrolls); the map fills its frame.
What the layout does (app.py, ui/*): `with present.details("…"):` around everything beyond a step's map and its
key table (closed toggle while presenting, drawn as is otherwise); a key table as st.table (an st.dataframe is
drawn on a canvas, its text cannot be sized). `present.presenting()` says whether a story is being presented.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from geo.errors import AtlasError
from geo.state.story import MAX_STORY_BYTES, Step, Story, parse_story, view_params
from ui import permalink
from ui.common import lazy_expander, md, show_error
from geo.state.tokens import pack_text, unpack_text

STORY, STEP, PRESENTING = "story", "story_step", "presenting"
LINK_KEYS = ("story", "present", "step")
# Keys the views keep outside the permalink seeds that must start afresh when a step opens its link.
RESET = ("rule_from_url_used", "rule_from_url", "rule_choice", "target_choice", "compare_areas", "compare_on")

MIN_TEXT_PX = 22  # the smallest text of the page in presenter mode (issue #17: none under 20 px at 1920×1080)
# The maps of a step: what streamlit_folium renders (its component's name), and the live map's frame (ui/atlas_map).
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"], [data-testid="stMain"] .st-key-atlas_map_box iframe'

# Presenter mode's page: black on white, and every text at least MIN_TEXT_PX — a floor on every element of the main
# area (`max(floor, 1em)`: nothing smaller than the floor or than its parent), headings and the header set above it.
# SVG drawings keep their own sizes (they scale with their column). The maps' height is set by the fit in SCRIPT
# (--atlas-map-h); without it a map takes 60% of the screen's height.
THEME = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
.st-key-compare_areas, .st-key-present_keys { display: none !important; }
.stApp, .stApp [data-testid="stMain"] { background: #ffffff !important; color: #000000 !important; }
.stApp [data-testid="stMain"] :not(svg, svg *), [data-testid="stSkipToContent"] {
  font-size: max(MINpx, 1em) !important; }
.stApp [data-testid="stMain"] p, .stApp [data-testid="stMain"] li, .stApp [data-testid="stMain"] label,
.stApp [data-testid="stMain"] td, .stApp [data-testid="stMain"] th,
.stApp [data-testid="stMain"] [data-testid="stCaptionContainer"],
.stApp [data-testid="stMain"] [data-testid="stCaptionContainer"] * { color: #000000 !important; }
.stApp [data-testid="stCaptionContainer"] { opacity: 1 !important; }
.stApp [data-testid="stMain"] h1, .stApp [data-testid="stMain"] h2, .stApp [data-testid="stMain"] h3,
.stApp [data-testid="stMain"] h4 { font-size: 30px !important; line-height: 1.2 !important; color: #000 !important;
  font-weight: 800 !important; padding: 0 !important; }
[data-testid="stMainBlockContainer"], .block-container { padding: .6rem 1.5rem .5rem !important; max-width: 100% !important; }
.stApp [data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: .5rem !important; }
.stApp [data-testid="stMain"] MAP_FRAME { height: var(--atlas-map-h, 60vh) !important; display: block; }
.atlas-present-bar { display: flex; align-items: center; gap: 1rem; min-height: 44px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #000; }
.stApp [data-testid="stMain"] .atlas-story-name { font-size: 26px !important; font-weight: 700; flex: 1; color: #000;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.stApp [data-testid="stMain"] .atlas-present-bar .atlas-position { font-size: 26px !important; font-weight: 800;
  background: #000; color: #fff !important; padding: 0 .6rem; border-radius: .3rem; white-space: nowrap; }
.atlas-present { border-bottom: 6px solid #000; padding-bottom: .2rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #000; }
.stApp [data-testid="stMain"] .atlas-present h1 { font-size: 40px !important; line-height: 1.15 !important;
  margin: 0 !important; }
.stApp [data-testid="stMain"] .atlas-callout { font: 600 28px/1.3 system-ui, -apple-system, "Segoe UI", Roboto,
  sans-serif !important; color: #000; border-left: 10px solid #1f4e9c; padding: .1rem 0 .1rem 1rem; margin: .3rem 0 0; }
.st-key-present_prev button, .st-key-present_next button, .st-key-present_exit button { min-height: 44px;
  border: 2px solid #000 !important; color: #000 !important; background: #fff !important; }
.st-key-present_prev button:focus-visible, .st-key-present_next button:focus-visible,
.st-key-present_exit button:focus-visible { outline: 4px solid #1f4e9c !important; outline-offset: 2px; }
</style>""".replace("MINpx", f"{MIN_TEXT_PX}px").replace("MAP_FRAME", MAP_FRAME)

KEYS_SCRIPT = """<script>
(function () {
  var w = window.parent, d = w.document;
  var NEXT = ["ArrowRight", "PageDown", " ", "Spacebar"], PREV = ["ArrowLeft", "PageUp"];
  function button(key) { return d.querySelector(".st-key-" + key + " button"); }
  function onKey(e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var t = e.target, tag = (t && t.tagName) || "";
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || (t && t.isContentEditable)) { return; }
    if (tag === "BUTTON" && (e.key === " " || e.key === "Enter")) { return; }  // the focused button acts itself
    var key = NEXT.indexOf(e.key) >= 0 ? "present_next" : PREV.indexOf(e.key) >= 0 ? "present_prev" : null;
    var b = key && button(key);
    if (!b || b.disabled) { return; }
    e.preventDefault();
    b.click();
  }
  if (w.__atlasPresenterKeys) { d.removeEventListener("keydown", w.__atlasPresenterKeys, true); }
  w.__atlasPresenterKeys = onKey;
  d.addEventListener("keydown", onKey, true);
  // Keys pressed while a map (a same-origin frame) has the focus step too.
  function hook() {
    d.querySelectorAll("iframe").forEach(function (f) {
      try {
        var fd = f.contentDocument;
        if (fd && !fd.__atlasPresenterKeys) {
          fd.__atlasPresenterKeys = true;
          fd.addEventListener("keydown", function (e) { if (w.__atlasPresenterKeys) { w.__atlasPresenterKeys(e); } }, true);
        }
      } catch (err) { /* another origin: not ours */ }
    });
  }
  // The fit: the maps take the height the rest of the step leaves (the step's content ends at the screen's
  // bottom), never less than MIN_SHARE of it (then the page scrolls); inside each map frame the map fills the frame.
  var MIN_SHARE = 0.3, FRAME = 'MAP_FRAME', FIT_CSS = "html.atlas-fit, html.atlas-fit body { margin: 0; overflow: hidden; }"
    + " html.atlas-fit #map_div, html.atlas-fit #map_div2 { height: 100vh !important; }";
  function fit() {
    var presenting = !!d.querySelector(".atlas-present");
    var frames = Array.prototype.slice.call(d.querySelectorAll('[data-testid="stMain"] ' + FRAME));
    frames.forEach(function (f) {
      try {
        var fd = f.contentDocument;
        if (!fd || !fd.documentElement) { return; }
        if (!fd.getElementById("atlas-fit-css") && fd.head) {
          var css = fd.createElement("style");
          css.id = "atlas-fit-css";
          css.textContent = FIT_CSS;
          fd.head.appendChild(css);
        }
        fd.documentElement.classList.toggle("atlas-fit", presenting);
      } catch (err) { /* another origin: not ours */ }
    });
    if (!presenting) { d.documentElement.style.removeProperty("--atlas-map-h"); return; }
    var shown = frames.filter(function (f) { return f.getBoundingClientRect().height > 0; });
    var content = d.querySelector('[data-testid="stMainBlockContainer"]'), main = d.querySelector('[data-testid="stMain"]');
    if (!shown.length || !content || !main) { return; }
    var rows = {};
    shown.forEach(function (f) { rows[Math.round(f.getBoundingClientRect().top + main.scrollTop)] = 1; });
    var now = shown[0].getBoundingClientRect().height;
    var spare = w.innerHeight - (content.getBoundingClientRect().bottom + main.scrollTop);
    var height = Math.round(Math.max(w.innerHeight * MIN_SHARE, now + spare / Object.keys(rows).length));
    if (Math.abs(height - now) >= 2) { d.documentElement.style.setProperty("--atlas-map-h", height + "px"); }
  }
  function tick() { hook(); fit(); }
  tick();
  if (w.__atlasPresenterFit) { w.removeEventListener("resize", w.__atlasPresenterFit); }
  w.__atlasPresenterFit = fit;
  w.addEventListener("resize", fit);
  if (w.__atlasPresenterHook) { w.clearInterval(w.__atlasPresenterHook); }
  w.__atlasPresenterHook = w.setInterval(tick, 250);
  w.__atlasPresenterReady = true;
})();
</script>""".replace("MAP_FRAME", MAP_FRAME)


def presenting() -> bool:
    """True while a story is being presented (after begin() has run this script run)."""
    return bool(st.session_state.get(PRESENTING)) and st.session_state.get(STORY) is not None


@contextmanager
def details(label: str = "Details") -> Iterator[None]:
    """What a step shows beyond its map and key table: behind a closed toggle in presenter mode, so the step fits
    the screen; drawn as it is otherwise. The maps of the step take the height the rest leaves (SCRIPT's fit)."""
    if presenting():
        with st.expander(label, expanded=False):
            yield
    else:
        yield


def story_token(story: Story) -> str:
    """The story as a URL-safe token (zlib + base64; at most 20 kB of JSON, the cap of every linked text)."""
    return pack_text(story.to_json())


def story_from_token(token: str) -> tuple[Story, list[str]]:
    return parse_story(unpack_text(token, "story"))


def _show(index: int) -> None:
    """Open step `index` of the story: its link becomes the view, and the address says which step."""
    story: Story = st.session_state[STORY]
    index = max(0, min(index, len(story.steps) - 1))
    st.session_state[STEP] = index
    token = permalink.linked("story")
    permalink.apply(story.steps[index].view, reset=RESET)
    permalink.set_params(story=token or None, present="1", step=str(index + 1))


def _go(delta: int) -> None:
    _show(st.session_state.get(STEP, 0) + delta)


def _start() -> None:
    st.session_state[PRESENTING] = True
    permalink.set_params(story=story_token(st.session_state[STORY]))
    _show(0)


def _stop() -> None:
    st.session_state[PRESENTING] = False
    permalink.set_params(present=None, step=None)


def _notices(notes: list[str], where: str) -> None:
    if notes:
        st.info(f"{md(where)}: " + md("; ".join(notes)) + ".")


def begin() -> bool:
    """At the top of every run: open a story from the link (first run), and in presenter mode draw the theme,
    the position, the step's title and callout, and the keyboard controls. True while presenting."""
    if not st.session_state.get("_story_link_read"):
        st.session_state["_story_link_read"] = True
        if permalink.linked("story") is not None:
            try:
                story, notes = story_from_token(permalink.linked("story"))
            except AtlasError as exc:
                st.warning(f"{md(exc.message)} {md(exc.hint)}")
            else:
                st.session_state[STORY] = story
                st.session_state["_story_notes"] = notes
                if permalink.linked("present") == "1":
                    st.session_state[PRESENTING] = True
                    try:
                        step = int(permalink.linked("step") or "1") - 1
                    except ValueError:
                        step = 0
                        notes.append(f"step = {permalink.linked('step')} is not a number; showing the first")
                    if not 0 <= step < len(story.steps):
                        notes.append(f"step {step + 1} is not in this {len(story.steps)}-step story; showing the "
                                     "nearest")
                    _show(step)
    story: Story | None = st.session_state.get(STORY)
    if not st.session_state.get(PRESENTING) or story is None:
        _notices(st.session_state.pop("_story_notes", []), "The story in this link was read with changes")
        return False
    index = st.session_state.get(STEP, 0)
    step = story.steps[index]
    st.markdown(THEME, unsafe_allow_html=True)
    bar, prev, nxt, leave = st.columns([5, 1.3, 1.1, 1.9], vertical_alignment="center")
    bar.html(f'<div class="atlas-present-bar"><span class="atlas-story-name">{html.escape(story.shown_title)}</span>'
             f'<span class="atlas-position" role="status" aria-live="polite">{story.position(index)}</span></div>')
    prev.button("◀ Previous", key="present_prev", on_click=_go, args=(-1,), disabled=index == 0,
                help="ArrowLeft or PageUp", use_container_width=True)
    nxt.button("Next ▶", key="present_next", on_click=_go, args=(1,), disabled=index == len(story.steps) - 1,
               help="ArrowRight, PageDown or Space", use_container_width=True)
    leave.button("Exit presenter mode", key="present_exit", on_click=_stop, use_container_width=True)
    st.html(f'<div class="atlas-present"><h1>{html.escape(step.title)}</h1>'
            + (f'<p class="atlas-callout">{html.escape(step.callout)}</p>' if step.callout else "") + '</div>')
    with st.container(key="present_keys"):
        st.iframe(KEYS_SCRIPT, height=1)
    _notices(st.session_state.pop("_story_notes", []), "The story in this link was read with changes")
    return True


def story_controls(default_title: str) -> None:
    """Sidebar: add the current view to the story, list, save, open and present it."""
    story: Story = st.session_state.setdefault(STORY, Story())
    st.session_state["_default_step_title"] = default_title
    if st.session_state.get("_story_title_of") is not story:  # a story opened from a file or a link: its title
        st.session_state["_story_title_of"] = story
        st.session_state["story_title"] = story.title
    box, opened = lazy_expander(f"Story for presenting ({len(story.steps)} steps)", "panel_story",
                                expanded=bool(story.steps), where=st.sidebar)
    with box:
        if not opened:
            return
        flash = st.session_state.pop("_story_flash", None)
        if flash:
            st.success(md(flash))
        _notices(st.session_state.pop("_story_file_notes", []), "Read with changes")
        st.text_input("Story title (the audience sees it)", key="story_title", max_chars=120, on_change=_retitle,
                      placeholder="e.g. Deprivation in the Tees Valley")
        if not story.title:
            st.caption("Give the story a title: it heads every step in presenter mode"
                       + (f" (until then, the first step's: “{md(story.shown_title)}”)." if story.steps else "."))
        st.text_input("Step title", key="step_title", max_chars=120, placeholder=default_title)
        st.text_area("Callout (one or two sentences)", key="step_callout", max_chars=400, height=80)
        st.button("Add this view to the story", key="story_add", on_click=_add, use_container_width=True)
        for i, step in enumerate(story.steps):
            st.markdown(f"{i + 1}. **{md(step.title)}**" + (f" — {md(step.callout)}" if step.callout else ""))
        if story.steps:
            c1, c2 = st.columns(2)
            c1.button("Remove last", key="story_pop", on_click=lambda: story.steps.pop())
            c2.button("Clear", key="story_clear", on_click=lambda: story.steps.clear())
            st.button("Present the story", key="story_present", type="primary", on_click=_start,
                      use_container_width=True)
            st.download_button("Save the story (.json)", story.to_json().encode(), "atlas_story.json",
                               "application/json", key="story_save", use_container_width=True)
            try:
                st.caption("Link that opens this story in presenter mode (add it after the app's address):")
                st.code(f"?story={story_token(story)}&present=1", language=None)
            except AtlasError:
                pass
        upload = st.file_uploader("Open a story (.json or .toml)", type=["json", "toml"], key="story_file",
                                  help=f"At most {MAX_STORY_BYTES // 1000} kB.")
        if upload is not None and st.session_state.get("_story_file_id") != upload.file_id:
            st.session_state["_story_file_id"] = upload.file_id
            try:
                if upload.size > MAX_STORY_BYTES:
                    raise AtlasError(f"This story file is {upload.size:,} bytes; a story is at most "
                                     f"{MAX_STORY_BYTES:,}.", "Open a story saved by the atlas.")
                loaded, notes = parse_story(upload.getvalue())
            except AtlasError as exc:
                show_error(exc)
            else:
                st.session_state[STORY] = loaded
                st.session_state["_story_flash"] = f"Opened “{loaded.title}”: {len(loaded.steps)} steps."
                st.session_state["_story_file_notes"] = notes
                st.rerun()


def _add() -> None:
    story: Story = st.session_state[STORY]
    params = {k: v for k, v in permalink.address().items() if k not in LINK_KEYS}
    view, _ = view_params(params)
    title = (st.session_state.get("step_title") or "").strip() or st.session_state.get("_default_step_title") \
        or f"Step {len(story.steps) + 1}"
    story.steps.append(Step(title[:120], (st.session_state.get("step_callout") or "").strip()[:400], view))
    st.session_state["step_callout"] = ""
    st.session_state["step_title"] = ""


def _retitle() -> None:
    st.session_state[STORY].title = " ".join((st.session_state.get("story_title") or "").split())[:120]
