"""UI logic of comparing areas and presenting stories, with Streamlit's AppTest on the demo pack (fast; the
browser tests in test_browser_present.py check what is drawn)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from geo.state.story import Step, Story
from tests import cases
from ui.present import story_token

APP = str(cases.REPO / "app.py")
WEXLEY, ASHBRIDGE = "E08000905", "E08000901"


def open_link(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def infos(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


def test_comparison_from_a_link_with_a_stale_code():
    at = open_link(data="demo", view="districts", compare="1", areas=f"{WEXLEY},{ASHBRIDGE},E99999999")
    assert not at.exception and not at.error
    assert at.multiselect(key="compare_areas").value == [WEXLEY, ASHBRIDGE]
    assert "areas = E99999999" in infos(at)
    table = at.table[0].value
    assert set(table["Area"]) == {f"A · Wexley Fold ({WEXLEY})", f"B · Ashbridge ({ASHBRIDGE})"}
    assert len(table) == 2 * 5  # five district summaries
    assert table.iloc[0]["National rank"] == "1st of 12"
    assert "median of all 12 districts" in " ".join(c.value for c in at.caption)
    assert at.query_params["compare"] == "1" and at.query_params["areas"] == f"{WEXLEY},{ASHBRIDGE}"


def test_too_many_areas_in_a_link_are_cut_to_four():
    codes = [f"E0800090{i}" for i in range(1, 7)]
    at = open_link(data="demo", view="districts", compare="1", areas=",".join(codes))
    assert not at.exception
    assert len(at.multiselect(key="compare_areas").value) == 4 and "at most 4 areas" in infos(at)


def test_one_area_asks_for_another_and_the_toggle_leaves_the_link():
    at = open_link(data="demo", view="districts", compare="1", areas=WEXLEY)
    assert "Pick 2 to 4 districts" in " ".join(c.value for c in at.caption) and not at.table
    at.sidebar.toggle(key="compare_on").set_value(False).run()
    assert "compare" not in at.query_params and "areas" not in at.query_params


def test_neighbourhoods_compare_lsoas_within_the_chosen_districts():
    at = open_link(data="demo", view="lsoas", districts=WEXLEY, compare="1")
    assert not at.exception
    options = at.multiselect(key="compare_areas").options
    assert 1 < len(options) < 546  # the LSOAs of the chosen district only
    at.multiselect(key="compare_areas").set_value([o.rsplit("(", 1)[1].rstrip(")") for o in options[:3]]).run()
    assert not at.exception and not at.error
    table = at.table[0].value
    assert len(table) == 3 * 2 and {m.rsplit(" ", 1)[1] for m in table["Measure"]} == {"score", "rank"}
    assert all(r.endswith("of 546") for r in table["National rank"])  # ranked among all LSOAs, not the district's


def test_eligibility_and_progress_maps_compare_too():
    at = open_link(data="demo", view="eligibility", compare="1", areas=f"{WEXLEY},{ASHBRIDGE}")
    assert not at.exception
    assert "shows categories (eligible or not)" in infos(at)
    assert len(at.table[0].value) == 2 * 5
    at = open_link(data="demo", view="progress", compare="1", areas=f"{WEXLEY},{ASHBRIDGE}")
    assert not at.exception and not at.error
    table = at.table[0].value
    assert len(table) == 2 and all(("worse" in t or "better" in t or "same" in t) and "percentage points" in t
                                   for t in table["Against England"]), table["Against England"].tolist()
    # the series is in percent (its header says "(%)"): a gap of a few points, never hundreds
    assert all(float(t.split(" percentage")[0]) < 50 for t in table["Against England"] if t[0].isdigit())


def test_build_a_story_present_it_and_step():
    at = open_link(data="demo", view="districts")
    at.sidebar.text_input(key="step_title").input("All districts")
    at.sidebar.text_area(key="step_callout").input("Wexley Fold is the most deprived.")
    at.sidebar.button(key="story_add").click().run()
    at.sidebar.radio(key="view").set_value("Neighbourhoods (LSOAs)").run()
    at.sidebar.button(key="story_add").click().run()  # untitled: the map's title is used
    assert not at.exception
    steps = [m.value for m in at.sidebar.markdown if m.value[:3] in ("1. ", "2. ")]
    assert steps[0].startswith("1. **All districts**") and "most deprived" in steps[0] and "2. **" in steps[1]
    at.sidebar.button(key="story_present").click().run()
    assert not at.exception
    assert at.sidebar.radio(key="view").value == "Districts (England)"
    assert at.query_params["present"] == "1" and at.query_params["step"] == "1" and "story" in at.query_params
    assert at.button(key="present_prev").disabled and not at.button(key="present_next").disabled
    at.button(key="present_next").click().run()
    assert at.sidebar.radio(key="view").value == "Neighbourhoods (LSOAs)" and at.query_params["step"] == "2"
    assert at.button(key="present_next").disabled
    at.button(key="present_exit").click().run()
    assert "present" not in at.query_params and at.sidebar.radio(key="view").value == "Neighbourhoods (LSOAs)"


def header(at: AppTest) -> str:
    """The presenter header's HTML (story title, position, step title, callout)."""
    return " ".join(h.proto.body for h in at.get("html"))


def test_the_audience_sees_the_story_title_never_untitled_story():
    at = open_link(data="demo", view="districts")
    at.sidebar.text_input(key="step_title").input("All districts")
    at.sidebar.button(key="story_add").click().run()
    # Untitled: the presenter is asked for a title, and until then the first step's title heads the steps.
    assert any("Give the story a title" in c.value and "All districts" in c.value for c in at.sidebar.caption)
    at.sidebar.radio(key="view").set_value("Neighbourhoods (LSOAs)").run()
    at.sidebar.button(key="story_add").click().run()
    at.sidebar.button(key="story_present").click().run()
    assert not at.exception
    assert '<span class="atlas-story-name">All districts</span>' in header(at) and "Step 1 of 2" in header(at)
    assert "Untitled" not in header(at)
    at.button(key="present_exit").click().run()
    at.sidebar.text_input(key="story_title").input("Deprivation in <the> demo districts").run()
    assert not any("Give the story a title" in c.value for c in at.sidebar.caption)
    at.sidebar.button(key="story_present").click().run()
    at.button(key="present_next").click().run()
    text = header(at)
    assert '<span class="atlas-story-name">Deprivation in &lt;the&gt; demo districts</span>' in text, text
    assert "Step 2 of 2" in text and "Untitled" not in text
    assert st_story(at).title == "Deprivation in <the> demo districts"


def st_story(at: AppTest) -> Story:
    return at.session_state["story"]


def test_a_story_link_opens_with_its_title_in_the_title_box():
    story = Story("Tees Valley", [Step("One", "", {"data": "demo", "view": "districts"})])
    at = open_link(story=story_token(story), present="1")
    assert not at.exception and "Tees Valley" in header(at) and "Step 1 of 1" in header(at)
    at.button(key="present_exit").click().run()
    assert at.sidebar.text_input(key="story_title").value == "Tees Valley"


def test_a_story_link_with_unknown_settings_and_values_gives_notices():
    story = Story("Odd", [Step("<b>One</b>", "{{7*7}}", {"data": "demo", "view": "districts", "colour": "red"}),
                          Step("Two", "", {"data": "demo", "view": "lsoas", "measure": "happiness"})])
    at = open_link(story=story_token(story), present="1", step="2")
    assert not at.exception
    assert at.sidebar.radio(key="view").value == "Neighbourhoods (LSOAs)"
    text = infos(at)
    assert "unknown view setting 'colour'" in text and "measure = happiness" in text
    assert at.button(key="present_next").disabled
    at.button(key="present_prev").click().run()
    assert not at.exception and at.query_params["step"] == "1"


def test_a_damaged_story_link_is_a_warning():
    at = open_link(story="not-a-story", present="1")
    assert not at.exception
    assert any("story in this link is damaged" in w.value for w in at.warning)
    assert at.sidebar.radio(key="view").value == "Districts (England)"
