"""A loop session's name on its interview ("Coding"), for the invitation's title and the notices.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interviews") as batch:
        batch.add_column(sa.Column("title", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interviews") as batch:
        batch.drop_column("title")
