"""Loop templates: a template may have several sessions, each with its own length, named
interviewers and "k of a pool", a break between them, and a fixed or free order.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interview_templates") as batch:
        batch.add_column(sa.Column("break_min", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("session_order", sa.Enum("fixed", "free", name="sessionorder", native_enum=False,
                                                            length=16), nullable=False, server_default="fixed"))
    op.create_table(
        "template_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=True),
        sa.Column("pool_k", sa.Integer(), nullable=False),
        sa.CheckConstraint("(pool_id IS NULL AND pool_k = 0) OR (pool_id IS NOT NULL AND pool_k >= 1)",
                           name=op.f("ck_template_sessions_pool_k")),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"], name=op.f("fk_template_sessions_pool_id_pools")),
        sa.ForeignKeyConstraint(["template_id"], ["interview_templates.id"],
                                name=op.f("fk_template_sessions_template_id_interview_templates"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_sessions")),
        sa.UniqueConstraint("template_id", "position", name="uq_template_sessions_position"),
    )
    op.create_table(
        "template_session_people",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_template_session_people_person_id_people"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["template_sessions.id"],
                                name=op.f("fk_template_session_people_session_id_template_sessions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "person_id", name=op.f("pk_template_session_people")),
    )


def downgrade() -> None:
    op.drop_table("template_session_people")
    op.drop_table("template_sessions")
    with op.batch_alter_table("interview_templates") as batch:
        batch.drop_column("session_order")
        batch.drop_column("break_min")
