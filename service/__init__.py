"""Rapport: a measurement-based-care engine for psychotherapy."""
