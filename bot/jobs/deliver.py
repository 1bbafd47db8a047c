"""Delivering to Slack exactly once: DMs (with an attachment) and answers to the asker.

Slack cannot be asked "did you get my message?" for a request whose reply was lost, so each
DM carries the delivery's id in its message `metadata`, and every step is recorded in the
job's progress *before* it is tried: an attempt that finds "posting" in the progress (an
earlier one was cut off: dropped reply, timeout, crash) first looks for its message in the
DM's history and only posts if it is not there. Files are shared the same way: the upload is
invisible until completed, and before completing again the history is searched for the file.

Answers through a `response_url` or as an ephemeral message cannot be looked up: after an
unknown outcome (a lost reply, a timeout, a crash mid-send) such an answer may be shown twice;
a button's answer uses `replace_original`, so there a repeat only redraws it.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session

from bot.blocks.common import clip, esc, text_blocks
from bot.jobs.runner import PERMANENT_SLACK_ERRORS, GiveUp, JobRun, Retry, is_transient, retry_after
from storage import jobs

log = logging.getLogger(__name__)
METADATA_TYPE = "interview_bot_delivery"
HISTORY_PAGES = 5  # a DM with this bot rarely holds more than a few messages per minute
HISTORY_MARGIN_S = 60.0  # Slack's clock and ours may differ: history is searched from earlier
DM_FALLBACK = ("channel_not_found", "not_in_channel", "user_not_in_channel", "not_found", "expired_trigger_id")


def _slack_call(call: Callable[[], Any], *, may_have_happened: bool) -> Any:
    """One Web API call, its failure turned into Retry/GiveUp. `may_have_happened`: a call with
    an effect (posting), whose outcome is unknown when the reply is lost or is a 5xx."""
    try:
        return call()
    except SlackApiError as err:
        error = err.response.get("error") or f"HTTP {err.response.status_code}"
        if err.response.status_code == 429:
            raise Retry(error, after=retry_after(err)) from None
        if err.response.status_code >= 500:
            raise Retry(error, unknown=may_have_happened) from None
        if error in PERMANENT_SLACK_ERRORS:
            raise GiveUp(f"Slack refused: {error}") from None
        raise Retry(error) from None
    except Exception as err:
        if is_transient(err):
            raise Retry(f"{type(err).__name__}: {err}", unknown=may_have_happened) from None
        raise


def open_dm(run: JobRun, client: WebClient, user: str) -> str:
    """The DM channel with `user` (remembered in the progress)."""
    channel = run.progress.get("channel")
    if channel is None:
        channel = _slack_call(lambda: client.conversations_open(users=user), may_have_happened=False)["channel"]["id"]
        run.save(channel=channel)
    return channel


def _history(client: WebClient, channel: str, since: float, match: Callable[[dict], bool]) -> dict | None:
    cursor = None
    for _ in range(HISTORY_PAGES):
        page = _slack_call(partial(client.conversations_history, channel=channel, oldest=f"{since:.6f}", limit=200,
                                   include_all_metadata=True, cursor=cursor), may_have_happened=False)
        for message in page.get("messages", []):
            if match(message):
                return message
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return None
    return None


def post_once(run: JobRun, client: WebClient, user: str, message: dict[str, Any], step: str = "post") -> str:
    """DM `message` to `user` exactly once across attempts; returns its ts.

    It is posted to the user id (Slack delivers that to the DM, and says which channel that
    is); only after an unknown outcome is the DM opened, to look in its history.
    """
    if ts := run.progress.get(f"{step}_ts"):
        return ts
    delivery_id = f"job-{run.job_id}-{step}"
    if (since := run.progress.get(f"{step}_posting")) is not None:
        found = _history(client, open_dm(run, client, user), since, lambda m: (m.get("metadata") or {}).get(
            "event_payload", {}).get("delivery_id") == delivery_id)
        if found is not None:
            log.info("job %s: message already in the DM (ts %s); not posting again", run.job_id, found["ts"])
            run.save(**{f"{step}_ts": found["ts"]})
            return found["ts"]
    run.save(**{f"{step}_posting": time.time() - HISTORY_MARGIN_S})
    try:
        answer = _slack_call(lambda: client.chat_postMessage(
            channel=run.progress.get("channel") or user, text=message["text"], blocks=message.get("blocks"),
            metadata={"event_type": METADATA_TYPE, "event_payload": {"delivery_id": delivery_id}},
        ), may_have_happened=True)
    except Retry as err:
        if not err.unknown:  # Slack said no (e.g. 429): nothing was posted, the retry need not look
            run.progress.pop(f"{step}_posting", None)
        raise
    # Kept with the next save or the completion: until then, "posting" makes a retry look first.
    run.progress.update({f"{step}_ts": answer["ts"], "channel": answer.get("channel") or run.progress.get("channel")})
    return answer["ts"]


def share_file_once(run: JobRun, client: WebClient, channel: str, file: dict[str, str]) -> None:
    """Share an attachment in `channel` exactly once (files.uploadV2's steps, resumable)."""
    if run.progress.get("file_shared"):
        return
    file_id = run.progress.get("file_id")
    if file_id is None:
        content = file["content"].encode()
        reserved = _slack_call(lambda: client.files_getUploadURLExternal(
            filename=file["filename"], length=len(content)), may_have_happened=False)
        _upload(reserved["upload_url"], content, client.timeout)
        file_id = reserved["file_id"]
        run.save(file_id=file_id)
    if (since := run.progress.get("file_sharing")) is not None and _history(
        client, channel, since, lambda m: any(f.get("id") == file_id for f in m.get("files") or [])
    ):
        run.save(file_shared=True)
        return
    run.save(file_sharing=time.time() - HISTORY_MARGIN_S)
    _slack_call(lambda: client.files_completeUploadExternal(
        files=[{"id": file_id, "title": file["title"]}], channel_id=channel), may_have_happened=True)
    run.save(file_shared=True)


def _upload(url: str, content: bytes, timeout: int) -> None:
    """Step 2 of files.uploadV2: the bytes to the URL Slack handed out (no effect until shared)."""
    request = urllib.request.Request(url, data=content, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except Exception as err:
        raise Retry(f"upload failed: {type(err).__name__}: {err}") from None


# -- job handlers ------------------------------------------------------------------------------


def deliver_dm(run: JobRun, bot: Any) -> None:
    """A notice to one person: the message, then its attachment; the watcher hears of trouble."""
    payload = run.payload
    client = bot.clients.delivery(run.workspace)
    try:
        post_once(run, client, payload["user"], payload)
        if payload.get("file"):
            share_file_once(run, client, run.progress.get("channel") or open_dm(run, client, payload["user"]),
                            payload["file"])
    except Retry:
        if payload.get("watcher") and not run.progress.get("watcher_told"):
            _tell_watcher(run, bot, f":hourglass: Slack is not delivering right now: {_name(payload)} has not "
                                    "been told yet. I keep trying and will let you know.", watcher_told=True)
        raise
    if run.progress.get("watcher_told") and not run.progress.get("watcher_relieved"):
        _tell_watcher(run, bot, f":white_check_mark: {_name(payload)} has now been told.", watcher_relieved=True)


def dm_gave_up(run: JobRun, bot: Any, session: Session, reason: str) -> None:
    if run.payload.get("watcher"):
        defer_note(session, run.workspace, run.payload["watcher"], bot.job_clock(),
                   f":warning: Could not notify {_name(run.payload)}: {esc(reason)}.")


def _name(payload: dict[str, Any]) -> str:
    return esc(payload.get("name") or payload["user"])


def _tell_watcher(run: JobRun, bot: Any, text: str, **progress: Any) -> None:
    """Note to the watcher and the progress that says so, in one transaction (told once)."""
    run.progress.update(progress)
    with bot.ctx.db.unit_of_work() as uow:
        defer_note(uow.session, run.workspace, run.payload["watcher"], bot.job_clock(), text)
        if not jobs.save_progress(uow.session, run.job_id, run.worker, run.progress):
            return
        uow.commit()


def defer_note(session: Session, workspace: str | None, user: str, now: Any, text: str) -> None:
    """A plain DM (mrkdwn already escaped) with no watcher of its own: trouble with it is only
    logged, so notes about notes cannot pile up."""
    jobs.defer(session, kind="slack.dm", workspace_id=workspace, run_at=now,
               payload={"user": user, "text": text, "blocks": text_blocks(text)})


def deliver_reply(run: JobRun, bot: Any) -> None:
    """The answer to whoever asked, where they asked; a DM when that place is gone."""
    target, payload, workspace = run.payload["target"], run.payload, run.workspace
    if workspace is None:
        raise GiveUp("the reply names no workspace")
    kind, user = target["kind"], target["user"]
    if kind == "response_url":
        if not _respond(target, payload):
            _dm_copy(run, bot, user)
    elif kind == "view":
        if not _update_view(bot, workspace, target["view_id"], payload["view"]) or target.get("dm_copy"):
            _dm_copy(run, bot, user)
    elif kind == "ephemeral":
        if not _ephemeral(bot, workspace, target["channel"], user, payload):
            _dm_copy(run, bot, user)
    elif kind == "home":
        web = bot.clients.web(workspace)
        _slack_call(lambda: web.views_publish(user_id=user, view=payload["view"]), may_have_happened=False)
    else:
        _dm_copy(run, bot, user)


def reply_gave_up(run: JobRun, bot: Any, session: Session, reason: str) -> None:
    """An answer Slack refused (too big, invalid) or that could not be delivered in time: the
    asker hears so in a DM, instead of waiting for nothing."""
    target = run.payload["target"]
    if target["kind"] != "home":  # the Home tab is redrawn, not awaited
        defer_note(session, run.workspace, target["user"], bot.job_clock(),
                   f":warning: Sorry, I could not show you my answer ({esc(clip(reason, 300))}). Please try again "
                   f"(reference: job {run.job_id}).")


def _dm_copy(run: JobRun, bot: Any, user: str) -> None:
    post_once(run, bot.clients.delivery(run.workspace), user, run.payload, step="dm")


def _respond(target: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Post to the response_url; False when it can no longer be used (expired, used up)."""
    hook = WebhookClient(target["url"], timeout=10, retry_handlers=[])
    try:
        response = hook.send(text=payload["text"], blocks=payload.get("blocks"), response_type="ephemeral",
                             replace_original=bool(target.get("replace")))
    except Exception as err:
        if is_transient(err):
            raise Retry(f"response_url: {type(err).__name__}: {err}", unknown=True) from None
        raise
    if response.status_code == 200:
        return True
    if response.status_code in (404, 410) or "expired" in (response.body or "") or "used_url" in (response.body or ""):
        return False
    if response.status_code == 429 or response.status_code >= 500:
        raise Retry(f"response_url answered HTTP {response.status_code}", unknown=response.status_code >= 500)
    raise GiveUp(f"response_url refused the answer: HTTP {response.status_code} {response.body}")


def _unless_gone(call: Callable[[], Any], *, may_have_happened: bool) -> bool:
    """Make the call; False when its place is gone (the modal closed, not in the channel)."""
    try:
        _slack_call(call, may_have_happened=may_have_happened)
    except GiveUp:
        return False
    except Retry as err:
        if str(err) in DM_FALLBACK:
            return False
        raise
    return True


def _update_view(bot: Any, workspace: str, view_id: str, view: dict[str, Any]) -> bool:
    web = bot.clients.web(workspace)
    return _unless_gone(lambda: web.views_update(view_id=view_id, view=view), may_have_happened=False)


def _ephemeral(bot: Any, workspace: str, channel: str, user: str, payload: dict[str, Any]) -> bool:
    if channel.startswith("D"):
        return False  # in a DM an ephemeral is pointless: the DM copy is the answer
    client = bot.clients.delivery(workspace)
    return _unless_gone(lambda: client.chat_postEphemeral(channel=channel, user=user, text=payload["text"],
                                                          blocks=payload.get("blocks")), may_have_happened=True)
