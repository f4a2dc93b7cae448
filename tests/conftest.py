"""Shared pytest configuration for the test suite."""

import os
import tempfile

# The app opens on the newest real pack when one is installed (ui/data.py `choose_inputs`): pin the packs
# folder to an empty one, so packs a developer built in ./packs change no test. Tests that build packs set
# ATLAS_PACKS_DIR themselves (monkeypatch or the browser tests' environment).
if "ATLAS_PACKS_DIR" not in os.environ:
    os.environ["ATLAS_PACKS_DIR"] = tempfile.mkdtemp(prefix="atlas-no-packs-")


def pytest_configure(config):
    # `pytest -m browser` selects, and `pytest -m "not browser"` skips, the end-to-end tests in
    # tests/test_browser.py (they start the real app and drive headless Chromium).
    config.addinivalue_line("markers", "browser: end-to-end tests that run the Streamlit app in headless Chromium")
