"""The relational model. Instants are `UTCDateTime`; durations are whole minutes."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from scheduling.slots import DEFAULT_DURATION_MIN, DEFAULT_NOTICE_MIN, DEFAULT_STEP_MIN
from storage.db import UTC, UTCDateTime
from storage.roles import Role


def utcnow() -> datetime:
    return datetime.now(UTC)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class InterviewStatus(enum.StrEnum):
    booked = "booked"
    cancelled = "cancelled"
    completed = "completed"


class ReminderStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    skipped = "skipped"
    cancelled = "cancelled"


class SessionOrder(enum.StrEnum):
    """Whether a loop's sessions run in the template's order or in any order that fits."""

    fixed = "fixed"
    free = "free"


class JobStatus(enum.StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, validate_strings=True)


def _workspace_fk() -> ForeignKey:
    return ForeignKey("workspaces.key", ondelete="CASCADE")


class Workspace(Base):
    """A Slack workspace (or an Enterprise Grid org, for an org-wide install): every row of
    people, interviews, templates, offers, settings and jobs belongs to exactly one.

    `key` is the team id, the enterprise id for an org-wide install, or a local name for the
    CLI and the demo.
    """

    __tablename__ = "workspaces"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    """A Slack user (workspace + user id) or an email-only candidate added by HR."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("workspace_id", "slack_user_id", name="uq_people_workspace_user"),
        UniqueConstraint("workspace_id", "email", name="uq_people_workspace_email"),
        CheckConstraint("slack_user_id IS NOT NULL OR email IS NOT NULL", name="has_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32), _workspace_fk())
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    profile_refreshed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Changed by database triggers whenever this person's free time may have (migration 0005);
    # never written by the application.
    free_version: Mapped[int] = mapped_column(BigInteger, server_default="0")

    roles: Mapped[list[PersonRole]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        lazy="selectin",
        foreign_keys="PersonRole.person_id",
    )

    @property
    def role_names(self) -> set[str]:
        return {r.role.value for r in self.roles}

    def has_role(self, role: Role) -> bool:
        return any(r.role == role for r in self.roles)

    @property
    def handle(self) -> str:
        """How the CLI and logs name this person: Slack id, else email."""
        return self.slack_user_id or self.email or f"#{self.id}"


class PersonRole(Base):
    __tablename__ = "person_roles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role), primary_key=True)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="roles", foreign_keys=[person_id])


class RoleRequest(Base):
    """A self-registration waiting for HR approval (when the workspace requires it)."""

    __tablename__ = "role_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]


class WorkspaceSetting(Base):
    """Per-workspace switches HR can change at run time (e.g. registration approval)."""

    __tablename__ = "workspace_settings"

    workspace_id: Mapped[str] = mapped_column(String(32), _workspace_fk(), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class AvailabilityWindow(Base):
    """A span when a person can be interviewed. A person's windows never overlap or touch."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        Index("ix_windows_person_end_start", "person_id", "end_at", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BusyBlock(Base):
    """Time a person is not free, from a named source."""

    __tablename__ = "busy_blocks"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        Index("ix_busy_person_end_start", "person_id", "end_at", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(64), default="manual")  # manual, mock, calendar:<link id>
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarLink(Base):
    """An external free/busy source linked by a person; fetched busy time is cached.

    The address (with any credentials) is a secret: private feed URLs are bearer tokens. It is
    kept only encrypted (`secret`: the JSON `{"url", "username", "password"}` under the
    SECRET_KEY); `label` is the redacted address shown to people and `fingerprint` a keyed hash
    of the address that keeps one person from linking the same calendar twice.
    """

    __tablename__ = "calendar_links"
    __table_args__ = (
        UniqueConstraint("person_id", "kind", "fingerprint", name="uq_calendar_links_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str | None] = mapped_column(Text)
    last_fetched_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Pool(Base):
    """A named set of interviewers ("backend", "design-senior"): a search may ask for any k of
    them, and the fairest free ones (by interview load) are chosen."""

    __tablename__ = "pools"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_pools_workspace_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32), _workspace_fk())
    name: Mapped[str] = mapped_column(String(40))  # lower case: `pool:NAME` in commands
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[PoolMember]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PoolMember.added_at"
    )


class PoolMember(Base):
    __tablename__ = "pool_members"

    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class InterviewTemplate(Base):
    """A named interview shape: duration, panel and rules; or, with `sessions`, a loop: several
    sessions on one local day of the candidate, `break_min` apart (`duration_min` is then the
    loop's length, first start to last end, and `panel` is empty)."""

    __tablename__ = "interview_templates"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_templates_workspace_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32), _workspace_fk())
    name: Mapped[str] = mapped_column(String(100))
    duration_min: Mapped[int] = mapped_column(Integer, default=DEFAULT_DURATION_MIN)
    step_min: Mapped[int] = mapped_column(Integer, default=DEFAULT_STEP_MIN)
    min_notice_min: Mapped[int] = mapped_column(Integer, default=DEFAULT_NOTICE_MIN)
    buffer_before_min: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_min: Mapped[int] = mapped_column(Integer, default=0)
    cap_per_day: Mapped[int | None] = mapped_column(Integer)
    cap_per_week: Mapped[int | None] = mapped_column(Integer)
    programme_rules: Mapped[bool] = mapped_column(Boolean, default=False)
    programme_max_interviews: Mapped[int] = mapped_column(Integer, default=15)
    break_min: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    session_order: Mapped[SessionOrder] = mapped_column(
        _enum(SessionOrder), default=SessionOrder.fixed, server_default=SessionOrder.fixed.value
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    panel: Mapped[list[TemplateInterviewer]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TemplateInterviewer.position"
    )
    sessions: Mapped[list[TemplateSession]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TemplateSession.position"
    )


class TemplateInterviewer(Base):
    __tablename__ = "template_interviewers"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("interview_templates.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class TemplateSession(Base):
    """One session of a loop template: its length, named interviewers and `pool_k` of a pool.
    A pool a session uses cannot be removed (the foreign key refuses it)."""

    __tablename__ = "template_sessions"
    __table_args__ = (
        UniqueConstraint("template_id", "position", name="uq_template_sessions_position"),
        CheckConstraint("(pool_id IS NULL AND pool_k = 0) OR (pool_id IS NOT NULL AND pool_k >= 1)",
                        name="pool_k"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("interview_templates.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    duration_min: Mapped[int] = mapped_column(Integer)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("pools.id"))
    pool_k: Mapped[int] = mapped_column(Integer, default=0)

    pool: Mapped[Pool | None] = relationship(lazy="joined")
    people: Mapped[list[TemplateSessionPerson]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TemplateSessionPerson.position"
    )


class TemplateSessionPerson(Base):
    __tablename__ = "template_session_people"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("template_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    person: Mapped[Person] = relationship(lazy="joined")


class Interview(Base):
    """A booked interview. `uid` is the stable iCalendar UID; `sequence` bumps on change."""

    __tablename__ = "interviews"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        Index("ix_interviews_status_start", "status", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32), _workspace_fk())
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview_templates.id", ondelete="SET NULL")
    )
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    buffer_before_min: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_min: Mapped[int] = mapped_column(Integer, default=0)
    location: Mapped[str | None] = mapped_column(String(300))  # a room, an address or a video link
    title: Mapped[str | None] = mapped_column(String(100))  # a loop session's name ("Coding"); None alone
    status: Mapped[InterviewStatus] = mapped_column(_enum(InterviewStatus), default=InterviewStatus.booked)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    booked_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    participants: Mapped[list[InterviewParticipant]] = relationship(
        back_populates="interview", cascade="all, delete-orphan", lazy="selectin"
    )


class InterviewParticipant(Base):
    """One person in one interview. The time range is copied here so the database can forbid
    overlapping active bookings per person (an exclusion constraint on PostgreSQL)."""

    __tablename__ = "interview_participants"
    __table_args__ = (
        CheckConstraint("grade IS NULL OR (grade >= 0 AND grade <= 5)", name="grade_range"),
        Index("ix_participants_person_end_start", "person_id", "end_at", "start_at"),
    )

    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    grade: Mapped[int | None] = mapped_column(Integer)
    graded_at: Mapped[datetime | None]

    interview: Mapped[Interview] = relationship(back_populates="participants")
    person: Mapped[Person] = relationship(lazy="joined")


class Offer(Base):
    """Slots offered to a candidate to pick from; the first valid pick wins."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32), _workspace_fk())
    candidate_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    interviewer_ids: Mapped[list[int]] = mapped_column(JSON)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview_templates.id", ondelete="SET NULL")
    )
    slots: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    duration_min: Mapped[int] = mapped_column(Integer, default=DEFAULT_DURATION_MIN)
    status: Mapped[str] = mapped_column(String(16), default="open")
    expires_at: Mapped[datetime]
    interview_id: Mapped[int | None] = mapped_column(ForeignKey("interviews.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reminder(Base):
    """What reminders an interview has: one row per interview, recipient and offset.

    Sending is a job (`job_id`) with the job runner's retries and once-only delivery; this row
    says what the reminder is for and how it ended (sent, skipped and why, cancelled).
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("interview_id", "person_id", "offset_min", name="uq_reminders_target"),
        Index("ix_reminders_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    offset_min: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[ReminderStatus] = mapped_column(_enum(ReminderStatus), default=ReminderStatus.pending)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Job(Base):
    """Durable work: an acknowledged Slack request, a message to deliver, a reminder.

    Written in the same transaction as the change that causes it (the transactional outbox),
    then run by any process: a runner claims due rows for a lease (`claimed_by`,
    `claimed_until`, kept alive by heartbeats while it works), and finishes them with a
    conditional update, so a job whose lease was lost cannot be finished twice. `progress`
    is the handler's own state across attempts (e.g. "posted, ts 123.4"), which is what makes
    a retry after an unknown outcome safe. `dedupe_key` makes deferring idempotent (Slack's
    retries of one request, one reminder per due time).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
        Index("ix_jobs_queue_status_run", "queue", "status", "run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str | None] = mapped_column(String(32), _workspace_fk())
    queue: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus), default=JobStatus.pending)
    run_at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
