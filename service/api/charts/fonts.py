"""vl-convert draws with its bundled Liberation Sans, on every host.

vl-convert (1.9) measures every text it lays out with the font it finds for the charts'
family, and re-reads a host's font file for every glyph it measures: two thirds of a
drawing's time (a 100-session chart: about 120 ms with Debian's fonts-liberation installed,
35 ms with the bundled font, which stays in memory; docs/charts.md). It reads the fonts it
may use once, at its first conversion, through fontconfig. So the first conversion of the
process runs with ``FONTCONFIG_FILE`` naming Rapport's own configuration (``fonts.conf``: one
font directory, which does not exist), and the variable is put back at once, so that no
other program this process starts (a browser, in the tests) loses its fonts. Every host then
draws what the container image, which has no fonts, draws. An operator who set
``FONTCONFIG_FILE`` for the process keeps theirs.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import vl_convert

CONFIGURATION = Path(__file__).with_name("fonts.conf")
_VARIABLE = "FONTCONFIG_FILE"
_LOADING = threading.Lock()
_loaded = threading.Event()
# The smallest drawing that lays out text: what makes vl-convert read its fonts.
_FIRST = {"marks": [{"type": "text", "encode": {"enter": {"text": {"value": "0"}}}}]}


def load_fonts() -> None:
    """Have vl-convert read its fonts, once per process, before anything it draws."""
    if _loaded.is_set():
        return
    with _LOADING:
        if _loaded.is_set():
            return
        if _VARIABLE in os.environ:  # the operator's own configuration
            vl_convert.vega_to_svg(_FIRST)
        else:
            os.environ[_VARIABLE] = str(CONFIGURATION)
            try:
                vl_convert.vega_to_svg(_FIRST)
            finally:
                del os.environ[_VARIABLE]
        _loaded.set()


__all__ = ["CONFIGURATION", "load_fonts"]
