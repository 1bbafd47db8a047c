"""Interview templates (HR): a named duration, a panel who must all be free, and the rules; or
a loop of sessions, each with its own length, named people and "k of a pool"."""

from __future__ import annotations

from dataclasses import dataclass

from bot.usecases.context import Context
from bot.usecases.people import acting, person, refresh_named, refresh_profiles
from bot.usecases.pool_search import parse_pool
from scheduling.errors import ParseError
from storage import templates as store
from storage.loop_templates import SessionDef, create_loop_template
from storage.models import InterviewTemplate, Role, SessionOrder

ACTION = "manage interview templates"


@dataclass(frozen=True)
class SessionView:
    """One session of a loop: its named interviewers' names and how many of which pool."""

    name: str
    duration_min: int
    people: tuple[str, ...]
    pool: str | None
    k: int


@dataclass(frozen=True)
class TemplateView:
    template_id: int
    name: str
    duration_min: int
    step_min: int
    notice_min: int
    buffer_before_min: int
    buffer_after_min: int
    cap_per_day: int | None
    cap_per_week: int | None
    programme_max: int | None  # None: programme rules off
    panel: tuple[str, ...]
    sessions: tuple[SessionView, ...] = ()  # a loop's; then `duration_min` is its length
    break_min: int = 0
    order: str = "fixed"


def view(template: InterviewTemplate, panel: list[str]) -> TemplateView:
    sessions = tuple(SessionView(s.name, s.duration_min, tuple(p.person.name for p in s.people),
                                 s.pool.name if s.pool else None, s.pool_k) for s in template.sessions)
    return TemplateView(template.id, template.name, template.duration_min, template.step_min,
                        template.min_notice_min, template.buffer_before_min, template.buffer_after_min,
                        template.cap_per_day, template.cap_per_week,
                        template.programme_max_interviews if template.programme_rules else None, tuple(panel),
                        sessions, template.break_min, template.session_order.value)


@dataclass(frozen=True)
class TemplateSaved:
    template: TemplateView


@dataclass(frozen=True)
class AddTemplate:
    workspace: str
    actor: str | None
    name: str
    duration_min: int
    panel: tuple[str, ...]  # handles
    rules: store.TemplateRules = store.TemplateRules()


def add_template(ctx: Context, cmd: AddTemplate) -> TemplateSaved:
    refresh_named(ctx, cmd.workspace, cmd.actor, cmd.panel, Role.hr, ACTION)
    with ctx.unit_of_work(cmd.workspace) as uow:
        acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, ACTION)
        panel = [person(ctx, uow.session, cmd.workspace, handle) for handle in cmd.panel]
        template = store.create_template(uow.session, cmd.workspace, cmd.name, cmd.duration_min,
                                         [p.id for p in panel], cmd.rules)
        result = TemplateSaved(view(template, [p.name for p in panel]))
        return uow.done(result)


SESSION_EXAMPLE = '--session "Coding:60:pool=backend" --session "Design:45:pool=design-senior*2;people=U01ANA"'


@dataclass(frozen=True)
class SessionDraft:
    """A session as typed: `LABEL:MINUTES:SPEC`, people still as handles."""

    name: str
    duration_min: int
    people: tuple[str, ...] = ()
    pool: str | None = None
    k: int = 0


def parse_session(text: str) -> SessionDraft:
    """`LABEL:MINUTES:SPEC`, SPEC being `pool=NAME[*k]` and/or `people=ID,ID` joined by `;` (not
    `+`, which emails may hold). The label may itself hold colons: the last two split."""
    parts = [p.strip() for p in text.rsplit(":", 2)]
    if len(parts) != 3 or not parts[0]:
        raise ParseError(f"I did not understand the session {text!r}: LABEL:MINUTES:SPEC.", example=SESSION_EXAMPLE)
    label, minutes, spec = parts
    if not (minutes.isascii() and minutes.isdecimal() and len(minutes) <= 4):
        raise ParseError(f"Session {label!r}: {minutes!r} is not a whole number of minutes.", example=SESSION_EXAMPLE)
    pool: tuple[str, int] | None = None
    people: tuple[str, ...] = ()
    for part in (p for p in spec.split(";") if p.strip()):
        key, _, value = (x.strip() for x in part.partition("="))
        if key == "pool" and value and pool is None:
            pool = parse_pool(value)
        elif key == "people" and value and not people:
            people = tuple(h.strip() for h in value.split(",") if h.strip())
        else:
            raise ParseError(f"Session {label!r}: {part.strip()!r} is not pool=NAME[*k] or people=ID,ID "
                             "(each at most once, joined by ';').", example=SESSION_EXAMPLE)
    if pool is None and not people:
        raise ParseError(f"Session {label!r} names nobody: give pool=NAME[*k] and/or people=ID,ID.",
                         example=SESSION_EXAMPLE)
    return SessionDraft(label, int(minutes), people, *(pool or (None, 0)))


@dataclass(frozen=True)
class AddLoop:
    workspace: str
    actor: str | None
    name: str
    sessions: tuple[SessionDraft, ...]
    break_min: int = 0
    order: str = "fixed"
    rules: store.TemplateRules = store.TemplateRules()


def add_loop(ctx: Context, cmd: AddLoop) -> TemplateSaved:
    """A loop template: its sessions' pools and people are checked before anything is stored."""
    if cmd.order not in SessionOrder.__members__:
        raise ParseError(f"The order is fixed or free, not {cmd.order!r}.", example="--order free")
    handles = [h for s in cmd.sessions for h in s.people]
    refresh_named(ctx, cmd.workspace, cmd.actor, handles, Role.hr, ACTION)
    with ctx.unit_of_work(cmd.workspace) as uow:
        acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, ACTION)
        ids = {h: person(ctx, uow.session, cmd.workspace, h).id for h in handles}
        defs = [SessionDef(s.name, s.duration_min, tuple(ids[h] for h in s.people), s.pool, s.k)
                for s in cmd.sessions]
        template = create_loop_template(uow.session, cmd.workspace, cmd.name, defs, cmd.rules,
                                        break_min=cmd.break_min, order=SessionOrder(cmd.order))
        return uow.done(TemplateSaved(view(template, [])))


@dataclass(frozen=True)
class TemplateList:
    templates: tuple[TemplateView, ...]


def list_templates(ctx: Context, workspace: str, actor: str | None) -> TemplateList:
    refresh_profiles(ctx, workspace, [actor])
    with ctx.unit_of_work(workspace) as uow:
        acting(ctx, uow.session, workspace, actor, Role.hr, ACTION)
        found = store.list_templates(uow.session, workspace)
        result = TemplateList(tuple(view(t, [p.name for p in store.panel_of(uow.session, t)]) for t in found))
        return uow.done(result)


@dataclass(frozen=True)
class TemplateRemoved:
    name: str


def remove_template(ctx: Context, workspace: str, actor: str | None, ref: str) -> TemplateRemoved:
    refresh_profiles(ctx, workspace, [actor])
    with ctx.unit_of_work(workspace) as uow:
        acting(ctx, uow.session, workspace, actor, Role.hr, ACTION)
        result = TemplateRemoved(store.remove_template(uow.session, workspace, ref))
        return uow.done(result)
