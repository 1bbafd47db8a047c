"""Shared pieces and Slack's size limits."""

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

MAX_BLOCKS = 100
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_TITLE = 24


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


def to_dicts(blocks: Iterable[Block]) -> list[dict]:
    out = [b.to_dict() for b in blocks]
    if len(out) > MAX_BLOCKS:
        raise ValueError(f"{len(out)} blocks exceed Slack's limit of {MAX_BLOCKS}")
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


def error_blocks(message: str, example: str | None = None) -> list[dict]:
    text = f":warning: {message}"
    if example:
        text += f"\nFor example: `{example}`"
    return to_dicts([section(text)])


def text_blocks(text: str) -> list[dict]:
    return to_dicts([section(text)])
