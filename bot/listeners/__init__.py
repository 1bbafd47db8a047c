"""Bolt listeners, one module per surface; each exposes `register(app, ctx)`."""

from __future__ import annotations

from slack_bolt import App

from bot.context import BotContext


def register_all(app: App, ctx: BotContext) -> None:
    from bot.listeners import admin, availability, booking, home, interview

    for module in (availability, interview, booking, admin, home):
        module.register(app, ctx)
