"""Instrument definitions: declarative data read from TOML files, and the catalogue."""
