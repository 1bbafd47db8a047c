"""Block Kit builders: slack_sdk block models in, plain dicts out (what the Web API takes)."""
