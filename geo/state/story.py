"""A story: an ordered list of saved views, each a permalink's parameters with a title and a short callout.

Saved as a small JSON file (TOML is read too). Reading is strict about shape and lenient about
content: a file that is not a story is an AtlasError with advice; unknown keys, unknown view
parameters and over-long texts are dropped or shortened with a notice, never an error. Whether a
parameter's *value* is available (a measure, a district code) is decided when the step is shown, by
the same checks as any link (ui/permalink.py), which give their own notice.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field

from geo.errors import AtlasError

FORMAT = "atlas-story"
VERSION = 1
MAX_STORY_BYTES = 100_000
MAX_STEPS = 50
MAX_TITLE, MAX_CALLOUT, MAX_VALUE = 120, 400, 8_000
# What older versions wrote for a story without a title: read as no title, so the audience never sees it.
LEGACY_NO_TITLE = "Untitled story"
# The parameters that define a view in the page address: every parameter of the view registry.
from geo.views import LINK_PARAMS as VIEW_PARAMS  # noqa: E402


@dataclass
class Step:
    title: str
    callout: str
    view: dict[str, str]


@dataclass
class Story:
    title: str = ""
    steps: list[Step] = field(default_factory=list)

    @property
    def shown_title(self) -> str:
        """The title the audience sees: the story's own, else its first step's ('' for an empty, untitled story)."""
        return self.title or (self.steps[0].title if self.steps else "")

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": VERSION, "title": self.title,
                           "steps": [{"title": s.title, "callout": s.callout, "view": s.view} for s in self.steps]},
                          indent=2, ensure_ascii=False) + "\n"

    def position(self, index: int) -> str:
        """'Step 3 of 7' for the third of seven steps (index is 0-based)."""
        return f"Step {index + 1} of {len(self.steps)}"


def view_params(params: dict) -> tuple[dict[str, str], list[str]]:
    """The view parameters of a permalink (known names only, as strings), and notices for what was dropped."""
    view, notices = {}, []
    for key, value in params.items():
        if key not in VIEW_PARAMS:
            notices.append(f"unknown view setting '{key}' ignored")
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float, list)):
            notices.append(f"view setting '{key}' is not text or a number; ignored")
            continue
        text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        if len(text) > MAX_VALUE:
            notices.append(f"view setting '{key}' is longer than {MAX_VALUE:,} characters; ignored")
            continue
        if text:
            view[key] = text
    return view, notices


def _text(value: object, what: str, limit: int, notices: list[str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        notices.append(f"{what} is not text; shown as text")
        value = str(value)
    value = " ".join(value.split())
    if len(value) > limit:
        notices.append(f"{what} shortened to {limit} characters")
        value = value[:limit - 1] + "…"
    return value


def parse_story(data: bytes | str) -> tuple[Story, list[str]]:
    """Read a story file (JSON, or TOML with [[steps]]); returns the story and notices about what was changed."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_STORY_BYTES:
        raise AtlasError(f"This story file is {len(raw):,} bytes; a story is at most {MAX_STORY_BYTES:,}.",
                         "Open a story saved by the atlas (a few kilobytes), or split it into smaller stories.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AtlasError("This story file is not UTF-8 text.", "Open the .json file the atlas saved.") from exc
    try:
        doc = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        raise AtlasError("This file is neither a JSON nor a TOML story.",
                         f"Open the .json file the atlas saved ({str(exc)[:120]}).") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise AtlasError("This file has no list of steps, so it is not an atlas story.",
                         "Open a story saved with 'Save the story' (it has \"steps\": [...]).")
    notices: list[str] = []
    if doc.get("format", FORMAT) != FORMAT:
        notices.append(f"format '{_text(doc.get('format'), 'format', 40, notices)}' is not '{FORMAT}'; read anyway")
    for key in doc:
        if key not in ("format", "version", "title", "steps"):
            notices.append(f"unknown story setting '{key}' ignored")
    steps = []
    for i, item in enumerate(doc["steps"]):
        if len(steps) == MAX_STEPS:
            notices.append(f"only the first {MAX_STEPS} steps are kept")
            break
        if not isinstance(item, dict):
            notices.append(f"step {i + 1} is not a table of title, callout and view; skipped")
            continue
        for key in item:
            if key not in ("title", "callout", "view"):
                notices.append(f"step {i + 1}: unknown setting '{key}' ignored")
        view = item.get("view", {})
        if not isinstance(view, dict):
            notices.append(f"step {i + 1}: the view is not a table of settings; skipped")
            continue
        params, dropped = view_params(view)
        notices += [f"step {i + 1}: {d}" for d in dropped]
        title = _text(item.get("title"), f"step {i + 1} title", MAX_TITLE, notices) or f"Step {i + 1}"
        steps.append(Step(title, _text(item.get("callout"), f"step {i + 1} callout", MAX_CALLOUT, notices), params))
    if not steps:
        raise AtlasError("This story has no usable steps.", "Add views with 'Add this view to the story', then save.")
    title = _text(doc.get("title"), "story title", MAX_TITLE, notices)
    return Story("" if title == LEGACY_NO_TITLE else title, steps), notices
