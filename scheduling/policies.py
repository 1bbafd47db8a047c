"""Rules applied after the free-time search: interviewer caps and the mock-interview programme.

Pure logic, no storage: callers load booked starts and the candidate's history and pass them in,
so every rule can be tested (and property-tested) without a database.

Caps count in the *interviewer's* zone: a slot is removed when the interviewer already has
`cap` interviews on the local day (or ISO week, Monday–Sunday local) where the slot starts.
Slots found by one search are alternatives, so they never count against each other.

Programme rules (off unless a template switches them on): a candidate who completed
`max_completed` interviews is offered nothing; an interviewer who already interviewed the
candidate (booked or completed) cannot be on the panel; and the candidate goes on only while
each of their last two graded interviews scored above `min_grade`. An interview's grade is
the lowest grade its interviewers gave (the weakest verdict decides, so one interviewer's
"not ready" is never averaged away); ungraded interviews are ignored, and with fewer than two
grades only those there are must be above `min_grade` (a first interview always goes ahead).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from scheduling.errors import SchedulingError
from scheduling.intervals import Interval
from scheduling.zones import day_name


class InvalidPolicy(SchedulingError):
    """A cap or programme setting that cannot work (zero or negative)."""


@dataclass(frozen=True)
class ProgrammeRules:
    """The mock-interview programme; defaults are the product's documented ones."""

    max_completed: int = 15
    min_grade: int = 1
    recent: int = 2

    def __post_init__(self) -> None:
        if self.max_completed < 1 or self.recent < 1:
            raise InvalidPolicy("The programme needs at least one interview and one recent grade.")


@dataclass(frozen=True)
class Policy:
    """Rules on top of free time. `Policy()` changes nothing; caps of None mean no cap."""

    cap_per_day: int | None = None
    cap_per_week: int | None = None
    programme: ProgrammeRules | None = None

    def __post_init__(self) -> None:
        for cap in (self.cap_per_day, self.cap_per_week):
            if cap is not None and cap < 1:
                raise InvalidPolicy("A cap on interviews must be at least 1.", example="--cap-day 2")

    @property
    def has_caps(self) -> bool:
        return self.cap_per_day is not None or self.cap_per_week is not None


@dataclass(frozen=True)
class InterviewerLoad:
    """One interviewer's already-booked interview starts (UTC) and the zone caps count in."""

    name: str
    zone: tzinfo
    starts: Sequence[datetime] = ()


@dataclass
class CapResult:
    """Kept slots in order, one note per interviewer and cap, and who was capped (bottlenecks)."""

    slots: list[Interval]
    notes: list[str] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)


def _week_of(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _tally(load: InterviewerLoad) -> tuple[Counter[date], Counter[tuple[int, int]]]:
    """Booked interviews per local day and per local ISO week."""
    days = Counter(s.astimezone(load.zone).date() for s in load.starts)
    weeks: Counter[tuple[int, int]] = Counter()
    for day, n in days.items():
        weeks[_week_of(day)] += n
    return days, weeks


def apply_caps(slots: Sequence[Interval], loads: Sequence[InterviewerLoad], policy: Policy) -> CapResult:
    """Drop slots that would put any interviewer over a cap; notes say who and which cap.

    Kept slots stay in their order; a day cap that removes a slot is reported before the week
    cap, so each removed slot is explained once per interviewer.
    """
    if not policy.has_caps:
        return CapResult(slots=list(slots))
    keep = [True] * len(slots)
    result = CapResult(slots=[])
    for load in loads:
        days, weeks = _tally(load)
        full_days: Counter[date] = Counter()
        full_weeks: Counter[date] = Counter()  # keyed by the local Monday
        for i, slot in enumerate(slots):
            day = slot.start.astimezone(load.zone).date()
            if policy.cap_per_day is not None and days[day] >= policy.cap_per_day:
                full_days[day] += 1
            elif policy.cap_per_week is not None and weeks[_week_of(day)] >= policy.cap_per_week:
                full_weeks[_monday(day)] += 1
            else:
                continue
            keep[i] = False
        if full_days:
            result.notes.append(
                f"{load.name} already has {policy.cap_per_day} interview(s) on {_days(full_days)} "
                f"(cap per day): {full_days.total()} slot(s) removed."
            )
        if full_weeks:
            result.notes.append(
                f"{load.name} already has {policy.cap_per_week} interview(s) in the week of "
                f"{_days(full_weeks)} (cap per week): {full_weeks.total()} slot(s) removed."
            )
        if full_days or full_weeks:
            result.capped.append(load.name)
    result.slots = [slot for slot, ok in zip(slots, keep, strict=True) if ok]
    return result


def _days(days: Iterable[date]) -> str:
    return ", ".join(day_name(d, year=True) for d in sorted(days))


@dataclass(frozen=True)
class CandidateHistory:
    """What the programme looks at: completed count, grades oldest first, past interviewers."""

    completed: int = 0
    grades: tuple[int, ...] = ()
    interviewed_by: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ProgrammeVerdict:
    """Empty `reasons` means the programme allows the search; `blocked_by` names panel members."""

    reasons: tuple[str, ...] = ()
    blocked_by: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.reasons


def programme_verdict(
    rules: ProgrammeRules, history: CandidateHistory, panel: Mapping[int, str], candidate: str
) -> ProgrammeVerdict:
    """Check every programme rule; each one that fails adds its own reason."""
    reasons: list[str] = []
    if history.completed >= rules.max_completed:
        reasons.append(
            f"{candidate} has completed {history.completed} interview(s); the programme "
            f"allows {rules.max_completed}."
        )
    repeat = tuple(name for pid, name in panel.items() if pid in history.interviewed_by)
    if repeat:
        reasons.append(
            f"{', '.join(repeat)} already interviewed {candidate}; the programme needs "
            "interviewers who have not."
        )
    recent = history.grades[-rules.recent :]
    if any(g <= rules.min_grade for g in recent):
        shown = ", ".join(str(g) for g in recent)
        reasons.append(
            f"{candidate}'s last grades ({shown}) are not each above {rules.min_grade}; "
            "the programme stops here."
        )
    return ProgrammeVerdict(reasons=tuple(reasons), blocked_by=repeat)
