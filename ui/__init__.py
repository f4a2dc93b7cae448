"""Streamlit views of the atlas (app.py routes to them; the logic lives in geo/)."""
