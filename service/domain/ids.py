"""Time-ordered identifiers (UUID version 7, RFC 9562).

Ordering by id is ordering by creation time (to the millisecond), which gives cursor
pagination a stable total order without a second sequence column, and keeps B-tree inserts
at the right-hand edge of the index.
"""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> uuid.UUID:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | rand
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return uuid.UUID(int=value)
