"""Bolt listeners, one module per surface, each a named module-level callback that records
the request and acks (bot.listeners.requests); the routes they name run later, in a job."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.blocks import interviews as interview_ui
from bot.blocks import pool_slots as pool_slots_ui
from bot.blocks import slots as slots_ui
from bot.blocks.availability import CALLBACK as AVAILABILITY_FORM
from bot.listeners import admin, availability, booking, home, interview, messages
from bot.listeners.requests import Route


def register_all(app: App) -> None:
    app.command("/availability")(availability.availability_command)
    app.view(AVAILABILITY_FORM)(availability.form_submitted)
    app.command("/interview")(interview.interview_command)
    app.options(slots_ui.CANDIDATE)(interview.candidate_options)
    app.options(slots_ui.INTERVIEWERS)(interview.interviewer_options)
    app.view(slots_ui.SEARCH_CALLBACK)(interview.search_submitted)
    app.action(re.compile(f"^{slots_ui.PAGE_ACTION}_(prev|next)$"))(interview.page_clicked)
    app.action(slots_ui.BOOK_ACTION)(booking.book_clicked)
    app.action(pool_slots_ui.SWAP_ACTION)(booking.swap_picked)
    app.action(interview_ui.CANCEL_ACTION)(booking.cancel_clicked)
    app.action(interview_ui.RESCHEDULE_ACTION)(booking.reschedule_clicked)
    app.action(re.compile(f"^{interview_ui.MOVE_ACTION}_\\d+$"))(booking.move_clicked)
    app.action(re.compile(f"^{interview_ui.GRADE_ACTION}_\\d$"))(booking.grade_clicked)
    app.action(re.compile(f"^{interview_ui.OFFER_PICK_ACTION}_\\d+$"))(booking.pick_clicked)
    app.command("/interview-admin")(admin.admin_command)
    app.command("/interview-register")(admin.register_command)
    app.event("app_home_opened")(home.home_opened)
    app.event("message")(messages.direct_message)


ROUTES: dict[str, Route] = {**availability.ROUTES, **interview.ROUTES, **booking.ROUTES, **admin.ROUTES,
                            **home.ROUTES, **messages.ROUTES}
