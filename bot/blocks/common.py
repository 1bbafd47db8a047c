"""Shared pieces, escaping, and Slack's size limits per surface.

Message blocks are built as plain dicts (the Web API's own shape): slack_sdk's block models
re-validate every attribute on the way to JSON, which cost more than the search behind a slot
list. The tests' fake Slack still validates everything sent against those models and Slack's
limits. Forms (modals with inputs) are built with the models.

Anything a person typed or Slack's profile holds (names, template names, calendar labels,
echoed input, error messages that quote them) goes through `esc` before it is put into
mrkdwn, so `<!channel>` or `<http://…|text>` in a display name stays text. Plain-text fields
(headers, buttons, options, titles) are not parsed by Slack and stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import Block, PlainTextObject

BlockDict = dict[str, Any]

MESSAGE_BLOCKS = 50  # chat.postMessage, response_url, ephemeral
VIEW_BLOCKS = 100  # modals and the Home tab
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75


def esc(text: str) -> str:
    """Escape text for mrkdwn: Slack's three control characters, nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = MAX_TEXT) -> PlainTextObject:
    """Plain text for the form models."""
    return PlainTextObject(text=clip(text, limit), emoji=True)


def plain_text(text: str, limit: int = MAX_TEXT) -> BlockDict:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn(text: str) -> BlockDict:
    return {"type": "mrkdwn", "text": clip(text)}


def section(text: str, accessory: BlockDict | None = None) -> BlockDict:
    block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def header(text: str) -> BlockDict:
    return {"type": "header", "text": plain_text(text, MAX_HEADER)}


def context(text: str) -> BlockDict:
    return {"type": "context", "elements": [mrkdwn(text)]}


def divider() -> BlockDict:
    return {"type": "divider"}


def button(action_id: str, text: str, value: str, *, style: str | None = None,
           confirm: BlockDict | None = None) -> BlockDict:
    element = {"type": "button", "action_id": action_id, "text": plain_text(text, 75), "value": value}
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm(title: str, text: str, yes: str, no: str) -> BlockDict:
    return {"title": plain_text(title, 100), "text": plain_text(text, 300), "confirm": plain_text(yes, 30),
            "deny": plain_text(no, 30)}


def actions(block_id: str, elements: list[BlockDict]) -> BlockDict:
    return {"type": "actions", "block_id": block_id, "elements": elements}


def to_dicts(blocks: Iterable[Block | BlockDict], limit: int = VIEW_BLOCKS) -> list[dict]:
    out = [b if isinstance(b, dict) else b.to_dict() for b in blocks]
    if len(out) > limit:
        raise ValueError(f"{len(out)} blocks exceed Slack's limit of {limit}")
    return out


def bullet_chunks(lines: Sequence[str], limit: int = MAX_TEXT) -> list[str]:
    """Join lines into as few texts as fit Slack's per-text limit."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            chunks.append(current)
            current = clip(line, limit)
        else:
            current = clip(candidate, limit)
    if current:
        chunks.append(current)
    return chunks


def error_text(message: str, example: str | None = None) -> str:
    text = f":warning: {esc(message)}"
    if example:
        text += f"\nFor example: `{esc(example)}`"
    return text


def text_blocks(text: str) -> list[dict]:
    """One section of mrkdwn the caller has already escaped."""
    return to_dicts([section(text)])
