"""Read files safely (sniffed, size-limited, CRS checked), build and open data packs, serve static assets."""
