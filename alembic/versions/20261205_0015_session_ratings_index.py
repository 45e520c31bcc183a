"""An index on each dyad's sessions, so that cost follows the data and not the history.

Storing a WAI-SR or WAI-SR-T reads the ratings of its one session to pair the client's and
the therapist's forms; without this index SQLite read the dyad's whole history through
``(dyad_id, id)`` to find them (issue 15: 3.8 ms at 500 sessions against 0.8 ms for a new
dyad). With ``id`` last, the session's rows also come out in the order the query asks for.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_administrations_dyad_id_session_number_id",
        "administrations",
        ["dyad_id", "session_number", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_administrations_dyad_id_session_number_id", table_name="administrations")
