"""The one generic scorer that interprets any instrument definition."""
