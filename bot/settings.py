"""Settings from the environment (and `.env` when present), validated once at start-up.

A missing or malformed value raises `SettingsError` with one line naming the variable; the CLI
prints that line and exits non-zero instead of showing a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scheduling.policies import Policy
from scheduling.slots import (
    DEFAULT_DURATION_MIN,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_NOTICE_MIN,
    DEFAULT_STEP_MIN,
    SearchRules,
)
from storage.freebusy.netguard import AddressPolicy
from storage.secrets import SecretBox

SLACK_API_DEFAULT = "https://slack.com/api/"


MAX_REMINDER_MIN = 30 * 24 * 60
DATABASES = ("sqlite", "postgresql")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {value}.")
    return value


def _optional_int(env: Mapping[str, str], name: str, maximum: int) -> int | None:
    return _int(env, name, 0, minimum=1, maximum=maximum) if env.get(name, "").strip() else None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}.")


def _ids(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    parts = [p.strip() for p in env.get(name, "").replace(";", ",").split(",")]
    ids = tuple(p.upper() for p in parts if p)
    for item in ids:
        if not item.isalnum():
            raise SettingsError(f"{name} must be Slack user ids separated by commas, got {item!r}.")
    return ids


def _offsets(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    values = []
    for part in raw.split(","):
        part = part.strip().lower()
        scale = 60 if part.endswith("h") else 1
        number = part.rstrip("hm")
        if not number.isdigit() or not 0 < int(number) * scale <= MAX_REMINDER_MIN:
            raise SettingsError(f"{name} must be a list like '24h,1h' or '1440,60' (minutes, at most 30 days), "
                                f"got {raw!r}.")
        values.append(int(number) * scale)
    return tuple(sorted(set(values), reverse=True))


def _secret_box(env: Mapping[str, str]) -> SecretBox | None:
    raw = env.get("SECRET_KEY", "").strip()
    if not raw:
        return None
    try:
        return SecretBox(raw)
    except ValueError as err:
        raise SettingsError(str(err)) from None


def _address_policy(env: Mapping[str, str]) -> AddressPolicy:
    try:
        return AddressPolicy.parse(env.get("CALENDAR_ALLOWED_NETWORKS", ""))
    except ValueError as err:
        raise SettingsError(f"CALENDAR_ALLOWED_NETWORKS: {err}") from None


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///interview-bot.db"
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = SLACK_API_DEFAULT
    hr_user_ids: tuple[str, ...] = ()
    port: int = 3000
    duration_min: int = DEFAULT_DURATION_MIN
    step_min: int = DEFAULT_STEP_MIN
    min_notice_min: int = DEFAULT_NOTICE_MIN
    horizon_days: int = DEFAULT_HORIZON_DAYS
    buffer_before_min: int = 0
    buffer_after_min: int = 0
    cap_per_day: int | None = None
    cap_per_week: int | None = None
    reminder_offsets_min: tuple[int, ...] = (24 * 60, 60)
    max_windows_per_message: int = 200
    busy_source: str = "none"
    calendar_timeout_s: int = 5
    calendar_refresh_min: int = 15
    require_registration_approval: bool = False
    offer_ttl_hours: int = 48
    request_deadline_s: int = 300
    slack_timeout_s: int = 10
    job_lease_s: int = 60
    health_file: str = ""  # touched by a live job runner; `interview-bot health` checks its age
    # SECRET_KEY (Fernet key[s]) encrypts calendar addresses; None: calendars cannot be linked.
    secrets: SecretBox | None = field(default=None, repr=False, compare=False)
    calendar_policy: AddressPolicy = field(default_factory=AddressPolicy)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Read settings; the process environment wins over `.env`."""
        env: dict[str, str] = {}
        path = dotenv if dotenv is not None else Path(".env")
        if path.is_file():
            try:
                env.update({k: v for k, v in dotenv_values(path).items() if v is not None})
            except UnicodeDecodeError:
                raise SettingsError(f"{path} is not valid UTF-8 text.") from None
        env.update(os.environ if environ is None else environ)
        database_url = env.get("DATABASE_URL", "").strip() or cls.database_url
        try:
            backend = make_url(database_url).get_backend_name()
        except ArgumentError:
            raise SettingsError(f"DATABASE_URL is not a database URL: {database_url!r}.") from None
        if backend not in DATABASES:
            raise SettingsError(f"DATABASE_URL must be a sqlite:/// or postgresql:// URL, got {backend!r}.")
        api_url = env.get("SLACK_API_URL", "").strip() or SLACK_API_DEFAULT
        if not api_url.startswith(("http://", "https://")):
            raise SettingsError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}.")
        busy_source = env.get("BUSY_SOURCE", "none").strip().lower() or "none"
        if busy_source not in ("none", "mock"):
            raise SettingsError(f"BUSY_SOURCE must be 'none' or 'mock', got {busy_source!r}.")
        return cls(
            database_url=database_url,
            slack_bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
            slack_app_token=env.get("SLACK_APP_TOKEN", "").strip(),
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            hr_user_ids=_ids(env, "HR_USER_IDS"),
            port=_int(env, "PORT", cls.port, minimum=1, maximum=65535),
            duration_min=_int(env, "DEFAULT_DURATION_MIN", cls.duration_min, minimum=5, maximum=480),
            step_min=_int(env, "SLOT_STEP_MIN", cls.step_min, minimum=5, maximum=480),
            min_notice_min=_int(env, "MIN_NOTICE_MIN", cls.min_notice_min, maximum=30 * 24 * 60),
            horizon_days=_int(env, "HORIZON_DAYS", cls.horizon_days, minimum=1, maximum=730),
            buffer_before_min=_int(env, "BUFFER_BEFORE_MIN", cls.buffer_before_min, maximum=240),
            buffer_after_min=_int(env, "BUFFER_AFTER_MIN", cls.buffer_after_min, maximum=240),
            cap_per_day=_optional_int(env, "CAP_PER_DAY", maximum=50),
            cap_per_week=_optional_int(env, "CAP_PER_WEEK", maximum=200),
            reminder_offsets_min=_offsets(env, "REMINDER_OFFSETS", cls.reminder_offsets_min),
            max_windows_per_message=_int(env, "MAX_WINDOWS_PER_MESSAGE", cls.max_windows_per_message, minimum=1, maximum=1000),
            busy_source=busy_source,
            calendar_timeout_s=_int(env, "CALENDAR_TIMEOUT_S", cls.calendar_timeout_s, minimum=1, maximum=60),
            calendar_refresh_min=_int(env, "CALENDAR_REFRESH_MIN", cls.calendar_refresh_min, minimum=1, maximum=24 * 60),
            require_registration_approval=_bool(env, "REQUIRE_REGISTRATION_APPROVAL", cls.require_registration_approval),
            offer_ttl_hours=_int(env, "OFFER_TTL_HOURS", cls.offer_ttl_hours, minimum=1, maximum=30 * 24),
            request_deadline_s=_int(env, "REQUEST_DEADLINE_S", cls.request_deadline_s, minimum=5, maximum=1800),
            slack_timeout_s=_int(env, "SLACK_TIMEOUT_S", cls.slack_timeout_s, minimum=1, maximum=120),
            job_lease_s=_int(env, "JOB_LEASE_S", cls.job_lease_s, minimum=2, maximum=3600),
            health_file=env.get("HEALTH_FILE", "").strip(),
            secrets=_secret_box(env),
            calendar_policy=_address_policy(env),
        )

    def rules(self, duration_min: int | None = None) -> SearchRules:
        """The default search rules, optionally with another duration."""
        return SearchRules(
            duration=timedelta(minutes=self.duration_min if duration_min is None else duration_min),
            step=timedelta(minutes=self.step_min),
            min_notice=timedelta(minutes=self.min_notice_min),
            horizon=timedelta(days=self.horizon_days),
            buffer_before=timedelta(minutes=self.buffer_before_min),
            buffer_after=timedelta(minutes=self.buffer_after_min),
        )

    def policy(self) -> Policy:
        """The default caps (no programme rules: those are switched on per template)."""
        return Policy(cap_per_day=self.cap_per_day, cap_per_week=self.cap_per_week)

    def require_slack(self) -> None:
        """Running against Slack needs a bot token and either a signing secret or an app token."""
        if not self.slack_bot_token:
            raise SettingsError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...).")
        if not self.slack_bot_token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
        if not self.slack_signing_secret and not self.slack_app_token:
            raise SettingsError("SLACK_SIGNING_SECRET is not set (needed for HTTP mode).")
