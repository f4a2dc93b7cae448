"""geo.state.story: saving, reading back and validating stories, and the story in a link (ui.present tokens)."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from geo.errors import AtlasError
from geo.state.story import MAX_STORY_BYTES, MAX_TITLE, Step, Story, parse_story, view_params
from ui.present import story_from_token, story_token


def three_steps() -> Story:
    return Story("Tees Valley and Liverpool", [
        Step("Hartlepool", "A third of its neighbourhoods in England's most deprived 10%.",
             {"data": "iod2019", "view": "districts", "measure": "imd", "summary": "average_score"}),
        Step("Its neighbourhoods", "", {"data": "iod2019", "view": "lsoas", "districts": "E06000001"}),
        Step("Side by side", "Liverpool and Middlesbrough are more deprived on every summary.",
             {"data": "iod2019", "view": "districts", "compare": "1", "areas": "E06000001,E08000012"}),
    ])


def test_json_round_trip_and_position():
    story = three_steps()
    back, notes = parse_story(story.to_json())
    assert back == story and notes == []
    assert story.position(2) == "Step 3 of 3" and story.position(0) == "Step 1 of 3"


def test_the_audience_never_sees_untitled_story():
    """A story without a title is shown by its first step's title; 'Untitled story' from older files means none."""
    story = three_steps()
    assert story.shown_title == "Tees Valley and Liverpool"
    story.title = ""
    assert story.shown_title == "Hartlepool"
    assert Story().shown_title == "" and Story().title == ""
    legacy = json.loads(three_steps().to_json())
    legacy["title"] = "Untitled story"
    back, notes = parse_story(json.dumps(legacy))
    assert back.title == "" and back.shown_title == "Hartlepool" and notes == []
    del legacy["title"]
    assert parse_story(json.dumps(legacy))[0].shown_title == "Hartlepool"


def test_toml_is_read_too():
    text = """title = "From TOML"
[[steps]]
title = "One"
callout = "Two lines\\nbecome one"
view = { view = "districts", k = 5, districts = ["E06000001", "E08000012"] }
"""
    story, notes = parse_story(text)
    assert story.title == "From TOML" and story.steps[0].callout == "Two lines become one"
    assert story.steps[0].view == {"view": "districts", "k": "5", "districts": "E06000001,E08000012"}
    assert notes == []


def test_unknown_keys_and_long_texts_give_notices_not_errors():
    doc = {"format": "atlas-story", "title": "x" * 500, "colour": "red", "steps": [
        {"title": "<script>alert(1)</script>", "view": {"view": "districts", "evil": "1", "k": True}, "sound": "on"},
        "not a step",
        {"title": 7, "view": ["not", "a", "table"]},
        {"callout": "c" * 1000, "view": {"measure": "imd"}},
    ]}
    story, notes = parse_story(json.dumps(doc))
    text = " | ".join(notes)
    assert "unknown story setting 'colour'" in text and "step 1: unknown setting 'sound'" in text
    assert "unknown view setting 'evil'" in text and "'k' is not text" in text
    assert "step 2 is not a table" in text and "step 3: the view is not a table" in text
    assert "story title shortened" in text and "step 4 callout shortened" in text
    assert len(story.title) == MAX_TITLE and len(story.steps) == 2
    assert story.steps[0].title == "<script>alert(1)</script>"  # kept as text; the UI escapes it when shown
    assert story.steps[0].view == {"view": "districts"} and story.steps[1].title == "Step 4"


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe\x00bad", "not UTF-8"),
    ("{not json", "neither a JSON nor a TOML"),
    ('{"title": "no steps"}', "no list of steps"),
    ('{"steps": []}', "no usable steps"),
    ('{"steps": ["a", 1]}', "no usable steps"),
    ("[1, 2]", "neither a JSON nor a TOML"),
    (b"{" + b" " * MAX_STORY_BYTES + b"}", "at most"),
    ("[" * 100_000, "neither a JSON nor a TOML"),
])
def test_bad_files_are_clear_errors(data, message):
    with pytest.raises(AtlasError, match=message) as exc:
        parse_story(data)
    assert exc.value.hint


def test_view_params_keeps_only_view_settings():
    view, notes = view_params({"view": "lsoas", "story": "abc", "present": "1", "districts": ["E1", "E2"]})
    assert view == {"view": "lsoas", "districts": "E1,E2"} and len(notes) == 2


def test_story_in_a_link_round_trips_and_damage_is_caught():
    story = three_steps()
    token = story_token(story)
    assert len(token) < 1000 and story_from_token(token)[0] == story
    with pytest.raises(AtlasError, match="damaged|neither a JSON"):
        story_from_token(token[:-12] + "A" * 12)  # a cut-short link: damaged or not a story, never a crash
    bomb = base64.urlsafe_b64encode(zlib.compress(b"{" + b" " * 50_000_000 + b"}", 9)).decode()
    with pytest.raises(AtlasError, match="damaged"):
        story_from_token(bomb)


def test_every_parameter_a_view_writes_to_its_link_can_be_saved_in_a_story():
    """Every parameter of every registered view (on IoD data and on a plain table) and every parameter the app
    writes around the view must be a story/session parameter (geo.state.story.VIEW_PARAMS), or saved steps lose it."""
    import ast

    from geo.state.story import VIEW_PARAMS
    from geo.views import LINK_PARAMS, VIEWS
    from tests.cases import REPO
    from tests.test_views import demo_data, plain_data

    assert tuple(VIEW_PARAMS) == LINK_PARAMS
    names = {p.name for data in (demo_data(), plain_data()) for v in VIEWS.values() for p in v.params(data)
             if p.in_link}
    assert {"measure", "rule", "target", "districts", "scheme", "pot", "series"} <= names
    assert names <= set(VIEW_PARAMS), names - set(VIEW_PARAMS)
    written = set()
    for path in [REPO / "app.py", *(REPO / "ui").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "remember":
                written |= {k.arg for k in node.keywords if k.arg}
    assert {"data", "view"} <= written and written <= set(VIEW_PARAMS), written - set(VIEW_PARAMS)
