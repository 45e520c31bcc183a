"""Drawn charts, remembered by what they draw.

Drawing a 100-session chart costs tens of milliseconds of CPU (vl-convert lays it out and
renders it: bench/charts.py), while reading its data costs a few. A chart changes only
when its data do, and clinicians and EHRs reload the same charts, so each process keeps
the last ``SIZE`` drawings keyed by a digest of what is drawn (and the format): the
specification of a chart filled from its template, the data of any other. The key is
computed after the use case has checked the caller's scope and tenancy, so the cache never
answers a request the use case would refuse; the key includes the tenant anyway. Losing
the cache (a restart, another process) only costs a redraw: nothing depends on it being
shared.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable

import orjson

from service.api.charts.spec import Chart

SIZE = 256


class DrawingCache:
    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._items: OrderedDict[str, str | bytes] = OrderedDict()
        self._lock = threading.Lock()

    def drawn(self, key: str, draw: Callable[[], str | bytes]) -> str | bytes:
        """The drawing under ``key``, drawn now if it is not remembered."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
        if found is not None:
            return found
        made = draw()
        with self._lock:
            self._items[key] = made
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return made

    def drawn_text(self, key: str, draw: Callable[[], str]) -> str:
        made = self.drawn(key, draw)
        assert isinstance(made, str)  # a key names one format, and SVG is text
        return made

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def key(tenant_id: uuid.UUID, form: str, *parts: object) -> str:
    """A digest of what a drawing depends on: the tenant, the format and the data's repr
    (frozen dataclasses: every value the chart shows is in it), or bytes as they are."""
    digest = hashlib.sha256(f"{tenant_id}|{form}".encode())
    for part in parts:
        digest.update(b"|")
        digest.update(part if isinstance(part, bytes) else repr(part).encode())
    return digest.hexdigest()


def chart_key(tenant_id: uuid.UUID, form: str, chart: Chart) -> str:
    """The key of a chart filled from its template (service.api.charts.template): its
    specification holds everything drawn, and costs less to make and digest than the
    data's repr."""
    return key(tenant_id, form, orjson.dumps(chart.spec))


DRAWINGS = DrawingCache()
