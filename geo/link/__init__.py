"""Codes normalised once, geography and vintage detected, tables joined to boundaries (audited)."""
