"""No double booking on PostgreSQL: an exclusion constraint over person and time range.

Written by hand: autogenerate does not render EXCLUDE constraints. SQLite has no such
constraint; there the write unit of work's BEGIN IMMEDIATE serialises bookings instead.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        "ALTER TABLE interview_participants ADD CONSTRAINT ex_participants_no_overlap "
        "EXCLUDE USING gist (person_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
        "WHERE (active)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE interview_participants DROP CONSTRAINT ex_participants_no_overlap")
