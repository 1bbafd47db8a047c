"""The application layer: one function per use case.

Each takes a small request dataclass, opens the unit of work, calls storage and the core,
records its side effects (answers, notices, reminders) as durable jobs in the same
transaction, commits, and returns a plain result. Slack listeners, the CLI and the demo only
parse, call and render. Nothing here imports Slack: answers and notices leave through the
`Messenger` port, profiles come in through the `Directory` port (`context.py`).

Where things are: `people` (register, roles, approvals), `availability`, `calendars`,
`search`, `booking` (book, cancel, reschedule, grade, list, mark interviews completed),
`offers` (offer, pick, offer expiry), `templates` (single and loop templates), `pools`,
`pool_search`, `loops` (a loop template's options, booking one), `home`.
"""
