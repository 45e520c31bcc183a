"""The pure domain: instrument definitions, scoring and clinical statistics.

Nothing here imports a web, persistence or validation framework; a test enforces it.
"""
