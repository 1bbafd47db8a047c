"""Interviewer pools (HR): named sets of interviewers a search takes the fairest free ones from."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.usecases.context import Context
from bot.usecases.people import acting, person, refresh_named, refresh_profiles
from storage import pools as store
from storage.models import Pool, Role

ACTION = "manage interviewer pools"


@dataclass(frozen=True)
class PoolView:
    name: str
    members: tuple[str, ...]  # names, in the order they joined


@dataclass(frozen=True)
class PoolChanged:
    pool: PoolView
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class PoolList:
    pools: tuple[PoolView, ...]


@dataclass(frozen=True)
class PoolRemoved:
    name: str


@dataclass(frozen=True)
class ChangePool:
    """Add `members` to the pool `name` (creating it), or with `remove` take them out."""

    workspace: str
    actor: str | None
    name: str
    members: tuple[str, ...]  # handles
    remove: bool = False


def _view(session: Session, pool: Pool) -> PoolView:
    return PoolView(pool.name, tuple(p.name for p in store.members_of(session, pool)))


def change_pool(ctx: Context, cmd: ChangePool) -> PoolChanged:
    refresh_named(ctx, cmd.workspace, cmd.actor, cmd.members, Role.hr, ACTION)
    with ctx.unit_of_work(cmd.workspace) as uow:
        acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, ACTION)
        people = [person(ctx, uow.session, cmd.workspace, handle) for handle in cmd.members]
        if cmd.remove:
            gone = store.remove_members(uow.session, cmd.workspace, cmd.name, people)
            pool = store.get_pool(uow.session, cmd.workspace, cmd.name)
            result = PoolChanged(_view(uow.session, pool), removed=tuple(p.name for p in gone))
        else:
            pool, added = store.add_members(uow.session, cmd.workspace, cmd.name, people)
            result = PoolChanged(_view(uow.session, pool), added=tuple(p.name for p in added))
        return uow.done(result)


def list_pools(ctx: Context, workspace: str, actor: str | None) -> PoolList:
    refresh_profiles(ctx, workspace, [actor])
    with ctx.unit_of_work(workspace) as uow:
        acting(ctx, uow.session, workspace, actor, Role.hr, ACTION)
        result = PoolList(tuple(_view(uow.session, p) for p in store.list_pools(uow.session, workspace)))
        return uow.done(result)


def remove_pool(ctx: Context, workspace: str, actor: str | None, name: str) -> PoolRemoved:
    refresh_profiles(ctx, workspace, [actor])
    with ctx.unit_of_work(workspace) as uow:
        acting(ctx, uow.session, workspace, actor, Role.hr, ACTION)
        result = PoolRemoved(store.remove_pool(uow.session, workspace, name))
        return uow.done(result)
