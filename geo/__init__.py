"""Neighbourhood Renewal Atlas library: load, join, summarise, classify and map area data.

Pure functions over (Geo)DataFrames; no Streamlit here (app.py is the only UI).
"""

import os

# Set before GDAL (via pyogrio) is first loaded: drivers that read other files or the network
# are skipped, and GDAL may not go online. Readers in geo.load.io also pick the format themselves.
os.environ["GDAL_SKIP"] = "VRT OGR_VRT KML LIBKML GPX CSV GML WFS WMS HTTP OAPIF ESRIJSON TopoJSON"
os.environ.setdefault("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".none")
os.environ.setdefault("GDAL_HTTP_TIMEOUT", "1")
