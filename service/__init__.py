"""Rapport: a measurement-based-care engine for psychotherapy."""

__version__ = "0.1.0"
