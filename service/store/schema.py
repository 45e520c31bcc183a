"""The metadata every table registers on; Alembic compares migrations against it."""

from __future__ import annotations

from service.store import tables  # noqa: F401 - registers the tables on the metadata
from service.store.models import Base

metadata = Base.metadata
