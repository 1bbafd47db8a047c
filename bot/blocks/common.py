"""Shared pieces, escaping, and Slack's size limits per surface.

Anything a person typed or Slack's profile holds (names, template names, calendar labels,
echoed input, error messages that quote them) goes through `esc` before it is put into
mrkdwn, so `<!channel>` or `<http://…|text>` in a display name stays text. Plain-text fields
(headers, buttons, options, titles) are not parsed by Slack and stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

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


def mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text))


def plain(text: str, limit: int = MAX_TEXT) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit), emoji=True)


def section(text: str, **kwargs: object) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text), **kwargs)


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=plain(text, MAX_HEADER))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(text)])


def divider() -> DividerBlock:
    return DividerBlock()


def to_dicts(blocks: Iterable[Block], limit: int = VIEW_BLOCKS) -> list[dict]:
    out = [b.to_dict() for b in blocks]
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
