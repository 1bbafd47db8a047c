"""Interview templates (HR): a named duration, a panel who must all be free, and the rules."""

from __future__ import annotations

from dataclasses import dataclass

from bot.usecases.context import Context
from bot.usecases.people import acting, person, refresh_named, refresh_profiles
from storage import templates as store
from storage.models import InterviewTemplate, Role

ACTION = "manage interview templates"


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


def view(template: InterviewTemplate, panel: list[str]) -> TemplateView:
    return TemplateView(template.id, template.name, template.duration_min, template.step_min,
                        template.min_notice_min, template.buffer_before_min, template.buffer_after_min,
                        template.cap_per_day, template.cap_per_week,
                        template.programme_max_interviews if template.programme_rules else None, tuple(panel))


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
