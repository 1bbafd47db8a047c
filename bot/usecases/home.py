"""The App Home tab's contents: my availability, my upcoming interviews, HR's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.usecases.booking import InterviewRow, others_of
from bot.usecases.context import Context
from bot.usecases.people import person, refresh_profiles
from scheduling.intervals import Interval
from scheduling.zones import zone_of
from storage.availability import list_windows
from storage.booking import interviews_on_day, upcoming_for
from storage.models import Interview, Person, Role


@dataclass(frozen=True)
class HomeView:
    name: str
    tz: str
    roles: tuple[str, ...]
    windows: tuple[Interval, ...]
    mine: tuple[InterviewRow, ...]
    today: tuple[InterviewRow, ...] | None  # HR only: everyone's interviews today


def _row(interview: Interview, viewer: Person) -> InterviewRow:
    return InterviewRow(interview.id, Interval(interview.start_at, interview.end_at), others_of(interview, viewer.id))


def home(ctx: Context, workspace: str, user: str) -> HomeView:
    now = ctx.now()
    refresh_profiles(ctx, workspace, [user])
    with ctx.unit_of_work(workspace) as uow:
        me = person(ctx, uow.session, workspace, user)
        zone = zone_of(me.tz)
        today = None
        if me.has_role(Role.hr):
            start = datetime.combine(now.astimezone(zone).date(), time(0), zone)
            today = tuple(_row(i, me) for i in interviews_on_day(uow.session, workspace, start,
                                                                 start + timedelta(days=1)))
        result = HomeView(
            me.name, me.tz, tuple(sorted(me.role_names)),
            tuple(Interval(w.start_at, w.end_at) for w in list_windows(uow.session, me, since=now)),
            tuple(_row(i, me) for i in upcoming_for(uow.session, me, now, limit=50)), today)
        return uow.done(result)
