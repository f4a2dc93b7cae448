"""Presenter mode: a projector theme and a story of saved views, stepped through with the keyboard.

The story lives in the session (and in the link as ?story=<packed JSON>&present=1&step=N). Showing a
step opens its saved link in this session (ui.permalink.apply), so a step looks exactly like opening
its permalink. Keys: ArrowRight / PageDown / Space = next, ArrowLeft / PageUp = previous (a clicker
sends PageDown / PageUp); a small script in the page clicks the Next / Previous buttons.
"""

from __future__ import annotations

import html

import streamlit as st

from geo.errors import AtlasError
from geo.state.story import MAX_STORY_BYTES, Step, Story, parse_story, view_params
from ui import permalink
from ui.common import md, show_error
from geo.state.tokens import pack_text, unpack_text

STORY, STEP, PRESENTING = "story", "story_step", "presenting"
LINK_KEYS = ("story", "present", "step")
# Keys the views keep outside the permalink seeds that must start afresh when a step opens its link.
RESET = ("rule_from_url_used", "rule_from_url", "rule_choice", "target_choice", "compare_areas", "compare_on")

THEME = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
.st-key-compare_areas, .st-key-present_keys { display: none !important; }
.stApp, .stApp [data-testid="stMain"] { background: #ffffff !important; color: #000000 !important; }
.stApp p, .stApp li, .stApp label, .stApp [data-testid="stCaptionContainer"], .stApp [data-testid="stCaptionContainer"] * {
  font-size: 1.35rem !important; color: #000000 !important; }
.stApp [data-testid="stCaptionContainer"] { opacity: 1 !important; }
.stApp h2, .stApp h3 { font-size: 2rem !important; color: #000 !important; font-weight: 800 !important; }
.stApp [data-testid="stTable"] td, .stApp [data-testid="stTable"] th { font-size: 1.2rem !important; color: #000 !important; }
[data-testid="stMainBlockContainer"], .block-container { padding: 1.5rem 2rem 1rem !important; max-width: 100% !important; }
.atlas-present { display: flex; align-items: baseline; gap: 1.5rem; border-bottom: 6px solid #000; padding-bottom: .4rem;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #000; }
.atlas-present h1 { font-size: 2.8rem; line-height: 1.15; margin: 0; flex: 1; font-weight: 800; color: #000; }
.stApp .atlas-present .atlas-position { font-size: 2.2rem; font-weight: 800; background: #000; color: #fff !important;
  padding: 0 .6rem;
  border-radius: .3rem; white-space: nowrap; }
.atlas-callout { font: 600 1.7rem/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #000;
  border-left: 10px solid #1f4e9c; padding: .3rem 0 .3rem 1rem; margin: .6rem 0 .4rem; }
.atlas-story-name { font: 1.1rem system-ui, sans-serif; color: #222; }
.st-key-present_prev button, .st-key-present_next button, .st-key-present_exit button { font-size: 1.2rem !important;
  border: 2px solid #000 !important; color: #000 !important; background: #fff !important; }
.st-key-present_prev button:focus-visible, .st-key-present_next button:focus-visible,
.st-key-present_exit button:focus-visible { outline: 4px solid #1f4e9c !important; outline-offset: 2px; }
</style>"""

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
  hook();
  if (w.__atlasPresenterHook) { w.clearInterval(w.__atlasPresenterHook); }
  w.__atlasPresenterHook = w.setInterval(hook, 250);
  w.__atlasPresenterReady = true;
})();
</script>"""


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
    st.html(f'<div class="atlas-present"><h1>{html.escape(step.title)}</h1>'
            f'<span class="atlas-position" role="status" aria-live="polite" aria-label="Step {index + 1} of '
            f'{len(story.steps)}">{story.position(index)}</span></div>'
            + (f'<p class="atlas-callout">{html.escape(step.callout)}</p>' if step.callout else "")
            + f'<div class="atlas-story-name">{html.escape(story.title)}</div>')
    prev, nxt, _, leave = st.columns([1, 1, 5, 1.4])
    prev.button("◀ Previous", key="present_prev", on_click=_go, args=(-1,), disabled=index == 0,
                help="ArrowLeft or PageUp", use_container_width=True)
    nxt.button("Next ▶", key="present_next", on_click=_go, args=(1,), disabled=index == len(story.steps) - 1,
               help="ArrowRight, PageDown or Space", use_container_width=True)
    leave.button("Exit presenter mode", key="present_exit", on_click=_stop, use_container_width=True)
    with st.container(key="present_keys"):
        st.iframe(KEYS_SCRIPT, height=1)
    _notices(st.session_state.pop("_story_notes", []), "The story in this link was read with changes")
    return True


def story_controls(default_title: str) -> None:
    """Sidebar: add the current view to the story, list, save, open and present it."""
    story: Story = st.session_state.setdefault(STORY, Story())
    st.session_state["_default_step_title"] = default_title
    with st.sidebar.expander(f"Story for presenting ({len(story.steps)} steps)", expanded=bool(story.steps)):
        flash = st.session_state.pop("_story_flash", None)
        if flash:
            st.success(md(flash))
        _notices(st.session_state.pop("_story_file_notes", []), "Read with changes")
        st.text_input("Step title", key="step_title", max_chars=120, placeholder=default_title)
        st.text_area("Callout (one or two sentences)", key="step_callout", max_chars=400, height=80)
        st.button("Add this view to the story", key="story_add", on_click=_add, use_container_width=True)
        for i, step in enumerate(story.steps):
            st.markdown(f"{i + 1}. **{md(step.title)}**" + (f" — {md(step.callout)}" if step.callout else ""))
        if story.steps:
            c1, c2 = st.columns(2)
            c1.button("Remove last", key="story_pop", on_click=lambda: story.steps.pop())
            c2.button("Clear", key="story_clear", on_click=lambda: story.steps.clear())
            st.text_input("Story title", story.title, key="story_title", on_change=_retitle)
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
    st.session_state[STORY].title = (st.session_state.get("story_title") or "").strip()[:120] or "Untitled story"
