"""Durable core: workspaces own every row, durable jobs (the outbox), encrypted calendar links.

- `workspaces` holds one row per Slack workspace (or org); people, templates, interviews,
  offers and settings reference it, and existing workspace ids become rows.
- `jobs` is the durable work table; pending reminders get a job each, and the reminder rows
  lose their own claim columns (the job runner claims jobs now).
- Calendar addresses are kept only encrypted with SECRET_KEY. Links made before this
  revision are encrypted when SECRET_KEY is set while migrating; otherwise their address is
  dropped and the link asks to be linked again (nothing secret stays in plain text).

Revision ID: 0003
Revises: 0002
"""

import hashlib
import json
import os
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OWNED = ("people", "interview_templates", "interviews", "offers", "workspace_settings")
RELINK = "linked before calendar addresses were encrypted: link it again"


def _utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else now


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("enterprise_id", sa.String(32), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_workspaces")),
    )
    _register_existing_workspaces()
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(
                op.f(f"fk_{table}_workspace_id_workspaces"), "workspaces", ["workspace_id"], ["key"],
                ondelete="CASCADE",
            )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(32), nullable=True),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("status", sa.Enum("pending", "done", "failed", "cancelled", name="jobstatus",
                                    native_enum=False, length=16), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.key"], ondelete="CASCADE",
                                name=op.f("fk_jobs_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
    )
    op.create_index("ix_jobs_queue_status_run", "jobs", ["queue", "status", "run_at"])
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_reminders_job_id_jobs"), "jobs", ["job_id"], ["id"],
                                 ondelete="SET NULL")
    _jobs_for_pending_reminders()
    with op.batch_alter_table("reminders") as batch:
        for column in ("attempts", "next_attempt_at", "claimed_by", "claimed_until"):
            batch.drop_column(column)
    _encrypt_calendar_links()
    _forget_reminder_scheduler_jobs()


def _register_existing_workspaces() -> None:
    bind = op.get_bind()
    keys: set[str] = set()
    for table in OWNED:
        keys |= {row[0] for row in bind.execute(sa.text(f"SELECT DISTINCT workspace_id FROM {table}"))}
    workspaces = sa.table("workspaces", sa.column("key"), sa.column("team_id"),
                          sa.column("is_enterprise_install"), sa.column("created_at"))
    if keys:
        now = _utc_now()
        op.bulk_insert(workspaces, [
            {"key": key, "team_id": key if key.startswith("T") else None,
             "is_enterprise_install": False, "created_at": now}
            for key in sorted(keys)
        ])


def _jobs_for_pending_reminders() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT r.id, r.next_attempt_at, r.due_at, i.workspace_id FROM reminders r "
        "JOIN interviews i ON i.id = r.interview_id WHERE r.status = 'pending'")).all()
    now = _utc_now()
    for reminder_id, next_attempt, due, workspace in rows:
        due_text = _iso_z(due)
        bind.execute(sa.text(
            "INSERT INTO jobs (workspace_id, queue, kind, payload, dedupe_key, status, run_at, attempts, "
            "created_at) VALUES (:ws, 'deliveries', 'reminder', :payload, :key, 'pending', :run_at, 0, :now)"),
            {"ws": workspace, "payload": json.dumps({"reminder_id": reminder_id}),
             "key": f"reminder:{reminder_id}:{due_text}", "run_at": next_attempt or due, "now": now})
        job_id = bind.execute(sa.text("SELECT id FROM jobs WHERE dedupe_key = :key"),
                              {"key": f"reminder:{reminder_id}:{due_text}"}).scalar_one()
        bind.execute(sa.text("UPDATE reminders SET job_id = :job WHERE id = :id"),
                     {"job": job_id, "id": reminder_id})


def _iso_z(value: datetime | str) -> str:
    """The job dedupe key's spelling of an instant (SQLite hands back naive UTC text)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _encrypt_calendar_links() -> None:
    from storage.calendars import seal
    from storage.freebusy import redact_url

    bind = op.get_bind()
    links = bind.execute(sa.text("SELECT id, kind, url, username, secret FROM calendar_links")).all()
    with op.batch_alter_table("calendar_links") as batch:
        batch.drop_constraint("uq_calendar_links_source", type_="unique")
        batch.add_column(sa.Column("label", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""))
    box = _secret_box()
    for link_id, kind, url, username, password in links:
        if kind == "mock":
            values = {"label": "built-in mock calendar", "fingerprint": "mock", "secret": None, "error": None}
        elif box is not None:
            label, fingerprint, secret = seal(box, url, username, password)
            values = {"label": label, "fingerprint": fingerprint, "secret": secret, "error": None}
        else:
            values = {"label": redact_url(url), "secret": None, "error": RELINK,
                      "fingerprint": hashlib.sha256(f"relink:{link_id}".encode()).hexdigest()}
        bind.execute(sa.text(
            "UPDATE calendar_links SET label = :label, fingerprint = :fingerprint, secret = :secret, "
            "last_error = COALESCE(:error, last_error) WHERE id = :id"), {**values, "id": link_id})
    with op.batch_alter_table("calendar_links") as batch:
        batch.drop_column("url")
        batch.drop_column("username")
        batch.alter_column("label", server_default=None)
        batch.alter_column("fingerprint", server_default=None)
        batch.create_unique_constraint("uq_calendar_links_source", ["person_id", "kind", "fingerprint"])


def _secret_box():
    key = os.environ.get("SECRET_KEY", "").strip()
    if not key:
        return None
    from storage.secrets import SecretBox

    return SecretBox(key)


def _forget_reminder_scheduler_jobs() -> None:
    """APScheduler date jobs that woke the old reminder sender; the job runner replaces them."""
    if "apscheduler_jobs" in sa.inspect(op.get_bind()).get_table_names():
        op.execute("DELETE FROM apscheduler_jobs WHERE id LIKE 'reminder-%'")


def downgrade() -> None:
    """Back to 0002: links are decrypted when SECRET_KEY is set, else removed (with their cached
    busy time); pending reminders take their due time back from their jobs."""
    _decrypt_calendar_links()
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE reminders SET next_attempt_at = due_at")
    with op.batch_alter_table("reminders") as batch:
        batch.alter_column("next_attempt_at", nullable=False)
        batch.alter_column("attempts", server_default=None)
        batch.drop_constraint(op.f("fk_reminders_job_id_jobs"), type_="foreignkey")
        batch.drop_column("job_id")
    op.drop_index("ix_jobs_queue_status_run", table_name="jobs")
    op.drop_table("jobs")
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_workspace_id_workspaces"), type_="foreignkey")
    op.drop_table("workspaces")


def _decrypt_calendar_links() -> None:
    bind = op.get_bind()
    links = bind.execute(sa.text("SELECT id, kind, secret FROM calendar_links")).all()
    with op.batch_alter_table("calendar_links") as batch:
        batch.drop_constraint("uq_calendar_links_source", type_="unique")
        batch.add_column(sa.Column("url", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("username", sa.String(200), nullable=True))
    box = _secret_box()
    for link_id, kind, secret in links:
        if kind == "mock":
            bind.execute(sa.text("UPDATE calendar_links SET url = 'mock:', secret = NULL WHERE id = :id"),
                         {"id": link_id})
        elif box is not None and secret:
            plain = json.loads(box.decrypt(secret))
            bind.execute(sa.text("UPDATE calendar_links SET url = :url, username = :username, secret = :password "
                                 "WHERE id = :id"), {**plain, "id": link_id})
        else:
            bind.execute(sa.text("DELETE FROM busy_blocks WHERE source = :source"), {"source": f"calendar:{link_id}"})
            bind.execute(sa.text("DELETE FROM calendar_links WHERE id = :id"), {"id": link_id})
    with op.batch_alter_table("calendar_links") as batch:
        batch.drop_column("label")
        batch.drop_column("fingerprint")
        batch.alter_column("url", server_default=None)
        batch.create_unique_constraint("uq_calendar_links_source", ["person_id", "kind", "url"])
