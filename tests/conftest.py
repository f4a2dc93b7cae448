"""Shared pytest configuration for the test suite."""


def pytest_configure(config):
    # `pytest -m browser` selects, and `pytest -m "not browser"` skips, the end-to-end tests in
    # tests/test_browser.py (they start the real app and drive headless Chromium).
    config.addinivalue_line("markers", "browser: end-to-end tests that run the Streamlit app in headless Chromium")
