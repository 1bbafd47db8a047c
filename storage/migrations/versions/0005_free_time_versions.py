"""A version per person that changes whenever their free time may have: the key under which
searches keep each person's computed free time (storage/freetime.py).

Triggers, not application code, change it, so no write path can forget: any insert or delete of
an availability window, busy block or interview participation, and any update of the columns
that place one in time, gives the person a new version in the same transaction. The new value
is never one seen before (a PostgreSQL sequence; SQLite's 64-bit `random()`), so a version read
inside a transaction that then rolls back can never come back to name other data.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Table -> the columns whose update moves free time.
WATCHED = {
    "availability_windows": "person_id, start_at, end_at",
    "busy_blocks": "person_id, start_at, end_at",
    "interview_participants": "person_id, start_at, end_at, active",
}

PG_FUNCTION = """
CREATE FUNCTION bump_free_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE people SET free_version = nextval('free_version_seq') WHERE id = OLD.person_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.person_id IS DISTINCT FROM OLD.person_id) THEN
        UPDATE people SET free_version = nextval('free_version_seq') WHERE id = NEW.person_id;
    END IF;
    RETURN NULL;
END $$
"""

SQLITE_BUMP = "UPDATE people SET free_version = random() WHERE id"


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("free_version", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE free_version_seq")
        op.execute(PG_FUNCTION)
        for table, columns in WATCHED.items():
            op.execute(f"CREATE TRIGGER {table}_free_version AFTER INSERT OR DELETE OR UPDATE OF {columns} "
                       f"ON {table} FOR EACH ROW EXECUTE FUNCTION bump_free_version()")
        return
    for table, columns in WATCHED.items():
        op.execute(f"CREATE TRIGGER {table}_free_ins AFTER INSERT ON {table} "
                   f"BEGIN {SQLITE_BUMP} = NEW.person_id; END")
        op.execute(f"CREATE TRIGGER {table}_free_del AFTER DELETE ON {table} "
                   f"BEGIN {SQLITE_BUMP} = OLD.person_id; END")
        op.execute(f"CREATE TRIGGER {table}_free_upd AFTER UPDATE OF {columns} ON {table} "
                   f"BEGIN {SQLITE_BUMP} IN (OLD.person_id, NEW.person_id); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_free_version ON {table}")
        op.execute("DROP FUNCTION bump_free_version()")
        op.execute("DROP SEQUENCE free_version_seq")
    else:
        for table in WATCHED:
            for kind in ("ins", "del", "upd"):
                op.execute(f"DROP TRIGGER {table}_free_{kind}")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("free_version")
