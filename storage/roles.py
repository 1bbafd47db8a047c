"""What a person may be in a workspace (its own module: the command line's parser names the
roles without loading the database layer)."""

import enum


class Role(enum.StrEnum):
    candidate = "candidate"
    interviewer = "interviewer"
    hr = "hr"
