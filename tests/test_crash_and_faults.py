"""Real processes, real faults, counted: nothing acknowledged is lost, nothing is sent twice
(tests/fault_scenarios.py; bench/bench_faults.py runs the same scenarios bigger)."""

from __future__ import annotations

import pytest

from tests.fault_scenarios import crash_mid_burst, reminders_through_faults


@pytest.mark.slow
def test_sigkill_mid_burst_of_book_clicks_loses_and_doubles_nothing(db_url: str) -> None:
    tally = crash_mid_burst(db_url, clicks=24, kill_after_acks=8)
    assert tally.acked >= 8, tally
    assert tally.attempts > tally.acked, tally  # the kill really cut the burst
    assert tally.lost == 0 and tally.duplicated == 0, tally
    assert tally.answered == tally.finished == tally.acked, tally


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["lose_reply", "slow_reply", "retry_after"])
def test_two_workers_through_lost_and_late_replies_and_long_retry_after_send_each_reminder_once(
        db_url: str, fault: str) -> None:
    tally = reminders_through_faults(db_url, fault, reminders=4, retry_after_s=12)
    assert tally.lost == 0 and tally.duplicated == 0, tally
    # an unknown outcome is looked up before any retry; a refused one (429) needs no lookup
    assert (tally.looked_up == 0) if fault == "retry_after" else (tally.looked_up > 0), tally
