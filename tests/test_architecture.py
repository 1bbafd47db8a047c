"""Dependencies point one way: bot (Slack) → bot.usecases (the application) → storage →
scheduling. Checked on the source, so a stray import fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SLACK_SIDE = ("slack_sdk", "slack_bolt", "bot.app", "bot.blocks", "bot.directory", "bot.jobs", "bot.listeners",
              "bot.messenger", "bot.render", "bot.runtime", "bot.slack_client", "bot.cli", "bot.commands", "bot.demo", "bot.report")


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def _offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{file} imports {name}" for file, names in _imports(package).items() for name in sorted(names)
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


@pytest.mark.parametrize(("package", "forbidden"), [
    ("scheduling", ("storage", "bot", "sqlalchemy", "slack_sdk", "slack_bolt")),
    ("storage", ("bot", "slack_sdk", "slack_bolt")),
    ("bot.usecases", SLACK_SIDE),
])
def test_dependencies_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    assert _offending(package, forbidden) == []
