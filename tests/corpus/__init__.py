"""The bad-input corpus: generated files (never committed) that every reader must survive."""
