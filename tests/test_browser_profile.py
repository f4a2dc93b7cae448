"""End to end: the area profile of Hartlepool (and Tower Hamlets) in the real app on the IoD2019 pack, offline.

Opens `?data=iod2019&view=profile&area=…`, checks the district's LSOAs are mapped and the profile panel is
drawn with no error box, and saves the screenshots in tests/artifacts/ (profile_hartlepool.png, …_tower_hamlets.png).
"""

from __future__ import annotations

import pytest

from tests import test_browser as tb
from tests.test_browser import ARTIFACTS, map_frame, screenshot, wait_for, wait_idle

# The same fixtures as the other browser tests: the app on an IoD2019 pack built through the loopback mirror.
browser, session, iod2019_app = tb.browser, tb.session, tb.iod2019_app

pytestmark = pytest.mark.browser
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


@pytest.mark.parametrize("code, name, lsoas, shot", [("E06000001", "Hartlepool", 58, "profile_hartlepool.png"),
                                                      ("E09000030", "Tower Hamlets", 144, "profile_tower_hamlets.png")])
def test_area_profile_opens_from_a_link(session, iod2019_app, code, name, lsoas, shot):
    page = session.page
    page.set_viewport_size({"width": 1500, "height": 1500})
    page.goto(f"{iod2019_app}/?data=iod2019&view=profile&area={code}", wait_until="domcontentloaded")
    wait_idle(page, timeout=120)
    frame = map_frame(page, min_paths=lsoas, max_paths=lsoas, timeout=120)
    assert name in frame.locator(".atlas-title").inner_text()
    panel = page.locator(".st-key-atlas_profile")
    wait_for(lambda: panel.count() == 1 and "Priority neighbourhoods" in panel.inner_text(), 30, "the profile panel")
    text = panel.inner_text()
    assert f"Area profile: {name}" in text and f"{name}: " in text and "England's most deprived 10%" in text, text
    assert panel.locator("svg .spine-area").count() == 8
    assert page.locator(ERRORS).count() == 0, page.locator(ERRORS).first.inner_text()
    screenshot(page, ARTIFACTS / shot)
    session.assert_clean()
