"""The metadata every table model registers on; Alembic compares migrations against it."""

from __future__ import annotations

from service.store.models import Base

metadata = Base.metadata
