"""Pure scheduling core: interval algebra, availability text, zones, slot search.

No Slack, no SQL, no clock reads: callers pass `now`.
"""
