"""Shared pytest configuration for the test suite."""

import os
import tempfile

import pytest

# The app opens on the newest real pack when one is installed (ui/data.py `choose_inputs`): pin the packs
# folder to an empty one, so packs a developer built in ./packs change no test. Tests that build packs set
# ATLAS_PACKS_DIR themselves (monkeypatch or the browser tests' environment).
if "ATLAS_PACKS_DIR" not in os.environ:
    os.environ["ATLAS_PACKS_DIR"] = tempfile.mkdtemp(prefix="atlas-no-packs-")


def pytest_configure(config):
    # `pytest -m browser` selects, and `pytest -m "not browser"` skips, the end-to-end tests in
    # tests/test_browser.py (they start the real app and drive headless Chromium).
    config.addinivalue_line("markers", "panels_closed: AppTest with the lazy panels closed, as on a first page")
    config.addinivalue_line("markers", "browser: end-to-end tests that run the Streamlit app in headless Chromium")


@pytest.fixture(autouse=True)
def _lazy_panels_open(request, monkeypatch):
    """AppTest runs with every lazy panel (ui.common.lazy_expander) open, as a user who opened them all, so a
    test sees their contents; tests marked `panels_closed` get the app as a first page draws it."""
    if request.node.get_closest_marker("panels_closed"):
        return
    from streamlit.testing.v1 import AppTest

    from ui.common import LAZY_PANELS

    made = AppTest.from_file

    def from_file(*args, **kwargs):
        at = made(*args, **kwargs)
        for key in LAZY_PANELS:
            at.session_state[key] = True
        return at
    monkeypatch.setattr(AppTest, "from_file", from_file)
